"""Embedding cache, attorney feedback and the firm's open matters."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Sequence

import numpy as np
from sqlite_utils import Database

from ..models import Matter
from .timefmt import to_text


class Embeddings:
    """The encoder's cache (matching.encoder.EmbeddingCache)."""

    def __init__(self, db: Database, lock):
        self._db = db
        self._lock = lock

    def get_many(self, model: str, keys: Sequence[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        keys = list(dict.fromkeys(keys))
        with self._lock:
            for start in range(0, len(keys), 500):
                chunk = keys[start:start + 500]
                rows = self._db.execute(
                    f"SELECT key, vector FROM embeddings WHERE model = ? AND key IN ({','.join('?' * len(chunk))})",
                    [model, *chunk]).fetchall()
                found.update({k: np.frombuffer(v, dtype=np.float32) for k, v in rows})
        return found

    def put_many(self, model: str, vectors: dict[str, np.ndarray]) -> None:
        with self._lock, self._db.atomic():
            self._db.conn.executemany(
                "INSERT INTO embeddings (model, key, vector) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                [(model, k, np.asarray(v, dtype=np.float32).tobytes()) for k, v in vectors.items()])


class TrainedModels:
    """Trained matchers by the hash of what they were trained from (matching.matcher.model_key). Pickled: the
    database is the service's own 0600 file, and whoever can write it can already do anything the service can."""

    KEEP = 3  # the newest few: a rollback of the labels or config finds its model still there

    def __init__(self, db: Database, lock):
        self._db = db
        self._lock = lock

    def get(self, key: str):
        import pickle

        row = self._db.execute("SELECT model FROM trained_models WHERE key = ?", [key]).fetchone()
        return pickle.loads(row[0]) if row else None

    def has(self, key: str) -> bool:
        return self._db.execute("SELECT 1 FROM trained_models WHERE key = ?", [key]).fetchone() is not None

    def latest(self):
        """The newest stored model and its key, or (None, None): what the service matches with while a model for
        new feedback is being trained."""
        import pickle

        row = self._db.execute("SELECT key, model FROM trained_models ORDER BY created_at DESC LIMIT 1").fetchone()
        return (row[0], pickle.loads(row[1])) if row else (None, None)

    def put(self, key: str, model, now: str) -> None:
        import pickle

        with self._lock, self._db.atomic():
            self._db.execute("INSERT INTO trained_models (key, created_at, model) VALUES (?, ?, ?) "
                             "ON CONFLICT (key) DO UPDATE SET model = excluded.model, created_at = excluded.created_at",
                             [key, now, pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL)])
            self._db.execute("DELETE FROM trained_models WHERE key NOT IN (SELECT key FROM trained_models "
                             "ORDER BY created_at DESC LIMIT ?)", [self.KEEP])


@dataclass(frozen=True)
class FeedbackLabel:
    change_id: int
    title: str
    summary: str
    case_type: str
    relevant: bool


class Feedback:
    def __init__(self, db: Database):
        self._db = db

    def record(self, change_id: int, case_type: str, relevant: bool, now: datetime, by_user: str | None = None) -> None:
        """An attorney's judgement; the latest one per change and case type counts. `by_user`: the web page's
        signed-in user (the command line records none)."""
        self._db.execute(
            "INSERT INTO feedback (change_id, case_type, relevant, at, by_user) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (change_id, case_type) DO UPDATE SET relevant = excluded.relevant, at = excluded.at, "
            "by_user = excluded.by_user", [change_id, case_type, int(relevant), to_text(now), by_user])

    def mark(self) -> tuple:
        """Changes whenever a judgement is recorded or revised: the service recomputes its model key only then."""
        return tuple(self._db.execute("SELECT count(*), max(id), max(at) FROM feedback").fetchone())

    def labels(self) -> list[FeedbackLabel]:
        return [FeedbackLabel(r["change_id"], r["title"], r["summary"], r["case_type"], bool(r["relevant"]))
                for r in self._db.query("""SELECT f.change_id, f.case_type, f.relevant, c.title, c.summary
                                           FROM feedback f JOIN changes c ON c.id = f.change_id ORDER BY f.id""")]


class Matters:
    def __init__(self, db: Database):
        self._db = db

    def replace_all(self, matters: Sequence[Matter], now: datetime) -> None:
        """An import is the firm's current caseload: it replaces the previous one."""
        self._db.execute("DELETE FROM matters")
        self._db["matters"].insert_all(
            ({"ref": m.ref, "case_type": m.case_type, "team": m.team, "status": m.status,
              "priority_date": m.priority_date, "category": m.category, "country": m.country, "venue": m.venue,
              "imported_at": to_text(now)} for m in matters), pk="ref")

    def open_counts(self) -> dict[str, int]:
        return {r["case_type"]: r["n"] for r in self._db.query(
            "SELECT case_type, count(*) AS n FROM matters WHERE status = 'open' GROUP BY case_type")}

    def open_matters(self, case_types: Sequence[str] = ()) -> list[Matter]:
        sql = "SELECT * FROM matters WHERE status = 'open'"
        params: list = []
        if case_types:
            sql += f" AND case_type IN ({','.join('?' * len(case_types))})"
            params = list(case_types)
        return [Matter(r["ref"], r["case_type"], r["team"], r["status"], r["priority_date"], r["category"],
                       r["country"], r["venue"]) for r in self._db.query(sql + " ORDER BY ref", params)]
