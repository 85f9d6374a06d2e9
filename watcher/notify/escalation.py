"""The daily escalation job: urgent tasks nobody acknowledged before their change takes effect go to the team's
lead target (training.compose_escalations decides; this reads the store and queues)."""

from __future__ import annotations

from datetime import datetime, timedelta

from ..config import Config
from ..store import Store
from .training import compose_escalations


def escalate(store: Store, config: Config, now: datetime) -> int:
    """Queue the day's escalations and mark their tasks, in one transaction; returns how many tasks escalated."""
    leads: dict[str, tuple[str, ...]] = {}
    for target in config.targets:
        for team in target.lead_for:
            leads[team] = leads.get(team, ()) + (target.name,)
    if not leads:
        return 0
    today = now.date()
    rows = store.tasks.to_escalate((today + timedelta(days=config.training.escalate_days)).isoformat())
    count = 0
    with store.transaction():
        for message, task_ids in compose_escalations(rows, today, leads):
            store.outbox.enqueue(message, None, now)
            for task_id in task_ids:
                store.tasks.mark_escalated(task_id, now)
            count += len(task_ids)
    return count
