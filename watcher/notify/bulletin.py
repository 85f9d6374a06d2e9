"""Pure: which open matters a Visa Bulletin moved, by priority date, category and chargeability, named.

A matter is current when its priority date is before the Final Action Date of its category and chargeability
(the chart USCIS and consulates act on); "C" is current for everyone, "U" for no one. Categories and countries
were normalized at import (caseload.py), so `EB-2`, `EB2` and `2nd` all meet the chart's EB2 row.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

from ..models import Change, Matter

AREAS = {"CHINA", "INDIA", "MEXICO", "PHILIPPINES"}
_AREA_NAMES = {"ALL": "all chargeability", "CHINA": "China", "INDIA": "India", "MEXICO": "Mexico",
               "PHILIPPINES": "Philippines"}


@dataclass(frozen=True)
class MatterMove:
    """One open matter whose standing the bulletin changed."""

    ref: str
    team: str
    category: str
    area: str
    priority_date: str
    movement: str      # became_current | retrogressed | became_unavailable
    cutoff: str        # the new Final Action Date (ISO date, CURRENT or UNAVAILABLE)
    was: str           # the previous one
    month: str         # the bulletin's month, YYYY-MM

    def line(self) -> str:
        label = _category_label(self.category)
        where = _AREA_NAMES.get(self.area, self.area.title())
        head = f"{self.ref} {label} {where} PD {self.priority_date}"
        if self.movement == "became_current":
            return f"{head}: current since {self.month} (cut-off {_cutoff(self.cutoff)}, was {_cutoff(self.was)})"
        if self.movement == "became_unavailable":
            return f"{head}: category unavailable from {self.month} (was {_cutoff(self.was)})"
        return f"{head}: no longer current from {self.month} (cut-off {_cutoff(self.cutoff)}, was {_cutoff(self.was)})"


@dataclass(frozen=True)
class BulletinImpact:
    moves: tuple[MatterMove, ...]
    compared_with: str | None  # the previous bulletin's month, YYYY-MM
    named: bool = True         # False: a target that gets counts, not matter references
    # Which chart USCIS says adjustment applicants use this month, per preference system (uscis_chart_choice):
    # (("family", "Dates for Filing"), ("employment", "Final Action Dates")); empty when not known yet.
    adjustment: tuple[tuple[str, str], ...] = ()

    def adjustment_line(self) -> str | None:
        if not self.adjustment:
            return None
        said = "; ".join(f"{'family-sponsored' if system == 'family' else 'employment-based'} categories use the "
                         f"{chart} chart" for system, chart in self.adjustment)
        return f"Adjustment of status this month (USCIS): {said}."

    @property
    def became_current(self) -> tuple[str, ...]:
        return tuple(m.ref for m in self.moves if m.movement == "became_current")

    @property
    def fell_behind(self) -> tuple[str, ...]:
        return tuple(m.ref for m in self.moves if m.movement != "became_current")

    def by_team(self) -> dict[str, list[MatterMove]]:
        teams: dict[str, list[MatterMove]] = {}
        for move in self.moves:
            teams.setdefault(move.team, []).append(move)
        return teams


def _category_label(category: str) -> str:
    return f"EB-{category[2:]}" if category.startswith("EB") else category


def _cutoff(value: str) -> str:
    return {"CURRENT": "C (current)", "UNAVAILABLE": "U (unavailable)"}.get(value, value)


def _is_current(priority_date: str, cutoff: str) -> bool:
    return cutoff == "CURRENT" or (cutoff != "UNAVAILABLE" and priority_date < cutoff)


def bulletin_impact(change: Change, matters: Sequence[Matter], charts: Mapping | None = None) -> BulletinImpact:
    """Against the Final Action Dates charts, each matter whose standing moved, named by its reference; `charts`:
    the facts of USCIS's chart choice for the bulletin's month, when stored."""
    moved = {(r["chart"], r["category"], r["area"]): r for r in change.facts.get("movement") or []}
    month = str(change.facts.get("month") or change.item_key)
    moves = []
    for matter in matters:
        if not (matter.priority_date and matter.category):
            continue
        chart = "family_final_action" if matter.category.startswith("F") else "employment_final_action"
        area = matter.country if matter.country in AREAS else "ALL"
        row = moved.get((chart, matter.category, area))
        if row is None:
            continue
        before, after = _is_current(matter.priority_date, row["from"]), _is_current(matter.priority_date, row["to"])
        if before == after:
            continue
        movement = "became_current" if after else ("became_unavailable" if row["to"] == "UNAVAILABLE"
                                                   else "retrogressed")
        moves.append(MatterMove(matter.ref, matter.team, matter.category, area, matter.priority_date, movement,
                                row["to"], row["from"], month))
    chosen = charts if charts and charts.get("month") == month else {}
    adjustment = tuple((system, chosen[system]) for system in ("family", "employment") if chosen.get(system))
    return BulletinImpact(tuple(sorted(moves, key=lambda m: (m.team, m.movement != "became_current", m.ref))),
                          change.facts.get("previous_month"), adjustment=adjustment)
