"""Opening the SQLite file safely, and the named, append-only migrations.

Order matters: busy_timeout first (a locked file must wait, not fail, before any other pragma touches it),
then WAL and synchronous=FULL (this workload writes little and a lost "sent" mark means a duplicate alert).
A file with a foreign application id, or with migrations this code does not know (a newer watcher wrote
it), is refused; it is never recreated empty.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from ..errors import StorageError

APPLICATION_ID = 0x57415443  # "WATC"
BUSY_TIMEOUT_MS = 15000

migrations = Migrations("watcher")
MIGRATION_NAMES: list[str] = []  # what this code knows; anything else applied means a newer watcher


def migration(name: str):
    MIGRATION_NAMES.append(name)
    return migrations(name=name)

# Append only: never edit or reorder a migration that has shipped; add a new one below.
INITIAL = [
    """CREATE TABLE source_state (
        source_id TEXT PRIMARY KEY,
        etag TEXT, last_modified TEXT,
        baseline_done INTEGER NOT NULL DEFAULT 0,
        consecutive_failures INTEGER NOT NULL DEFAULT 0,
        last_attempt_at TEXT, last_success_at TEXT, last_new_item_at TEXT, last_unconditional_at TEXT,
        backoff_until TEXT, last_error_class TEXT, last_error_message TEXT,
        item_count INTEGER NOT NULL DEFAULT 0)""",
    """CREATE TABLE changes (
        id INTEGER PRIMARY KEY,
        source_id TEXT NOT NULL, item_key TEXT NOT NULL, kind TEXT NOT NULL,
        title TEXT NOT NULL, summary TEXT NOT NULL, url TEXT NOT NULL, published TEXT,
        facts TEXT NOT NULL, content_hash TEXT NOT NULL, version INTEGER NOT NULL,
        first_seen_at TEXT NOT NULL, updated_at TEXT NOT NULL,
        UNIQUE (source_id, item_key))""",
    """CREATE TABLE change_versions (
        change_id INTEGER NOT NULL REFERENCES changes(id), version INTEGER NOT NULL,
        content_hash TEXT NOT NULL, title TEXT NOT NULL, summary TEXT NOT NULL, facts TEXT NOT NULL,
        seen_at TEXT NOT NULL, baseline INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (change_id, version))""",
    """CREATE TABLE matches (
        change_id INTEGER NOT NULL REFERENCES changes(id), version INTEGER NOT NULL,
        case_type TEXT NOT NULL, score REAL NOT NULL, method TEXT NOT NULL, rationale TEXT NOT NULL,
        PRIMARY KEY (change_id, version, case_type))""",
    """CREATE TABLE messages (
        id INTEGER PRIMARY KEY, ref TEXT NOT NULL UNIQUE,
        change_id INTEGER REFERENCES changes(id), version INTEGER,
        subject TEXT NOT NULL, text TEXT NOT NULL, html TEXT NOT NULL, created_at TEXT NOT NULL)""",
    """CREATE TABLE deliveries (
        id INTEGER PRIMARY KEY,
        message_id INTEGER NOT NULL REFERENCES messages(id), target TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('pending', 'sending', 'sent', 'dead')),
        attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at TEXT NOT NULL, lease_until TEXT,
        last_error TEXT, queued_at TEXT NOT NULL, sent_at TEXT,
        UNIQUE (message_id, target))""",
    "CREATE INDEX deliveries_due ON deliveries (status, next_attempt_at)",
    """CREATE TABLE delivery_attempts (
        id INTEGER PRIMARY KEY, delivery_id INTEGER NOT NULL REFERENCES deliveries(id),
        at TEXT NOT NULL, ok INTEGER NOT NULL, error TEXT)""",
    """CREATE TABLE runs (
        id INTEGER PRIMARY KEY, source_id TEXT NOT NULL, started_at TEXT NOT NULL,
        finished_at TEXT NOT NULL, outcome TEXT NOT NULL, new INTEGER NOT NULL, updated INTEGER NOT NULL,
        messages INTEGER NOT NULL, bytes_received INTEGER NOT NULL, error_class TEXT, error_message TEXT)""",
    "CREATE INDEX runs_source ON runs (source_id, started_at)",
]


@migration("0001_initial")
def _initial(db: Database) -> None:
    for statement in INITIAL:
        db.execute(statement)


@migration("0002_source_health")
def _source_health(db: Database) -> None:
    db.execute("ALTER TABLE source_state ADD COLUMN health TEXT NOT NULL DEFAULT 'ok'")
    db.execute("ALTER TABLE source_state ADD COLUMN health_since TEXT")


@migration("0003_matching_and_caseload")
def _matching_and_caseload(db: Database) -> None:
    # Embeddings are keyed by text hash and model, so no text is embedded twice (and a model change re-embeds).
    db.execute("""CREATE TABLE embeddings (
        model TEXT NOT NULL, key TEXT NOT NULL, vector BLOB NOT NULL, PRIMARY KEY (model, key))""")
    db.execute("""CREATE TABLE feedback (
        id INTEGER PRIMARY KEY, change_id INTEGER NOT NULL REFERENCES changes(id), case_type TEXT NOT NULL,
        relevant INTEGER NOT NULL, at TEXT NOT NULL, UNIQUE (change_id, case_type))""")
    # Open matters: a reference and facts about the case, never a client's name or A-number.
    db.execute("""CREATE TABLE matters (
        ref TEXT PRIMARY KEY, case_type TEXT NOT NULL, team TEXT NOT NULL, status TEXT NOT NULL,
        priority_date TEXT, category TEXT, country TEXT, venue TEXT, imported_at TEXT NOT NULL)""")
    db.execute("CREATE INDEX matters_case_type ON matters (case_type, status)")


@migration("0004_urgency_digests_tasks")
def _urgency_digests_tasks(db: Database) -> None:
    db.execute("ALTER TABLE messages ADD COLUMN kind TEXT NOT NULL DEFAULT 'alert'")
    db.execute("ALTER TABLE messages ADD COLUMN urgency TEXT NOT NULL DEFAULT 'INFO'")
    db.execute("ALTER TABLE deliveries ADD COLUMN digest TEXT")  # NULL: immediate; daily | weekly
    db.execute("""CREATE TABLE tasks (
        id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, change_id INTEGER REFERENCES changes(id),
        version INTEGER NOT NULL, team TEXT NOT NULL, title TEXT NOT NULL, brief TEXT NOT NULL,
        checklist TEXT NOT NULL, audience TEXT NOT NULL, due TEXT NOT NULL, urgency TEXT NOT NULL, url TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'acknowledged', 'done')),
        created_at TEXT NOT NULL, updated_at TEXT NOT NULL)""")
    db.execute("CREATE INDEX tasks_status ON tasks (status, due)")


@migration("0005_embeddings_keyed_by_token_limit")
def _embeddings_keyed_by_token_limit(db: Database) -> None:
    # Vectors cached before the key named the token limit ("all-MiniLM-L6-v2" or "local-<sha>", read at 256
    # word pieces) are never read again: the encoder asks for "<model>/128" now. They would only take up room.
    db.execute("DELETE FROM embeddings WHERE model NOT LIKE '%/%'")


@migration("0006_canonical_urls_and_titles")
def _canonical_urls_and_titles(db: Database) -> None:
    # One announcement in two feeds is found by its canonical URL or its normalized title (meaning.py); both are
    # kept beside the item so the lookup is an index search, not a scan.
    from ..meaning import canonical_url, plain

    db.execute("ALTER TABLE changes ADD COLUMN canonical_url TEXT")
    db.execute("ALTER TABLE changes ADD COLUMN plain_title TEXT")
    rows = db.execute("SELECT id, url, title FROM changes").fetchall()
    db.conn.executemany("UPDATE changes SET canonical_url = ?, plain_title = ? WHERE id = ?",
                        [(canonical_url(url), plain(title).lower(), id_) for id_, url, title in rows])
    db.execute("CREATE INDEX changes_canonical_url ON changes (canonical_url)")
    db.execute("CREATE INDEX changes_plain_title ON changes (plain_title)")


@migration("0007_message_attachments")
def _message_attachments(db: Database) -> None:
    # The weekly agenda e-mail carries its calendar invite.
    db.execute("ALTER TABLE messages ADD COLUMN attachment_name TEXT")
    db.execute("ALTER TABLE messages ADD COLUMN attachment BLOB")


@migration("0008_web_users_audit_search")
def _web_users_audit_search(db: Database) -> None:
    # The web page (watcher/web): accounts, who did what to a task, who gave which feedback, full-text search.
    db.execute("""CREATE TABLE users (
        id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, role TEXT NOT NULL
            CHECK (role IN ('attorney', 'coordinator', 'admin')),
        password_hash TEXT NOT NULL, created_at TEXT NOT NULL, disabled INTEGER NOT NULL DEFAULT 0)""")
    db.execute("""CREATE TABLE task_events (
        id INTEGER PRIMARY KEY, task_id INTEGER NOT NULL REFERENCES tasks(id), at TEXT NOT NULL,
        actor TEXT NOT NULL, action TEXT NOT NULL, detail TEXT NOT NULL DEFAULT '')""")
    db.execute("CREATE INDEX task_events_task ON task_events (task_id, at)")
    db.execute("ALTER TABLE feedback ADD COLUMN by_user TEXT")
    db.execute("CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    db.execute("CREATE VIRTUAL TABLE changes_fts USING fts5(title, summary, content='changes', content_rowid='id')")
    db.execute("INSERT INTO changes_fts (rowid, title, summary) SELECT id, title, summary FROM changes")
    db.execute("""CREATE TRIGGER changes_fts_insert AFTER INSERT ON changes BEGIN
        INSERT INTO changes_fts (rowid, title, summary) VALUES (new.id, new.title, new.summary); END""")
    db.execute("""CREATE TRIGGER changes_fts_update AFTER UPDATE OF title, summary ON changes BEGIN
        INSERT INTO changes_fts (changes_fts, rowid, title, summary) VALUES ('delete', old.id, old.title, old.summary);
        INSERT INTO changes_fts (rowid, title, summary) VALUES (new.id, new.title, new.summary); END""")


@migration("0009_agendas_and_calendars")
def _agendas_and_calendars(db: Database) -> None:
    # Agendas a coordinator arranged on the web page, and the revocable tokens of the per-team calendar feeds.
    db.execute("""CREATE TABLE agendas (
        id INTEGER PRIMARY KEY, title TEXT NOT NULL, team TEXT, start TEXT NOT NULL, end TEXT NOT NULL,
        created_by TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL)""")
    db.execute("""CREATE TABLE agenda_items (
        agenda_id INTEGER NOT NULL REFERENCES agendas(id), position INTEGER NOT NULL,
        change_id INTEGER NOT NULL REFERENCES changes(id), minutes INTEGER NOT NULL,
        note TEXT NOT NULL DEFAULT '', presenter TEXT NOT NULL DEFAULT '', PRIMARY KEY (agenda_id, change_id))""")
    db.execute("CREATE INDEX changes_updated ON changes (updated_at, id)")  # the web page's newest-first list
    db.execute("""CREATE TABLE calendar_tokens (
        token_hash TEXT PRIMARY KEY, team TEXT NOT NULL, created_at TEXT NOT NULL, revoked INTEGER NOT NULL DEFAULT 0)""")


@migration("0010_task_escalation")
def _task_escalation(db: Database) -> None:
    # An unacknowledged urgent task escalates to the team's lead once: this says when it did.
    db.execute("ALTER TABLE tasks ADD COLUMN escalated_at TEXT")


@migration("0011_trained_models")
def _trained_models(db: Database) -> None:
    # The trained matcher, keyed by what it was trained from: a restart with the same labels, feedback, config and
    # model reads it back instead of training again.
    db.execute("CREATE TABLE trained_models (key TEXT PRIMARY KEY, created_at TEXT NOT NULL, model BLOB NOT NULL)")


def open_database(path: str | Path, busy_timeout_ms: int = BUSY_TIMEOUT_MS, *, create: bool = True) -> Database:
    """Open (creating if new and `create`) and migrate; raises StorageError instead of ever damaging a foreign
    file, or creating one nobody asked for (a backup of a fresh empty file looks like success)."""
    path = Path(path)
    if not create and not path.exists():
        raise StorageError(f"no database at {path.resolve()} ([storage] path in watcher.toml, or --db); "
                           "`watcher run` creates it")
    if path.parent and not path.parent.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
    new_file = not path.exists()
    if new_file:
        # Create it 0600 ourselves: SQLite gives -wal and -shm the database file's mode.
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    try:
        conn = sqlite3.connect(str(path), check_same_thread=False, timeout=busy_timeout_ms / 1000)
        conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        _check_identity(conn, path)
        _quick_check(conn, path, new_file)
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA foreign_keys = ON")
        db = Database(conn, execute_plugins=False)
        _refuse_newer(db, path)
        migrations.apply(db)
        if conn.execute("PRAGMA application_id").fetchone()[0] == 0:
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        return db
    except sqlite3.DatabaseError as exc:
        raise StorageError(f"{path}: {exc}; restore from a backup (see docs/admin.md)") from None


def _check_identity(conn: sqlite3.Connection, path: Path) -> None:
    app_id = conn.execute("PRAGMA application_id").fetchone()[0]
    if app_id not in (0, APPLICATION_ID):
        raise StorageError(f"{path}: not a watcher database (application_id {app_id:#x}); refusing to touch it")
    if app_id == 0:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if tables - {"_sqlite_migrations"}:
            raise StorageError(f"{path}: holds tables of another application; refusing to touch it")


def _quick_check(conn: sqlite3.Connection, path: Path, new_file: bool) -> None:
    if new_file:
        return
    try:
        result = [row[0] for row in conn.execute("PRAGMA quick_check")]
    except MemoryError:  # SQLITE_NOMEM: a scribbled page can claim a record far larger than memory
        result = ["the check itself ran out of memory on a damaged page"]
    if result != ["ok"]:
        raise StorageError(f"{path}: failed PRAGMA quick_check ({'; '.join(result[:3])}); the file was not changed. "
                           "Stop watcher and restore the latest backup (docs/admin.md, 'Restore')")


def backup(path: Path, destination: Path, busy_timeout_ms: int = BUSY_TIMEOUT_MS) -> Path:
    """A consistent copy while the service writes: VACUUM INTO a temporary file, fsync, then an atomic rename.

    VACUUM reads through a connection of its own. It cannot run inside a transaction, and the service's shared
    connection is inside one whenever another thread is mid-query (sqlite-utils wraps each query in a
    savepoint); a WAL reader of its own sees the last committed state and never waits for a writer.
    """
    destination = destination.resolve()
    destination.parent.mkdir(parents=True, exist_ok=True)
    tmp = destination.with_name(f".{destination.name}.tmp")
    tmp.unlink(missing_ok=True)  # left by a backup killed midway: ours, and 0600 like this one
    # Created 0600 before the first byte (VACUUM INTO accepts an empty file): a copy of client matters is never
    # world-readable, not even while it is written or when a kill leaves it half done.
    os.close(os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    conn = sqlite3.connect(str(path), timeout=busy_timeout_ms / 1000)
    try:
        conn.execute("VACUUM INTO ?", [str(tmp)])
    except sqlite3.Error:
        tmp.unlink(missing_ok=True)
        raise
    finally:
        conn.close()
    with open(tmp, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(tmp, destination)
    directory = os.open(destination.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
    return destination


def _refuse_newer(db: Database, path: Path) -> None:
    unknown = [m.name for m in migrations.applied(db) if m.name not in MIGRATION_NAMES]
    if unknown:
        raise StorageError(f"{path}: written by a newer watcher (migrations {', '.join(unknown)}); "
                           "upgrade watcher instead of downgrading the database")
