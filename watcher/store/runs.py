"""One row per source cycle, for `watcher status` history and the bench."""

from __future__ import annotations

from datetime import datetime

from sqlite_utils import Database

from ..models import SourceRun
from .timefmt import to_text


class Runs:
    def __init__(self, db: Database):
        self._db = db

    def record(self, run: SourceRun, started: datetime, finished: datetime) -> None:
        self._db["runs"].insert({
            "source_id": run.source_id, "started_at": to_text(started), "finished_at": to_text(finished),
            "outcome": run.outcome, "new": run.new, "updated": run.updated, "messages": run.messages,
            "bytes_received": run.bytes_received, "error_class": run.error_class,
            "error_message": run.error_message,
        })
