"""Per-source state: validators, failures, backoff, last success. The scheduler's memory lives here."""

from __future__ import annotations

from datetime import datetime

from sqlite_utils import Database

from ..models import SourceState, Validators
from .timefmt import from_text, to_text


class SourceStates:
    def __init__(self, db: Database):
        self._db = db

    def get(self, source_id: str) -> SourceState:
        rows = list(self._db.query("SELECT * FROM source_state WHERE source_id = ?", [source_id]))
        return _to_state(rows[0]) if rows else SourceState(source_id=source_id)

    def all(self) -> list[SourceState]:
        return [_to_state(r) for r in self._db.query("SELECT * FROM source_state ORDER BY source_id")]

    def record_success(self, source_id: str, *, validators: Validators, now: datetime, new_items: bool,
                       item_count: int | None, unconditional: bool) -> None:
        values = {
            "source_id": source_id, "etag": validators.etag, "last_modified": validators.last_modified,
            "baseline_done": 1, "consecutive_failures": 0, "last_attempt_at": to_text(now),
            "last_success_at": to_text(now), "backoff_until": None,
            "last_error_class": None, "last_error_message": None,
        }
        if new_items:
            values["last_new_item_at"] = to_text(now)
        if item_count is not None:
            values["item_count"] = item_count
        if unconditional:
            values["last_unconditional_at"] = to_text(now)
        self._upsert(values)

    def record_failure(self, source_id: str, *, error_class: str, message: str, now: datetime,
                       backoff_until: datetime) -> int:
        failures = self.get(source_id).consecutive_failures + 1
        self._upsert({
            "source_id": source_id, "consecutive_failures": failures, "last_attempt_at": to_text(now),
            "backoff_until": to_text(backoff_until), "last_error_class": error_class,
            "last_error_message": message[:500],
        })
        return failures

    def set_health(self, source_id: str, health: str, now: datetime) -> None:
        self._upsert({"source_id": source_id, "health": health, "health_since": to_text(now)})

    def defer(self, source_id: str, until: datetime) -> None:
        """Hold a source until `until` (never shortening a longer backoff it already has)."""
        current = self.get(source_id).backoff_until
        if current is None or current < until:
            self._upsert({"source_id": source_id, "backoff_until": to_text(until)})

    def _upsert(self, values: dict) -> None:
        self._db["source_state"].upsert(values, pk="source_id")


def _to_state(row: dict) -> SourceState:
    return SourceState(
        source_id=row["source_id"],
        validators=Validators(etag=row["etag"], last_modified=row["last_modified"]),
        baseline_done=bool(row["baseline_done"]),
        consecutive_failures=row["consecutive_failures"],
        last_attempt_at=from_text(row["last_attempt_at"]),
        last_success_at=from_text(row["last_success_at"]),
        last_new_item_at=from_text(row["last_new_item_at"]),
        last_unconditional_at=from_text(row["last_unconditional_at"]),
        backoff_until=from_text(row["backoff_until"]),
        last_error_class=row["last_error_class"],
        last_error_message=row["last_error_message"],
        item_count=row["item_count"],
        health=row["health"],
        health_since=from_text(row["health_since"]),
    )
