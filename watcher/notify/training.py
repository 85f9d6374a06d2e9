"""Pure composition of staff-training tasks: for each ACTION or URGENT change and each affected team."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Sequence

from ..models import Decision, Match, Matter, TrainingTask
from ..urgency import Urgency

LEAD_DAYS = 2  # a task is due this many days before the change takes effect


def due_date(decision: Decision, now: datetime, due_days: int) -> str:
    effective = decision.change.facts.get("effective_on")
    if effective:
        try:
            before = date.fromisoformat(effective[:10]) - timedelta(days=LEAD_DAYS)
            if before > now.date():
                return before.isoformat()
        except ValueError:
            pass
    return (now.date() + timedelta(days=due_days)).isoformat()


def checklist(decision: Decision, matches: Sequence[Match]) -> tuple[str, ...]:
    codes = ", ".join(m.case_type for m in matches)
    change = decision.change
    items = [f"Update the intake checklists for {codes}",
             f"Review templates and client letters for {codes}",
             "Confirm the current form editions before the next filing"]
    text = f"{change.title} {change.summary}".lower()
    if "fee" in text or any(m.case_type == "FEES" for m in matches):
        items.append("Update the fee tables and client fee quotes")
    if change.kind == "visa_bulletin":
        items.append("Check which clients' priority dates moved; schedule filings that became current")
    if change.facts.get("comments_close_on"):
        items.append(f"Decide whether the firm comments before {change.facts['comments_close_on']}")
    return tuple(items)


def compose_tasks(decision: Decision, matches: Sequence[Match], urgency: Urgency, matters: Sequence[Matter],
                  now: datetime, due_days: int, ref: str) -> list[TrainingTask]:
    if urgency < Urgency.ACTION or not matches:
        return []
    codes = {m.case_type for m in matches}
    teams = sorted({m.team for m in matters if m.case_type in codes}) or ["all"]
    change = decision.change
    brief = (f"What changed: {change.title}. Why it matters: "
             + "; ".join(f"{m.case_type}: {m.rationale}" for m in matches))
    return [TrainingTask(key=f"{ref}:{team}", item_key=change.item_key, version=decision.version, team=team,
                         title=f"Brief: {change.title}"[:200], brief=brief[:2000], checklist=checklist(decision, matches),
                         audience=f"{team} attorneys and paralegals" if team != "all" else "all attorneys and paralegals",
                         due=due_date(decision, now, due_days), urgency=urgency.name, url=change.url)
            for team in teams]
