"""Explicit, kind-specific signals: facts a source already knows, which no text similarity should guess."""

from __future__ import annotations

from ..models import Change, Match


def bulletin_matches(change: Change) -> list[Match]:
    """A bulletin concerns the case types whose categories moved (all of them on a first bulletin)."""
    if change.kind != "visa_bulletin":
        return []
    rows = change.facts.get("movement") or change.facts.get("cells") or []
    categories = {row["category"] for row in rows}
    codes = {"CONSULAR": "immigrant-visa cutoff dates", "I-485": "final action dates govern adjustment"}
    if any(c.startswith("F") for c in categories):
        codes["I-130"] = "family-sponsored cutoffs"
    if any(c.startswith(("EB1", "EB2", "EB3", "EB4")) for c in categories):
        codes["PERM-I-140"] = "employment-based cutoffs"
    if any(c.startswith("EB5") for c in categories):
        codes["EB-5"] = "EB-5 cutoffs"
    moved = "moved" if change.facts.get("movement") else "published"
    return [Match(code, 1.0, "bulletin", f"Visa Bulletin {moved}: {why}") for code, why in sorted(codes.items())]
