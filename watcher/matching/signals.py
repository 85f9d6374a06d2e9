"""Explicit, kind-specific signals: facts a source already knows, which no text similarity should guess."""

from __future__ import annotations

import re
from typing import Iterable, Sequence

from ..config import CaseType
from ..models import Change, Match

# "12 USCIS-PM D.2": volume 12, part D, chapter 2.
_SECTION = re.compile(r"^(\d{1,2})\s+USCIS-PM\s+([A-Z])\b")


def bulletin_matches(change: Change) -> list[Match]:
    """A bulletin concerns the case types whose categories moved (all of them on a first bulletin)."""
    if change.kind == "chart_choice":  # which chart governs an I-485 filing this month: the adjustment team's news
        return [Match("I-485", 1.0, "bulletin", "USCIS names the Visa Bulletin chart adjustment applicants use")]
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


def manual_matches(change: Change, case_types: Sequence[CaseType]) -> list[Match]:
    """A Policy Manual alert concerns the case types whose volume, or volume and part, it changes.

    The manual binds the officers who adjudicate each filing, so a policy alert in the naturalization volume is
    news for every naturalization case, whatever its one-line summary says. A technical update says it changes
    no policy, and is left to the learned matcher.
    """
    if change.kind != "policy_alert":
        return []
    found: dict[str, Match] = {}
    for section in change.facts.get("affected_sections") or []:
        cited = _SECTION.match(str(section.get("citation") or ""))
        if cited is None:
            continue
        volume, part = cited.groups()
        where = str(section['citation']) + (f" ({section['title']})" if section.get("title") else "")
        for case_type in case_types:
            if volume in case_type.policy_manual or f"{volume} {part}" in case_type.policy_manual:
                found.setdefault(case_type.code, Match(case_type.code, 1.0, "policy manual",
                                                       f"a policy alert changing {where} of the USCIS Policy Manual"))
    return sorted(found.values(), key=lambda m: m.case_type)


def beside(explicit: list[Match], others: Iterable[Match]) -> list[Match]:
    """The explicit matches, and the others for the case types they do not already name; best first."""
    named = {m.case_type for m in explicit}
    return sorted(explicit + [m for m in others if m.case_type not in named], key=lambda m: (-m.score, m.case_type))
