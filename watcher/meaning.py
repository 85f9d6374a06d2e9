"""What a change means to a lawyer, apart from how it is spelled. Pure.

A version's identity and its "changed" test use normalized content: a canonical URL (scheme and host case,
default port, tracking parameters, trailing slash), text without markup or whitespace differences, facts compared
field by field. Which fields matter to a lawyer, per source kind, is the one table `LAWYER_FIELDS`: a change in one
of them is an update worth an alert ("Effective: 2026-02-01 -> 2026-03-01"); any other change (a link that moved
host, a reworded teaser, a new tracking parameter) is stored as a version and never alerted.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any, Mapping
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

_TAG = re.compile(r"<[^>]{0,500}>")
_SPACE = re.compile(r"\s+")
_TRACKING = re.compile(r"^(utm_\w+|fbclid|gclid|dclid|msclkid|mc_cid|mc_eid|_ga|_gl|igshid|ref_src|cmpid|"
                       r"source|sc_cid|trk|trkid)$", re.IGNORECASE)
_DEFAULT_PORTS = {"http": 80, "https": 443}
# Typographic variants that carry no meaning: curly quotes, dashes, the non-breaking space.
_TYPOGRAPHY = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-",
                             "\u2014": "-", "\u2011": "-", "\u00a0": " "})

# The fields whose change a lawyer acts on, per source kind ("*" for any kind not listed). "title" and "summary" are
# the item's own; every other name is a fact. The link is never one: where a page lives is not what it says.
_FR = ("title", "summary", "type", "action", "effective_on", "comments_close_on", "cfr_references", "citation")
LAWYER_FIELDS: Mapping[str, tuple[str, ...]] = {
    "*": ("title", "summary", "effective_on", "comments_close_on"),
    # A Federal Register document's citation arrives when it publishes: the update after public inspection.
    "rule": _FR,
    "proposed_rule": _FR,
    "notice": _FR,
    # What a proclamation restricts is read from its text (the White House's post): a reworded restriction is news.
    "presidential_document": _FR + ("restricts",),
    "document": ("title", "summary", "type", "action", "effective_on", "comments_close_on", "citation"),
    "visa_bulletin": ("cells",),
    "chart_choice": ("family", "employment"),
    "precedent": ("title", "summary", "citation"),
    "court_opinion": ("title", "citation", "docket"),
    "policy_alert": ("title", "summary", "affected_sections"),
    "technical_update": ("title", "summary", "affected_sections"),
    # An EOIR memorandum's list line: its subject is all the list says (what it cancels is read from it).
    "eoir_policy_memo": ("title",),
}
LABELS = {"title": "Title", "summary": "Summary", "effective_on": "Effective", "comments_close_on": "Comments close",
          "type": "Document type", "action": "Action", "cfr_references": "CFR parts", "citation": "Citation",
          "docket": "Docket", "affected_sections": "Policy Manual sections", "cells": "Cut-off dates",
          "family": "Family-sponsored chart", "employment": "Employment-based chart",
          "restricts": "What it restricts"}


@dataclass(frozen=True)
class FieldChange:
    field: str
    was: str
    now: str

    def line(self) -> str:
        return f"{LABELS.get(self.field, self.field)}: {self.was or '(none)'} -> {self.now or '(none)'}"


def canonical_url(url: str | None) -> str:
    """One spelling per address: lower-case scheme and host, no default port, no tracking parameters, no fragment,
    no trailing slash (except the root)."""
    url = (url or "").strip()
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return url
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower().rstrip(".")
    if not scheme or not host:
        return url
    netloc = host if port in (None, _DEFAULT_PORTS.get(scheme)) else f"{host}:{port}"
    query = urlencode(sorted((k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
                             if not _TRACKING.match(k)))
    path = parts.path.rstrip("/") or "/"
    return urlunsplit((scheme, netloc, path, query, ""))


def plain(text: Any) -> str:
    """Text as a reader sees it: no markup, one space between words, typographic variants folded."""
    text = unicodedata.normalize("NFKC", str(text or "")).translate(_TYPOGRAPHY)
    return _SPACE.sub(" ", _TAG.sub(" ", text)).strip()


def comparable(value: Any) -> Any:
    """A field's value with spelling differences removed, for comparison only."""
    if isinstance(value, str):
        return plain(value)
    if isinstance(value, Mapping):
        return {k: comparable(v) for k, v in sorted(value.items())}
    if isinstance(value, (list, tuple)):
        return [comparable(v) for v in value]
    return value


def meaning(title: str, summary: str, url: str, facts: Mapping[str, Any]) -> list:
    """What a version's content hash covers: the normalized content, so a respelling is not a new version."""
    return [plain(title), plain(summary), canonical_url(url), comparable(dict(facts))]


def lawyer_changes(kind: str, was: Mapping[str, Any], now: Mapping[str, Any]) -> tuple[FieldChange, ...]:
    """The lawyer-relevant fields whose meaning differs between two versions (each given as title, summary and
    facts in one mapping), in the table's order."""
    changes = []
    for name in LAWYER_FIELDS.get(kind, LAWYER_FIELDS["*"]):
        if name not in was:
            continue  # a field the stored version was never read with (an older parser): not news about the item
        before, after = was.get(name), now.get(name)
        if comparable(before) == comparable(after):
            continue
        if name == "cells":
            changes += _cell_changes(before or [], after or [])
        else:
            changes.append(FieldChange(name, _show(before), _show(after)))
    return tuple(changes)


def _show(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return ", ".join(_show(v) for v in value)
    if isinstance(value, Mapping):
        return str(value.get("citation") or value.get("title") or value)
    text = plain(value)
    return text if len(text) <= 300 else text[:299] + "…"


def _cell_changes(before, after) -> list[FieldChange]:
    """A revised bulletin: each cell whose cut-off changed, as its own "was -> now"."""
    old = {(c.get("chart"), c.get("category"), c.get("area")): c.get("value") for c in before}
    out = []
    for cell in after:
        key = (cell.get("chart"), cell.get("category"), cell.get("area"))
        if key in old and old[key] != cell.get("value"):
            chart = str(key[0]).replace("_", " ")
            out.append(FieldChange("cells", f"{chart} {key[1]} {key[2]}: {old[key]}", str(cell.get("value"))))
    return out or [FieldChange("cells", "cut-off dates", "revised")]
