"""The SQLite store. Rows never leave this package: callers pass and receive models.

One connection, guarded by a lock, is the single writer (RELIABILITY E4). `commit_cycle` writes a source
cycle's changes, versions, matches, outbox rows and validators in ONE transaction, so a crash can never
leave "new validators, old items" (the next poll would get a 304 and the change would be lost).
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

from ..decide import published_as
from ..models import Decision, Match, Message, Status, TrainingTask, Validators
from .changes import Changes
from .matching import Embeddings, Feedback, Matters, TrainedModels
from .outbox import Outbox
from .runs import Runs
from .schema import BUSY_TIMEOUT_MS, backup, open_database
from .sources import SourceStates
from .tasks import Tasks
from .web import Agendas, Calendars, WebStore


@dataclass(frozen=True)
class CycleResult:
    """What a successful fetch+parse produced, ready to be written atomically."""

    source_id: str
    decisions: Sequence[Decision]
    matches: Mapping[str, Sequence[Match]]  # by item_key
    messages: Sequence[Message]
    validators: Validators
    baseline: bool
    item_count: int
    unconditional: bool
    tasks: Sequence[TrainingTask] = ()
    # A presidential document of this cycle that another source stored first: item_key -> that change's id. The
    # copy is kept (its source must know it has seen it) and each is annotated with the other.
    copies: Mapping[str, int] = field(default_factory=dict)
    # Facts this cycle writes onto other stored changes as a new version of each: (change id, key, value), e.g. an
    # EOIR memorandum this cycle's memorandum cancels, ("cancelled_by", "PM 25-29").
    annotations: Sequence[tuple[int, str, Any]] = ()


class Store:
    def __init__(self, path: str | Path, busy_timeout_ms: int = BUSY_TIMEOUT_MS, *, create: bool = True):
        self.path = Path(path)
        self.db = open_database(self.path, busy_timeout_ms, create=create)
        self.lock = threading.RLock()
        self.sources = SourceStates(self.db)
        self.changes = Changes(self.db)
        self.outbox = Outbox(self.db)
        self.runs = Runs(self.db)
        self.embeddings = Embeddings(self.db, self.lock)
        self.trained = TrainedModels(self.db, self.lock)
        self.feedback = Feedback(self.db)
        self.matters = Matters(self.db)
        self.tasks = Tasks(self.db)
        self.web = WebStore(self.db)
        self.agendas = Agendas(self.db)
        self.calendars = Calendars(self.db)

    def close(self) -> None:
        with self.lock:
            self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        with self.lock, self.db.atomic():
            yield

    def commit_cycle(self, cycle: CycleResult, now: datetime) -> None:
        with self.transaction():
            change_ids: dict[str, int] = {}
            for decision in cycle.decisions:
                if decision.status is Status.UNCHANGED:
                    continue
                key = decision.change.item_key
                change_ids[key] = self.changes.save(decision, now, baseline=cycle.baseline)
                self.changes.save_matches(change_ids[key], decision.version, cycle.matches.get(key, ()))
            for key, original in cycle.copies.items():
                if key in change_ids:
                    copy = next(d.change for d in cycle.decisions if d.change.item_key == key)
                    self.changes.annotate(original, "published_as", published_as(copy), now)
                    self.changes.annotate(change_ids[key], "same_as", original, now)
            for change_id, key, value in cycle.annotations:
                self.changes.annotate(change_id, key, value, now)
            for message in cycle.messages:
                self.outbox.enqueue(message, change_ids.get(message.item_key), now)
            for task in cycle.tasks:
                self.tasks.add(task, change_ids.get(task.item_key), now)
            # The baseline counts as news: it starts the clock that "silent" is measured against.
            new_items = any(d.status is Status.NEW for d in cycle.decisions)
            self.sources.record_success(
                cycle.source_id, validators=cycle.validators, now=now, new_items=new_items,
                item_count=self.changes.count(cycle.source_id), unconditional=cycle.unconditional)

    def backup(self, destination: str | Path) -> Path:
        return backup(self.path, Path(destination))

    def integrity(self) -> list[str]:
        with self.lock:
            return [row[0] for row in self.db.conn.execute("PRAGMA integrity_check")]

    @property
    def total_writes(self) -> int:
        """Rows changed since the connection opened (the bench reports database writes with it)."""
        return self.db.conn.total_changes
