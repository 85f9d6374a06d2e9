"""What the web page reads and writes: accounts, the change list and a change's whole record, the task audit trail,
feedback with who gave it, and the site's signing key. Rows never leave this module: callers get models."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Sequence

from sqlite_utils import Database

from ..errors import InputError
from ..urgency import Urgency
from .tasks import URGENCY_LEVEL
from .timefmt import to_text

_ALERT_LEVEL = (f"(SELECT max({URGENCY_LEVEL.format(column='x.urgency')}) FROM messages x "
                "WHERE x.change_id = c.id AND x.kind = 'alert')")

ROLES = ("attorney", "coordinator", "admin")
# scrypt, memory-hard (RFC 7914): 16 MiB and about 50 ms per check on this machine's class of CPU.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2 ** 14, 8, 1
_NAME = re.compile(r"[a-z][a-z0-9._-]{1,39}")


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32)
    return "scrypt${}${}${}${}${}".format(SCRYPT_N, SCRYPT_R, SCRYPT_P, base64.b64encode(salt).decode(),
                                          base64.b64encode(digest).decode())


def check_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        candidate = hashlib.scrypt(password.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p),
                                   dklen=32)
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(candidate, base64.b64decode(digest))


@dataclass(frozen=True)
class User:
    id: int
    name: str
    role: str


@dataclass(frozen=True)
class ChangeRow:
    id: int
    source_id: str
    kind: str
    title: str
    url: str
    published: str | None
    updated_at: str
    version: int
    case_types: tuple[str, ...]
    urgency: str | None


@dataclass(frozen=True)
class VersionRow:
    version: int
    title: str
    summary: str
    facts: dict
    seen_at: str
    baseline: bool


@dataclass(frozen=True)
class ChangeRecord:
    row: ChangeRow
    summary: str
    facts: dict
    versions: tuple[VersionRow, ...]
    matches: tuple[tuple[str, float, str, str], ...]  # case type, score, method, rationale
    refs: tuple[str, ...]
    feedback: tuple[tuple[str, bool, str | None, str], ...]  # case type, relevant, by, at


@dataclass(frozen=True)
class TaskRow:
    id: int
    team: str
    title: str
    due: str
    urgency: str
    status: str
    change_id: int | None
    url: str


@dataclass(frozen=True)
class TaskEvent:
    task_id: int
    at: str
    actor: str
    action: str
    detail: str


class WebStore:
    def __init__(self, db: Database):
        self._db = db

    # -- accounts ---------------------------------------------------------------------------------------------------

    def add_user(self, name: str, role: str, password: str, now: datetime) -> User:
        if not _NAME.fullmatch(name):
            raise InputError(f"user name '{name}': 2-40 characters, lower-case letters, digits, '.', '_' or '-'")
        if role not in ROLES:
            raise InputError(f"role '{role}' (accepted: {', '.join(ROLES)})")
        if len(password) < 12:
            raise InputError("a password needs at least 12 characters")
        if self._db.execute("SELECT 1 FROM users WHERE name = ?", [name]).fetchone():
            raise InputError(f"user '{name}' exists already")
        pk = self._db["users"].insert({"name": name, "role": role, "password_hash": hash_password(password),
                                       "created_at": to_text(now)}).last_pk
        return User(pk, name, role)

    def authenticate(self, name: str, password: str) -> User | None:
        row = self._db.execute("SELECT id, name, role, password_hash FROM users WHERE name = ? AND disabled = 0",
                               [name]).fetchone()
        if row is None:
            check_password(password, hash_password("timing"))  # the same work for an unknown name
            return None
        return User(row[0], row[1], row[2]) if check_password(password, row[3]) else None

    def user(self, name: str) -> User | None:
        row = self._db.execute("SELECT id, name, role FROM users WHERE name = ? AND disabled = 0", [name]).fetchone()
        return User(*row) if row else None

    def users(self) -> list[User]:
        return [User(*r) for r in self._db.execute("SELECT id, name, role FROM users WHERE disabled = 0 ORDER BY name")]

    def disable_user(self, name: str) -> bool:
        return self._db.execute("UPDATE users SET disabled = 1 WHERE name = ?", [name]).rowcount == 1

    def setting(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM settings WHERE key = ?", [key]).fetchone()
        return row[0] if row else None

    def set_setting(self, key: str, value: str) -> None:
        self._db.execute("INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET "
                         "value = excluded.value", [key, value])

    def feedback_since(self, moment: str | None) -> int:
        """Feedback recorded after `moment` (ISO time): what the next retrain would fold in."""
        return self._db.execute("SELECT count(*) FROM feedback WHERE at > ?", [moment or ""]).fetchone()[0]

    def secret_key(self) -> bytes:
        """The site's signing key, made once and kept in the database (mode 0600), so sessions survive restarts."""
        row = self._db.execute("SELECT value FROM settings WHERE key = 'web_secret'").fetchone()
        if row:
            return base64.b64decode(row[0])
        key = secrets.token_bytes(32)
        self._db.execute("INSERT OR IGNORE INTO settings (key, value) VALUES ('web_secret', ?)",
                         [base64.b64encode(key).decode()])
        return self.secret_key()

    # -- changes ----------------------------------------------------------------------------------------------------

    def changes(self, *, case_type: str | None = None, source: str | None = None, urgency: str | None = None,
                since: str | None = None, search: str | None = None, team: str | None = None, limit: int = 100,
                offset: int = 0) -> list[ChangeRow]:
        # A presidential document's second copy (the Federal Register's of the White House's post) is not a change
        # of its own: its citation is on the first (Changes.annotate).
        where, params = ["json_extract(c.facts, '$.same_as') IS NULL"], []
        if team:  # the case types the team has open matters in
            where.append("EXISTS (SELECT 1 FROM matches m JOIN matters t ON t.case_type = m.case_type "
                         "WHERE m.change_id = c.id AND m.version = c.version AND t.team = ? AND t.status = 'open')")
            params.append(team)
        if case_type:
            where.append("EXISTS (SELECT 1 FROM matches m WHERE m.change_id = c.id AND m.version = c.version "
                         "AND m.case_type = ?)")
            params.append(case_type)
        if source:
            where.append("c.source_id = ?")
            params.append(source)
        if since:
            where.append("c.updated_at >= ?")
            params.append(since)
        if urgency:
            where.append(f"{_ALERT_LEVEL} = ?")
            params.append(Urgency[urgency].value if urgency in Urgency.__members__ else -1)
        if search:
            where.append("c.id IN (SELECT rowid FROM changes_fts WHERE changes_fts MATCH ?)")
            params.append(_fts_query(search))
        # The page's ids first (the index on updated_at walks newest first and stops at the page), then the case
        # types and urgency of those rows only.
        ids = [r[0] for r in self._db.execute(
            f"SELECT c.id FROM changes c WHERE {' AND '.join(where)} ORDER BY c.updated_at DESC, c.id DESC "
            "LIMIT ? OFFSET ?", [*params, limit, offset]).fetchall()]
        return self.changes_by_id(ids)

    def sources(self) -> list[str]:
        return [r[0] for r in self._db.execute("SELECT DISTINCT source_id FROM changes ORDER BY 1")]

    def record(self, change_id: int) -> ChangeRecord | None:
        rows = self.changes_by_id([change_id])
        if not rows:
            return None
        base = self._db.execute("SELECT summary, facts FROM changes WHERE id = ?", [change_id]).fetchone()
        versions = tuple(VersionRow(r[0], r[1], r[2], json.loads(r[3] or "{}"), r[4], bool(r[5])) for r in
                         self._db.execute("SELECT version, title, summary, facts, seen_at, baseline FROM change_versions"
                                          " WHERE change_id = ? ORDER BY version", [change_id]))
        matches = tuple(self._db.execute(
            "SELECT m.case_type, m.score, m.method, m.rationale FROM matches m JOIN changes c ON c.id = m.change_id "
            "AND c.version = m.version WHERE c.id = ? ORDER BY m.score DESC", [change_id]).fetchall())
        refs = tuple(r[0] for r in self._db.execute(
            "SELECT ref FROM messages WHERE change_id = ? AND kind = 'alert' ORDER BY id", [change_id]))
        feedback = tuple((r[0], bool(r[1]), r[2], r[3]) for r in self._db.execute(
            "SELECT case_type, relevant, by_user, at FROM feedback WHERE change_id = ? ORDER BY case_type",
            [change_id]))
        return ChangeRecord(rows[0], base[0], json.loads(base[1] or "{}"), versions, matches, refs, feedback)

    def changes_by_id(self, ids: Sequence[int]) -> list[ChangeRow]:
        """The rows of these changes, in the order given, each with its current case types and highest alert urgency
        (None: stored, never announced)."""
        if not ids:
            return []
        rows = self._db.execute(
            f"""SELECT c.id, c.source_id, c.kind, c.title, c.url, c.published, c.updated_at, c.version,
                       (SELECT group_concat(m.case_type, ',') FROM matches m
                         WHERE m.change_id = c.id AND m.version = c.version), {_ALERT_LEVEL}
                FROM changes c WHERE c.id IN ({','.join('?' * len(ids))})""", list(ids)).fetchall()
        found = {r[0]: ChangeRow(*r[:8], tuple(sorted(filter(None, (r[8] or "").split(",")))),
                                 Urgency(r[9]).name if r[9] is not None else None) for r in rows}
        return [found[i] for i in ids if i in found]

    def change_id_for(self, source_id: str, item_key: str) -> int | None:
        row = self._db.execute("SELECT id FROM changes WHERE source_id = ? AND item_key = ?",
                               [source_id, item_key]).fetchone()
        return row[0] if row else None

    def waiting_feedback(self) -> int:
        return self._db.execute("SELECT count(*) FROM feedback").fetchone()[0]

    # -- tasks ------------------------------------------------------------------------------------------------------

    def tasks(self, team: str | None = None, status: str | None = None) -> list[TaskRow]:
        sql, params = "SELECT id, team, title, due, urgency, status, change_id, url FROM tasks WHERE 1 = 1", []
        if team:
            sql += " AND team = ?"
            params.append(team)
        if status:
            sql += " AND status = ?"
            params.append(status)
        return [TaskRow(*r) for r in self._db.execute(sql + " ORDER BY status != 'open', due, id", params)]

    def tasks_of_change(self, change_id: int) -> list[TaskRow]:
        return [TaskRow(*r) for r in self._db.execute(
            "SELECT id, team, title, due, urgency, status, change_id, url FROM tasks WHERE change_id = ? ORDER BY team",
            [change_id])]

    def set_task(self, task_id: int, actor: str, now: datetime, *, status: str | None = None,
                 due: str | None = None, team: str | None = None) -> bool:
        """Change a task and write who did it to the audit trail, in one statement group (the caller's transaction)."""
        row = self._db.execute("SELECT status, due, team FROM tasks WHERE id = ?", [task_id]).fetchone()
        if row is None:
            return False
        changes = [(field, old, new) for field, old, new in (("status", row[0], status), ("due", row[1], due),
                                                             ("team", row[2], team)) if new is not None and new != old]
        for field, old, new in changes:
            self._db.execute(f"UPDATE tasks SET {field} = ?, updated_at = ? WHERE id = ?", [new, to_text(now), task_id])
            self._db["task_events"].insert({"task_id": task_id, "at": to_text(now), "actor": actor,
                                            "action": field, "detail": f"{old} -> {new}"})
        return True

    def task_events(self, task_id: int | None = None) -> list[TaskEvent]:
        sql, params = "SELECT task_id, at, actor, action, detail FROM task_events", []
        if task_id is not None:
            sql += " WHERE task_id = ?"
            params.append(task_id)
        return [TaskEvent(*r) for r in self._db.execute(sql + " ORDER BY at, id", params)]

    def teams(self) -> list[str]:
        return [r[0] for r in self._db.execute("SELECT DISTINCT team FROM tasks UNION SELECT DISTINCT team "
                                               "FROM matters ORDER BY 1")]


def _fts_query(text: str) -> str:
    """User words as FTS5 phrases: quotes doubled, so no word can be FTS syntax (NEAR, column filters, '*')."""
    words = re.findall(r"[\w'-]+", text)[:12]
    if not words:
        return '""'
    return " ".join('"' + w.replace('"', '""') + '"' for w in words)


@dataclass(frozen=True)
class SavedAgenda:
    id: int
    title: str
    team: str | None
    start: str
    end: str
    created_by: str
    updated_at: str


@dataclass(frozen=True)
class DatedChange:
    """A change with a date a lawyer plans around, for the calendar feed."""

    change_id: int
    title: str
    url: str
    field: str        # effective_on | comments_close_on
    day: str
    sequence: int     # how many times this date moved: calendar clients update the entry instead of adding one
    case_types: tuple[str, ...]


DATED_FIELDS = ("effective_on", "comments_close_on")


class Agendas:
    def __init__(self, db: Database):
        self._db = db

    def create(self, title: str, team: str | None, start: str, end: str, user: str, now: datetime,
               plan: Sequence) -> int:
        agenda_id = self._db["agendas"].insert({"title": title[:200], "team": team, "start": start, "end": end,
                                                "created_by": user, "created_at": to_text(now),
                                                "updated_at": to_text(now)}).last_pk
        self._write_plan(agenda_id, plan)
        return agenda_id

    def save(self, agenda_id: int, plan: Sequence, now: datetime) -> None:
        self._db.execute("DELETE FROM agenda_items WHERE agenda_id = ?", [agenda_id])
        self._write_plan(agenda_id, plan)
        self._db.execute("UPDATE agendas SET updated_at = ? WHERE id = ?", [to_text(now), agenda_id])

    def _write_plan(self, agenda_id: int, plan: Sequence) -> None:
        self._db["agenda_items"].insert_all(
            ({"agenda_id": agenda_id, "position": position, "change_id": line.change_id, "minutes": line.minutes,
              "note": line.note[:500], "presenter": line.presenter[:100]} for position, line in enumerate(plan)),
            pk=("agenda_id", "change_id"))

    def get(self, agenda_id: int) -> tuple[SavedAgenda, list[tuple[int, int, str, str]]] | None:
        row = self._db.execute("SELECT id, title, team, start, end, created_by, updated_at FROM agendas WHERE id = ?",
                               [agenda_id]).fetchone()
        if row is None:
            return None
        plan = [tuple(r) for r in self._db.execute(
            "SELECT change_id, minutes, note, presenter FROM agenda_items WHERE agenda_id = ? ORDER BY position",
            [agenda_id])]
        return SavedAgenda(*row), plan

    def all(self) -> list[SavedAgenda]:
        return [SavedAgenda(*r) for r in self._db.execute(
            "SELECT id, title, team, start, end, created_by, updated_at FROM agendas ORDER BY updated_at DESC")]


class Calendars:
    """Per-team calendar feeds behind a token in the URL; only the token's hash is stored, and it can be revoked."""

    def __init__(self, db: Database):
        self._db = db

    def issue(self, team: str, now: datetime) -> str:
        token = secrets.token_urlsafe(24)
        self._db["calendar_tokens"].insert({"token_hash": _token_hash(token), "team": team, "created_at": to_text(now)})
        return token

    def team_for(self, token: str) -> str | None:
        row = self._db.execute("SELECT team FROM calendar_tokens WHERE token_hash = ? AND revoked = 0",
                               [_token_hash(token)]).fetchone()
        return row[0] if row else None

    def revoke(self, team: str) -> int:
        return self._db.execute("UPDATE calendar_tokens SET revoked = 1 WHERE team = ? AND revoked = 0", [team]).rowcount

    def dated_changes(self, case_types: Sequence[str] | None) -> list[DatedChange]:
        """Every matched change with an effective date or comment deadline (of these case types; None: any)."""
        rows = self._db.execute(
            """SELECT c.id, c.title, c.url, c.facts,
                      (SELECT group_concat(m.case_type, ',') FROM matches m
                        WHERE m.change_id = c.id AND m.version = c.version) AS codes
               FROM changes c WHERE json_extract(c.facts, '$.effective_on') IS NOT NULL
                  OR json_extract(c.facts, '$.comments_close_on') IS NOT NULL""").fetchall()
        wanted = set(case_types) if case_types is not None else None
        out = []
        for change_id, title, url, facts, codes in rows:
            matched = tuple(sorted(filter(None, (codes or "").split(","))))
            if not matched or (wanted is not None and not wanted & set(matched)):
                continue
            history = [json.loads(r[0] or "{}") for r in self._db.execute(
                "SELECT facts FROM change_versions WHERE change_id = ? ORDER BY version", [change_id])]
            current = json.loads(facts or "{}")
            for field in DATED_FIELDS:
                day = current.get(field)
                if not isinstance(day, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", day[:10]):
                    continue
                values = [v.get(field) for v in history if v.get(field)]
                moves = sum(1 for a, b in zip(values, values[1:]) if a != b)
                out.append(DatedChange(change_id, title, url, field, day[:10], moves, matched))
        return out


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
