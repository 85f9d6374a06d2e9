"""Training tasks, and the alerted changes a briefing agenda is built from."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Mapping

from sqlite_utils import Database

from ..models import TrainingTask
from ..urgency import Urgency
from .timefmt import to_text

# A message's urgency as the number urgency.Urgency gives it, so SQL can take the highest of a change's alerts.
URGENCY_LEVEL = "CASE {column} WHEN 'URGENT' THEN 2 WHEN 'ACTION' THEN 1 ELSE 0 END"

STATUSES = ("open", "acknowledged", "done")


@dataclass(frozen=True)
class StoredTask:
    id: int
    task: TrainingTask
    status: str
    created_at: str


@dataclass(frozen=True)
class AlertedChange:
    """A change that was announced (not a baseline item), as the agenda needs it."""

    change_id: int
    title: str
    summary: str
    url: str
    source_id: str
    kind: str
    urgency: str
    announced_at: str
    case_types: tuple[str, ...]
    rationale: str
    facts: Mapping[str, Any] = field(default_factory=dict)
    tasks: tuple[tuple[str, str, str], ...] = ()  # (team, status, due) of the change's training tasks


class Tasks:
    def __init__(self, db: Database):
        self._db = db

    def add(self, task: TrainingTask, change_id: int | None, now: datetime) -> None:
        """A new task, or an update of the item's task for the team: a task still open takes the new due date and
        brief (one task per item and team, never a second); a done task stays done."""
        self._db.execute(
            """INSERT INTO tasks (key, change_id, version, team, title, brief, checklist, audience, due, urgency, url,
                                  created_at, updated_at)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT (key) DO UPDATE SET version = excluded.version, title = excluded.title,
                   brief = excluded.brief, checklist = excluded.checklist, due = excluded.due,
                   urgency = excluded.urgency, url = excluded.url, updated_at = excluded.updated_at
               WHERE tasks.status != 'done'""",
            [task.key, change_id, task.version, task.team, task.title, task.brief, json.dumps(task.checklist),
             task.audience, task.due, task.urgency, task.url, to_text(now), to_text(now)])

    def open_dues(self, keys: list[str]) -> dict[str, str]:
        """Key -> due date of those tasks that exist and are not done."""
        if not keys:
            return {}
        return {r[0]: r[1] for r in self._db.execute(
            f"SELECT key, due FROM tasks WHERE status != 'done' AND key IN ({','.join('?' * len(keys))})",
            keys).fetchall()}

    def listing(self, status: str | None = None, team: str | None = None) -> list[StoredTask]:
        sql, params = "SELECT * FROM tasks WHERE 1 = 1", []
        if status:
            sql += " AND status = ?"
            params.append(status)
        if team:
            sql += " AND (team = ? OR team = 'all')"
            params.append(team)
        return [StoredTask(r["id"], TrainingTask(r["key"], "", r["version"], r["team"], r["title"], r["brief"],
                                                 tuple(json.loads(r["checklist"])), r["audience"], r["due"],
                                                 r["urgency"], r["url"]), r["status"], r["created_at"])
                for r in self._db.query(sql + " ORDER BY due, id", params)]

    def to_escalate(self, before: str) -> list[tuple[int, str, str, str, str, str]]:
        """Open (never acknowledged) ACTION/URGENT tasks not yet escalated whose change takes effect on or before
        `before` (YYYY-MM-DD): (task id, team, title, urgency, effective date, url)."""
        return [tuple(r) for r in self._db.execute(
            """SELECT t.id, t.team, t.title, t.urgency, json_extract(c.facts, '$.effective_on') AS effective, t.url
               FROM tasks t JOIN changes c ON c.id = t.change_id
               WHERE t.status = 'open' AND t.escalated_at IS NULL AND t.urgency IN ('ACTION', 'URGENT')
                 AND effective IS NOT NULL AND substr(effective, 1, 10) <= ? ORDER BY effective, t.id""",
            [before]).fetchall()]

    def mark_escalated(self, task_id: int, now: datetime) -> None:
        self._db.execute("UPDATE tasks SET escalated_at = ? WHERE id = ?", [to_text(now), task_id])

    def set_status(self, task_id: int, status: str, now: datetime) -> bool:
        cursor = self._db.execute("UPDATE tasks SET status = ?, updated_at = ? WHERE id = ?",
                                  [status, to_text(now), task_id])
        return cursor.rowcount == 1

    def alerted_between(self, start: datetime, end: datetime) -> list[AlertedChange]:
        rows = self._db.query(
            f"""SELECT c.id, c.title, c.summary, c.url, c.source_id, c.kind, c.facts, min(m.created_at) AS announced,
                      max({URGENCY_LEVEL.format(column="m.urgency")}) AS level,
                      (SELECT group_concat(x.case_type, ',') FROM matches x
                        WHERE x.change_id = c.id AND x.version = c.version) AS codes,
                      (SELECT x.rationale FROM matches x WHERE x.change_id = c.id AND x.version = c.version
                        ORDER BY x.score DESC LIMIT 1) AS rationale
               FROM messages m JOIN changes c ON c.id = m.change_id
               WHERE m.kind = 'alert' AND m.created_at >= ? AND m.created_at < ?
               GROUP BY c.id ORDER BY announced""", [to_text(start), to_text(end)])
        rows = list(rows)
        tasks: dict[int, list[tuple[str, str, str]]] = {}
        for change_id, team, status, due in self._db.execute(
                f"SELECT change_id, team, status, due FROM tasks WHERE change_id IN "
                f"({','.join('?' * len(rows))}) ORDER BY team", [r["id"] for r in rows]).fetchall() if rows else []:
            tasks.setdefault(change_id, []).append((team, status, due))
        return [AlertedChange(r["id"], r["title"], r["summary"], r["url"], r["source_id"], r["kind"],
                              Urgency(r["level"]).name, r["announced"], tuple(sorted(filter(None, (r["codes"] or "").split(",")))),
                              r["rationale"] or "", json.loads(r["facts"] or "{}"), tuple(tasks.get(r["id"], ())))
                for r in rows]
