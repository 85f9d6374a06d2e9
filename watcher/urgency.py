"""Urgency: a pure function of the change, its matches and the open caseload. Table-tested.

URGENT: something a case must act on now (a rule taking effect within 30 days, a bulletin retrogression or
an unavailable category). ACTION: something to prepare for (a final rule further out, a proposed rule whose
comment period is open, a precedent decision, a presidential proclamation or order, a Supreme Court ruling, a
policy alert, a termination or
injunction in the news). INFO: the rest. Many open matters of an affected case type raise the level by one.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from enum import IntEnum
from typing import Mapping, Sequence

from .models import Change, Match


class Urgency(IntEnum):
    INFO = 0
    ACTION = 1
    URGENT = 2


SOON = 30              # days: a rule taking effect within this is URGENT
MANY_MATTERS = 25      # open matters of an affected case type that raise the level by one
_DRAMATIC = re.compile(r"\b(final rule|interim final rule|terminat\w*|rescind\w*|rescission|vacat\w*|enjoin\w*|"
                       r"injunction|no grace period|takes? effect|effective (today|immediately))\b", re.IGNORECASE)


def _days_until(value: str | None, today: date) -> int | None:
    if not value:
        return None
    try:
        return (date.fromisoformat(value[:10]) - today).days
    except ValueError:
        return None


def base_urgency(change: Change, today: date) -> Urgency:
    facts = change.facts
    if change.kind == "visa_bulletin":
        moves = {row["movement"] for row in facts.get("movement") or []}
        if moves & {"retrogressed", "became_unavailable"}:
            return Urgency.URGENT
        return Urgency.ACTION if moves else Urgency.INFO
    if change.kind in ("precedent", "policy_alert", "presidential_document"):
        return Urgency.ACTION  # a proclamation or order on entry binds the agencies before any rule follows
    if change.kind == "court_opinion" and facts.get("court") == "scotus":
        return Urgency.ACTION  # binds every court and agency, as a precedent binds the immigration courts
    if change.kind == "rule":
        effective = _days_until(facts.get("effective_on"), today)
        return Urgency.URGENT if effective is not None and 0 <= effective <= SOON else Urgency.ACTION
    if change.kind == "proposed_rule":
        # An open comment period is a decision the firm has to make (comment or not) before a date.
        closes = _days_until(facts.get("comments_close_on"), today)
        return Urgency.ACTION if closes is not None and closes >= 0 else Urgency.INFO
    if _DRAMATIC.search(change.title):
        return Urgency.ACTION
    return Urgency.INFO


def urgency(change: Change, matches: Sequence[Match], open_matters: Mapping[str, int], now: datetime) -> Urgency:
    level = base_urgency(change, now.date())
    affected = max((open_matters.get(m.case_type, 0) for m in matches), default=0)
    if affected >= MANY_MATTERS:
        level = Urgency(min(level + 1, Urgency.URGENT))
    return level
