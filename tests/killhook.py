"""Imported by a subprocess (never by watcher itself): SIGKILL the process at one named step.

WATCHER_KILL_AT=before_commit   dies on entering Store.commit_cycle (after fetch and parse)
WATCHER_KILL_AT=after_send      dies after the provider accepted a message, before it is marked sent
WATCHER_KILL_AT=mid_migration   dies inside the first migration, after three of its statements
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

    def _send_then_die(self, name, subject, text, html):
        error = _real_send(self, name, subject, text, html)
        if error is None:
            _die()
        return error

    Dispatcher._send = _send_then_die
