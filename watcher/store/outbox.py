"""The transactional outbox: messages, one delivery row per (message, target), and every attempt.

A delivery moves pending -> sending (with a lease) -> sent, or back to pending with a later
next_attempt_at, or to dead. A row left in `sending` past its lease (the process died between the send and
the mark) becomes due again: at most one repeat, carrying the same Ref.
"""

from __future__ import annotations

from datetime import datetime

from sqlite_utils import Database

from ..decide import next_digest
from ..models import Delivery, Message
from .timefmt import from_text, to_text


class Outbox:
    def __init__(self, db: Database):
        self._db = db

    def enqueue(self, message: Message, change_id: int | None, now: datetime) -> int:
        """Insert the message and its delivery rows; a message already queued (same ref) is left alone.

        A target that takes this message in a digest gets a row due at its next digest time.
        """
        self._db.execute(
            # ON CONFLICT, not OR IGNORE: OR IGNORE would also swallow a NOT NULL violation.
            "INSERT INTO messages (ref, change_id, version, subject, text, html, created_at, kind, urgency, "
            "attachment_name, attachment) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (ref) DO NOTHING",
            [message.ref, change_id, message.version, message.subject, message.text, message.html, to_text(now),
             message.kind, message.urgency, *(message.attachment or (None, None))])
        message_id = self._db.execute("SELECT id FROM messages WHERE ref = ?", [message.ref]).fetchone()[0]
        for target in message.targets:
            mode = message.schedule.get(target, "immediate")
            self._db.execute(
                "INSERT INTO deliveries (message_id, target, status, next_attempt_at, queued_at, digest) "
                "VALUES (?, ?, 'pending', ?, ?, ?) ON CONFLICT (message_id, target) DO NOTHING",
                [message_id, target, to_text(next_digest(now, mode)), to_text(now),
                 None if mode == "immediate" else mode])
        return message_id

    def change_for_ref(self, ref: str) -> int | None:
        """The change an alert's `Ref:` line names; None for an unknown Ref or a message about no change."""
        row = self._db.execute("SELECT change_id FROM messages WHERE ref = ? AND kind = 'alert'", [ref]).fetchone()
        return row[0] if row else None

    def due(self, now: datetime, limit: int = 100) -> list[Delivery]:
        rows = self._db.query(
            """SELECT d.id, d.target, d.attempts, d.queued_at, d.digest, m.ref, m.subject, m.text, m.html, m.kind,
                      m.attachment_name, m.attachment
               FROM deliveries d JOIN messages m ON m.id = d.message_id
               WHERE (d.status = 'pending' AND d.next_attempt_at <= :now)
                  OR (d.status = 'sending' AND d.lease_until <= :now)
               ORDER BY d.id LIMIT :limit""", {"now": to_text(now), "limit": limit})
        return [Delivery(id=r["id"], message_ref=r["ref"], target=r["target"], subject=r["subject"],
                         text=r["text"], html=r["html"], attempts=r["attempts"],
                         first_queued_at=from_text(r["queued_at"]), digest=r["digest"], kind=r["kind"],
                         attachment=(r["attachment_name"], r["attachment"]) if r["attachment_name"] else None)
                for r in rows]

    def lease(self, delivery_id: int, now: datetime, until: datetime) -> bool:
        """Claim a row before sending; False when another sender holds it or it is already done."""
        cursor = self._db.execute(
            """UPDATE deliveries SET status = 'sending', lease_until = ?, attempts = attempts + 1
               WHERE id = ? AND (status = 'pending' OR (status = 'sending' AND lease_until <= ?))""",
            [to_text(until), delivery_id, to_text(now)])
        return cursor.rowcount == 1

    def mark_sent(self, delivery_id: int, now: datetime) -> None:
        self._db.execute("UPDATE deliveries SET status = 'sent', sent_at = ?, lease_until = NULL, "
                         "last_error = NULL WHERE id = ?", [to_text(now), delivery_id])
        self._attempt(delivery_id, now, None)

    def mark_failed(self, delivery_id: int, now: datetime, error: str, retry_at: datetime | None) -> None:
        """Back to pending for a retry at `retry_at`, or dead when `retry_at` is None."""
        status = "pending" if retry_at else "dead"
        self._db.execute("UPDATE deliveries SET status = ?, next_attempt_at = ?, lease_until = NULL, "
                         "last_error = ? WHERE id = ?",
                         [status, to_text(retry_at or now), error[:500], delivery_id])
        self._attempt(delivery_id, now, error)

    def _attempt(self, delivery_id: int, now: datetime, error: str | None) -> None:
        self._db["delivery_attempts"].insert(
            {"delivery_id": delivery_id, "at": to_text(now), "ok": int(error is None), "error": error})

    def dead(self, limit: int = 50) -> list[tuple[int, str, str, str, str]]:
        """Given-up deliveries, newest first: (delivery id, Ref, target, subject, last error)."""
        return [tuple(r) for r in self._db.execute(
            """SELECT d.id, m.ref, d.target, m.subject, coalesce(d.last_error, '') FROM deliveries d
               JOIN messages m ON m.id = d.message_id WHERE d.status = 'dead' ORDER BY d.id DESC LIMIT ?""",
            [limit]).fetchall()]

    def resend(self, delivery_id: int, now: datetime) -> bool:
        """A dead delivery back in the queue, due now, with a fresh 24-hour window (an admin fixed the target)."""
        return self._db.execute(
            "UPDATE deliveries SET status = 'pending', next_attempt_at = ?, queued_at = ?, lease_until = NULL "
            "WHERE id = ? AND status = 'dead'", [to_text(now), to_text(now), delivery_id]).rowcount == 1

    def counts(self) -> dict[str, int]:
        return {r["status"]: r["n"] for r in
                self._db.query("SELECT status, count(*) AS n FROM deliveries GROUP BY status")}
