"""Pure composition of staff-training tasks: for each ACTION or URGENT change and each affected team.

A task is the team's, for the item, whatever its version: an update of the item updates the open task (a new due
date, a new brief) instead of adding a second one, and the alert says how the due date moved. The checklist
depends on what kind of document it is.
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime, timedelta
from typing import Mapping, Sequence

from ..models import Change, Decision, Match, Matter, Message, TrainingTask
from ..urgency import Urgency
from .alerts import message_ref
from .lawyer import key_dates
from .render import link, paragraphs

LEAD_DAYS = 2  # a task is due this many days before the change takes effect


def task_key(change: Change, team: str) -> str:
    """One task per item and team, across versions."""
    digest = hashlib.sha256(f"{change.source_id}\x00{change.item_key}".encode()).hexdigest()
    return f"T-{digest[:10].upper()}:{team}"


def due_date(decision: Decision, now: datetime, due_days: int) -> str:
    facts = decision.change.facts
    for key in ("effective_on", "comments_close_on"):
        try:
            before = date.fromisoformat(str(facts.get(key) or "")[:10]) - timedelta(days=LEAD_DAYS)
        except ValueError:
            continue
        if before > now.date():
            return before.isoformat()
    return (now.date() + timedelta(days=due_days)).isoformat()


def checklist(decision: Decision, matches: Sequence[Match], matter_refs: Sequence[str] = ()) -> tuple[str, ...]:
    """What the team does about it, by the kind of document."""
    codes = ", ".join(m.case_type for m in matches)
    change, facts = decision.change, decision.change.facts
    effective, closes = facts.get("effective_on"), facts.get("comments_close_on")
    text = f"{change.title} {change.summary}".lower()
    if change.kind == "proposed_rule" or (closes and change.kind in ("rule", "notice", "document")):
        items = ["Read the proposed rule and its preamble",
                 f"Decide whether the firm comments before {closes}" if closes else "Decide whether the firm comments",
                 f"Note what would change for {codes} filings if it is finalized"]
    elif change.kind in ("rule", "notice", "document"):
        items = ["Read the rule and its effective-date provisions",
                 f"List the firm's pending and planned {codes} filings it affects",
                 f"Update templates, checklists and client letters by {effective}" if effective
                 else "Update templates, checklists and client letters"]
    elif change.kind == "visa_bulletin":
        named = f": {', '.join(matter_refs[:20])}" if matter_refs else ""
        items = [f"Contact the clients of the matters the bulletin moved{named}",
                 "Schedule filings for matters that became current before the month ends",
                 "Warn clients whose category retrogressed or became unavailable"]
    elif change.kind in ("precedent", "court_opinion"):
        items = [f"Review pending {codes} cases that raise the issue the decision decides",
                 "Update briefs, motions and templates that rely on the reasoning it changes"]
    elif change.kind in ("form_update", "forms") or "edition" in text:
        items = ["Switch templates to the new form edition before the mandatory date",
                 "Check drafts in progress for the old edition"]
    elif change.kind == "eoir_policy_memo":
        replaced = ", ".join(facts.get("cancels") or [])
        items = [f"Read {facts.get('number') or 'the memorandum'} and what it changes in immigration court practice",
                 f"Find pending {codes} court filings and arguments that rely on {replaced}, which it cancels"
                 if replaced else f"Note what changes for pending {codes} court cases"]
    elif change.kind in ("policy_alert", "technical_update"):
        sections = ", ".join(s.get("citation", "") for s in facts.get("affected_sections") or [] if s.get("citation"))
        items = [f"Read the Policy Manual update{f' ({sections})' if sections else ''}",
                 f"Update {codes} adjudication checklists and RFE responses"]
    else:
        items = [f"Read the announcement and decide what changes for {codes}",
                 f"Update intake checklists and client letters for {codes}"]
    if "fee" in text or any(m.case_type == "FEES" for m in matches):
        items.append("Update the fee tables and client fee quotes")
    return tuple(items)


def compose_tasks(decision: Decision, matches: Sequence[Match], urgency: Urgency, matters: Sequence[Matter],
                  now: datetime, due_days: int, ref: str, existing: Mapping[str, str] | None = None,
                  matter_refs: Sequence[str] = ()) -> list[TrainingTask]:
    """`existing`: task key -> due date of the open tasks already stored for this item (an update moves them)."""
    if urgency < Urgency.ACTION or not matches:
        return []
    existing = existing or {}
    codes = {m.case_type for m in matches}
    teams = sorted({m.team for m in matters if m.case_type in codes}) or ["all"]
    change = decision.change
    brief = (f"What changed: {change.title}. Why it matters: "
             + "; ".join(f"{m.case_type}: {m.rationale}" for m in matches))
    tasks = []
    for team in teams:
        key = task_key(change, team)
        tasks.append(TrainingTask(
            key=key, item_key=change.item_key, version=decision.version, team=team,
            title=f"Brief: {change.title}"[:200], brief=brief[:2000], checklist=checklist(decision, matches, matter_refs),
            audience=f"{team} attorneys and paralegals" if team != "all" else "all attorneys and paralegals",
            due=due_date(decision, now, due_days), urgency=urgency.name, url=change.url, was_due=existing.get(key)))
    return tasks


def compose_escalations(rows, today: date, leads: Mapping[str, tuple[str, ...]]) -> list:
    """One message per lead target listing its teams' tasks that nobody acknowledged before the effective date.
    `rows`: Tasks.to_escalate; `leads`: team -> lead targets ("*" for every team). Returns (message, task ids)."""
    by_target: dict[str, list] = {}
    for row in rows:
        for target in leads.get(row[1], ()) + leads.get("*", ()):
            by_target.setdefault(target, []).append(row)
    out = []
    for target, tasks in sorted(by_target.items()):
        lines = []
        for task_id, team, title, urgency, effective, url in tasks:
            [when] = key_dates({"effective_on": effective}, today)
            lines.append(f"#{task_id} {urgency} for team {team}: {title}; {when.text()}; {url}")
        ref = message_ref("escalation", target, ",".join(str(t[0]) for t in tasks))
        intro = (f"{len(tasks)} training task{'s' if len(tasks) != 1 else ''} for an urgent change "
                 "nobody has acknowledged, and the change takes effect soon:")
        out.append((Message(ref=ref, item_key=f"escalation:{ref}", version=0,
                            subject=f"[watcher] Not acknowledged: {len(tasks)} task{'s' if len(tasks) != 1 else ''} "
                                    "before the effective date",
                            text="\n".join([intro, *lines, "", f"Ref: {ref}"]),
                            html=paragraphs(intro) + "<ul>" + "".join(
                                f"<li>{link(t[5], t[2])} (#{t[0]}, team {t[1]}, effective {t[4][:10]})</li>"
                                for t in tasks) + "</ul>" + paragraphs(f"Ref: {ref}"),
                            targets=(target,), kind="health", urgency="URGENT"), [t[0] for t in tasks]))
    return out

