"""Pure: which open matters a Visa Bulletin moved, by priority date, category and chargeability."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from ..models import Change, Matter

AREAS = {"CHINA", "INDIA", "MEXICO", "PHILIPPINES"}


@dataclass(frozen=True)
class BulletinImpact:
    became_current: tuple[str, ...]  # matter references
    fell_behind: tuple[str, ...]


def _is_current(priority_date: str, cutoff: str) -> bool:
    return cutoff == "CURRENT" or (cutoff != "UNAVAILABLE" and priority_date < cutoff)


def bulletin_impact(change: Change, matters: Sequence[Matter]) -> BulletinImpact:
    """Against the Final Action Dates charts: a matter is current when its priority date is before the cutoff."""
    moved = {(r["chart"], r["category"], r["area"]): r for r in change.facts.get("movement") or []}
    became, behind = [], []
    for matter in matters:
        if not (matter.priority_date and matter.category):
            continue
        category = matter.category.upper().replace(" ", "")
        chart = "family_final_action" if category.startswith("F") else "employment_final_action"
        area = matter.country if matter.country in AREAS else "ALL"
        row = moved.get((chart, category, area))
        if row is None:
            continue
        before, after = _is_current(matter.priority_date, row["from"]), _is_current(matter.priority_date, row["to"])
        if after and not before:
            became.append(matter.ref)
        elif before and not after:
            behind.append(matter.ref)
    return BulletinImpact(tuple(became), tuple(behind))
