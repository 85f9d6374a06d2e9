"""The SQLite store on a real file: pragmas, migrations, refusal of foreign files, atomic cycles."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timezone

import pytest

from watcher.errors import StorageError
from watcher.models import Change, Decision, Message, Status, Validators
from watcher.store import CycleResult, Store
from watcher.store.schema import APPLICATION_ID

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=timezone.utc)


def test_new_database_pragmas_and_mode(tmp_path):
    store = Store(tmp_path / "w.db")
    conn = store.db.conn
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == 15000
    assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    assert (tmp_path / "w.db").stat().st_mode & 0o777 == 0o600
    assert [m["name"] for m in store.db["_sqlite_migrations"].rows] == ["0001_initial", "0002_source_health",
                                                                          "0003_matching_and_caseload",
                                                                          "0004_urgency_digests_tasks",
                                                                          "0005_embeddings_keyed_by_token_limit",
                                                                             "0006_canonical_urls_and_titles",
                                                                             "0007_message_attachments",
                                                                             "0008_web_users_audit_search",
                                                                             "0009_agendas_and_calendars",
                                                                             "0010_task_escalation",
                                                                             "0011_trained_models"]
    store.close()
    Store(tmp_path / "w.db").close()  # reopening applies nothing twice


def test_foreign_database_is_refused_and_untouched(tmp_path):
    path = tmp_path / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE invoices (id INTEGER)")
    conn.commit()
    conn.close()
    before = path.read_bytes()
    with pytest.raises(StorageError, match="another application"):
        Store(path)
    assert path.read_bytes() == before


def test_foreign_application_id_is_refused(tmp_path):
    path = tmp_path / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA application_id = 1234")
    conn.commit()
    conn.close()
    with pytest.raises(StorageError, match="not a watcher database"):
        Store(path)


def test_newer_schema_is_refused(tmp_path):
    Store(tmp_path / "w.db").close()
    conn = sqlite3.connect(tmp_path / "w.db")
    conn.execute("INSERT INTO _sqlite_migrations (migration_set, name, applied_at) VALUES ('watcher', '0099_future', 'x')")
    conn.commit()
    conn.close()
    with pytest.raises(StorageError, match="newer watcher"):
        Store(tmp_path / "w.db")


def test_upgrade_drops_embeddings_cached_without_a_token_limit(tmp_path):
    Store(tmp_path / "w.db").close()
    conn = sqlite3.connect(tmp_path / "w.db")  # as a database written before 0005 looked
    conn.execute("DELETE FROM _sqlite_migrations WHERE name = '0005_embeddings_keyed_by_token_limit'")
    conn.executemany("INSERT INTO embeddings (model, key, vector) VALUES (?, ?, ?)",
                     [("all-MiniLM-L6-v2", "a", b"old"), ("all-MiniLM-L6-v2/128", "a", b"new")])
    conn.commit()
    conn.close()
    store = Store(tmp_path / "w.db")
    assert [(r["model"], r["vector"]) for r in store.db["embeddings"].rows] == [("all-MiniLM-L6-v2/128", b"new")]


def test_a_backup_is_taken_while_another_thread_is_mid_query(tmp_path):
    store = Store(tmp_path / "w.db")
    reading = store.db.query("SELECT name FROM sqlite_master")
    next(reading)  # sqlite-utils holds a savepoint (a transaction) on the shared connection until the query ends
    copy = store.backup(tmp_path / "copy.db")
    assert list(reading)  # the reader was not disturbed
    store.close()
    restored = Store(copy)
    assert restored.integrity() == ["ok"] and "changes" in restored.db.table_names()
    restored.close()

def test_garbage_file_is_a_storage_error_not_a_new_database(tmp_path):
    path = tmp_path / "w.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StorageError, match="restore from a backup"):
        Store(path)
    assert path.read_bytes() == b"this is not sqlite" * 100


def cycle(items: list[str], messages=()) -> CycleResult:
    decisions = [Decision(Change("s", k, "news", k, "", "https://x/" + k), Status.NEW, 1) for k in items]
    return CycleResult(source_id="s", decisions=decisions, matches={}, messages=list(messages),
                       validators=Validators('"e1"', None), baseline=False, item_count=len(items), unconditional=True)


def test_cycle_is_one_transaction(tmp_path):
    store = Store(tmp_path / "w.db")
    bad = Message(ref="R1", item_key="a", version=1, subject="s", text="t", html="h", targets=("mail",))
    # A message whose change id cannot be resolved violates nothing; a NULL subject does. Force a failure
    # after the change rows are written and check that neither they nor the validators were kept.
    broken = Message(ref="R2", item_key="b", version=1, subject=None, text="t", html="h", targets=("mail",))
    with pytest.raises(sqlite3.IntegrityError):
        store.commit_cycle(cycle(["a", "b"], [bad, broken]), NOW)
    assert store.db["changes"].count == 0 and store.db["messages"].count == 0
    assert store.sources.get("s").validators == Validators()
    store.commit_cycle(cycle(["a", "b"], [bad]), NOW)
    assert store.db["changes"].count == 2 and store.db["deliveries"].count == 1
    assert store.sources.get("s").validators == Validators('"e1"', None)
    store.close()


def test_enqueue_is_idempotent_per_ref_and_target(tmp_path):
    store = Store(tmp_path / "w.db")
    message = Message(ref="R1", item_key="a", version=1, subject="s", text="t", html="h", targets=("a", "b"))
    with store.transaction():
        store.outbox.enqueue(message, None, NOW)
        store.outbox.enqueue(message, None, NOW)
    assert store.db["messages"].count == 1 and store.db["deliveries"].count == 2
    store.close()
