"""Imported by a subprocess (never by watcher itself): SIGKILL the process at one named step.

WATCHER_KILL_AT=before_commit   dies on entering Store.commit_cycle (after fetch and parse)
WATCHER_KILL_AT=after_send      dies after the provider accepted a message, before it is marked sent
WATCHER_KILL_AT=mid_migration   dies inside the first migration, after three of its statements
WATCHER_KILL_AT=mid_backup      dies while VACUUM INTO is writing the backup's temporary file
"""

import os
import signal

from watcher.notify.dispatch import Dispatcher
from watcher.store import Store

STEP = os.environ.get("WATCHER_KILL_AT", "")


def _die():
    os.kill(os.getpid(), signal.SIGKILL)


if STEP == "before_commit":
    Store.commit_cycle = lambda self, cycle, now: _die()
elif STEP == "mid_migration":
    import watcher.store.schema as schema

    class _DyingList(list):
        def __iter__(self):
            for index, item in enumerate(list.__iter__(self)):
                if index == 3:
                    _die()
                yield item

    schema.INITIAL = _DyingList(schema.INITIAL)
elif STEP == "after_send":
    _real_send = Dispatcher._send

    def _send_then_die(self, name, subject, text, html, attachments=None):
        error = _real_send(self, name, subject, text, html, attachments)
        if error is None:
            _die()
        return error

    Dispatcher._send = _send_then_die
elif STEP == "mid_backup":
    import sqlite3

    import watcher.store as store_package
    import watcher.store.schema as schema

    _connect = sqlite3.connect

    class _DyingConnection:
        """The backup's own connection: SIGKILL after a few hundred VM steps of VACUUM INTO."""

        def __init__(self, *args, **kwargs):
            self._conn = _connect(*args, **kwargs)
            steps = [0]

            def progress():
                steps[0] += 1
                if steps[0] > 3:
                    _die()
                return 0
            self._conn.set_progress_handler(progress, 100)

        def __getattr__(self, name):
            return getattr(self._conn, name)

    _real_backup = schema.backup

    def _dying_backup(path, destination, *args, **kwargs):
        real_connect = schema.sqlite3.connect
        schema.sqlite3.connect = _DyingConnection
        try:
            return _real_backup(path, destination, *args, **kwargs)
        finally:
            schema.sqlite3.connect = real_connect

    store_package.backup = _dying_backup
