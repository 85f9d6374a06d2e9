"""Pure: the words an attorney reads first. What kind of document from which agency, what it says in its own first
sentences, and the dates that matter with the days left. Nothing here is invented: every phrase comes from the
item's own fields.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Mapping

from ..meaning import plain

USCIS = "U.S. Citizenship and Immigration Services"
_KINDS = {
    "alert": ("USCIS alert", USCIS), "news_release": ("USCIS news release", USCIS),
    "news": ("USCIS news item", USCIS), "fact_sheet": ("USCIS fact sheet", USCIS),
    "stakeholder_message": ("USCIS stakeholder message", USCIS), "form_update": ("USCIS form update", USCIS),
    "forms": ("USCIS form update", USCIS),
    "policy_alert": ("USCIS Policy Manual policy alert", USCIS),
    "technical_update": ("USCIS Policy Manual technical update", USCIS),
    "visa_bulletin": ("Visa Bulletin", "U.S. Department of State"),
    "chart_choice": ("USCIS adjustment of status filing charts", USCIS),
    "visa_news": ("State Department visa news", "U.S. Department of State"),
    "oflc_announcement": ("OFLC announcement", "U.S. Department of Labor, Office of Foreign Labor Certification"),
    "sevp_news": ("SEVP news (Study in the States)", "Student and Exchange Visitor Program"),
    "sevp_broadcast": ("SEVP broadcast message", "Student and Exchange Visitor Program"),
    "court_status": ("immigration court operational status notice", "Executive Office for Immigration Review"),
}
_MEMOS = {"PM": "EOIR policy memorandum", "DM": "EOIR Director's memorandum", "OPPM": "EOIR operating policy memorandum"}
# What a document does to earlier ones or to entry, each read from its own words by its source's parser.
_OPERATIVE = (("presidential_document", "restricts", "What it restricts"),
              ("eoir_policy_memo", "cancels", "What it cancels"),
              ("eoir_policy_memo", "reinstates", "What it reinstates"),
              ("eoir_policy_memo", "amends", "What it amends"))
_FR_TYPES = {"Rule": "final rule", "Proposed Rule": "proposed rule", "Notice": "notice",
             "Presidential Document": "presidential document"}
_BODIES = {"BIA": "Board of Immigration Appeals", "AG": "Attorney General", "DIR": "EOIR Director"}
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'(])")
_ABBREVIATION = re.compile(r"\b(?:U\.S|No|Nos|Sec|Fed|Reg|Inc|Dept|Gov|Mr|Ms|Dr|v|vs|e\.g|i\.e|etc|Jan|Feb|Mar|Apr|"
                           r"Jun|Jul|Aug|Sept?|Oct|Nov|Dec)\.$", re.IGNORECASE)


@dataclass(frozen=True)
class KeyDate:
    label: str
    day: str            # YYYY-MM-DD
    days_left: int | None

    def text(self) -> str:
        if self.days_left is None:
            return f"{self.label}: {self.day}"
        if self.days_left > 1:
            return f"{self.label}: {self.day} (in {self.days_left} days)"
        if self.days_left == 1:
            return f"{self.label}: {self.day} (tomorrow)"
        if self.days_left == 0:
            return f"{self.label}: {self.day} (today)"
        if self.days_left == -1:
            return f"{self.label}: {self.day} (yesterday)"
        return f"{self.label}: {self.day} ({-self.days_left} days ago)"


def describe(kind: str, facts: Mapping) -> tuple[str, str]:
    """(document type, agency): "final rule", "U.S. Citizenship and Immigration Services"."""
    if facts.get("presidential_document_type") or facts.get("type") == "Presidential Document":
        kind = str(facts.get("presidential_document_type") or "document").lower()
        published = facts.get("published_as") if isinstance(facts.get("published_as"), Mapping) else {}
        number = facts.get("presidential_number") or published.get("presidential_number")
        number = f" {number}" if number else ""
        signed = f", signed {facts['signing_date']}" if facts.get("signing_date") else \
            f", posted {facts['posted_on']}" if facts.get("posted_on") else ""
        issuer = "Federal Register" if facts.get("document_number") else str(facts.get("issuer") or "White House")
        cited = f"; {published['citation']}" if published.get("citation") else ""
        return f"Presidential {kind}{number}{signed}", f"The President ({issuer}{cited})"
    if facts.get("document_number"):  # a Federal Register document
        action = str(facts.get("action") or "")
        doc_type = next((t for t in ("interim final rule", "temporary final rule", "direct final rule")
                         if t in action.lower()), _FR_TYPES.get(str(facts.get("type")), "document"))
        agencies = [a for a in facts.get("agencies") or [] if isinstance(a, str)]
        agency = "; ".join(agencies[:2]) or "Federal Register"
        if facts.get("public_inspection"):
            return f"Federal Register {doc_type} (on public inspection, publishes {facts.get('publishes_on')})", agency
        return f"Federal Register {doc_type}", agency
    if kind == "precedent":
        body = _BODIES.get(str(facts.get("body")), "Board of Immigration Appeals")
        return f"{body} precedent decision", "Executive Office for Immigration Review"
    if kind == "court_opinion":
        court = str(facts.get("court") or "")
        return ("U.S. Supreme Court opinion", "Supreme Court of the United States") if court == "scotus" else \
            ("court opinion", court or "federal court")
    if kind == "eoir_policy_memo":  # the title carries the number
        return _MEMOS.get(str(facts.get("number") or "").split(" ")[0], "EOIR memorandum"), \
            "Executive Office for Immigration Review"
    return _KINDS.get(kind, ("update", "source"))


def operative(change) -> list[tuple[str, str]]:
    """What the document suspends or restricts (a presidential action, in its own words) or which earlier memoranda
    it cancels, reinstates or amends (an EOIR memorandum): [("What it cancels", "DM 22-03")]."""
    lines = []
    named = change.facts.get("referenced") if isinstance(change.facts.get("referenced"), Mapping) else {}
    for kind, fact, label in _OPERATIVE:
        value = change.facts.get(fact) if change.kind == kind else None
        if isinstance(value, list):  # memoranda by number, with their subject where watcher stored them
            value = ", ".join(f"{v} ({plain(named[v])})" if named.get(v) else v for v in value if isinstance(v, str))
        if isinstance(value, str) and plain(value):
            lines.append((label, plain(value)))
    return lines


def gist(summary: str, sentences: int = 2, limit: int = 480) -> str:
    """The item's own first sentences (an abstract's or a teaser's), never a rewrite."""
    text = plain(summary)
    parts, taken = _SENTENCE_END.split(text), []
    for part in parts:
        if taken and _ABBREVIATION.search(taken[-1]):
            taken[-1] += " " + part  # "8 U.S.C. 1101" or "No. 22-58" did not end a sentence
            continue
        if len(taken) == sentences:
            break
        taken.append(part)
    out = " ".join(taken)
    return out if len(out) <= limit else out[: limit - 1].rsplit(" ", 1)[0] + "…"


def key_dates(facts: Mapping, today: date | None) -> list[KeyDate]:
    """Effective date, comment deadline and filing window close, with the days left when today is known."""
    out = []
    for key, label in (("effective_on", "Effective"), ("comments_close_on", "Comments close"),
                       ("filing_closes_on", "Filing window closes"), ("publishes_on", "Publishes")):
        value = facts.get(key)
        if not isinstance(value, str) or not value:
            continue
        try:
            days = (date.fromisoformat(value[:10]) - today).days if today else None
        except ValueError:
            days = None
        out.append(KeyDate(label, value[:10], days))
    return out
