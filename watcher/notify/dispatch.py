"""Outbox -> apprise. One apprise object per target, so a failing target never causes a re-send to another.

Each delivery is leased before the send and marked after it; a crash in between leaves the lease to expire
and the row is sent once more with the same Ref (the bounded duplicate of RELIABILITY D4).
"""

from __future__ import annotations

import logging
import re
import sys
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable, Mapping, TextIO

import apprise

from ..decide import delivery_retry_at
from ..errors import ConfigError
from ..models import Delivery
from ..store import Store
from .alerts import CONSOLE

log = logging.getLogger(__name__)
LEASE = timedelta(minutes=5)
_CREDENTIALS = re.compile(r"(://)[^/@\s]+@|([?&](?:pass|password|token|apikey|key|secret)=)[^&\s]+", re.I)


def redact(text: str) -> str:
    """Strip userinfo and token-like query values from anything we log or store."""
    return _CREDENTIALS.sub(lambda m: (m.group(1) or m.group(2)) + "***" + ("@" if m.group(1) else ""), text)


@dataclass(frozen=True)
class DispatchResult:
    sent: int = 0
    failed: int = 0
    dead: int = 0


class Dispatcher:
    def __init__(self, store: Store, targets: Mapping[str, apprise.Apprise], *, now: Callable[[], datetime],
                 console: TextIO | None = None):
        self.store = store
        self.now = now
        self.console = console
        self._apprise = dict(targets)

    def run(self, limit: int = 100) -> DispatchResult:
        sent = failed = dead = 0
        for delivery in self.store.outbox.due(self.now(), limit):
            now = self.now()
            with self.store.transaction():
                if not self.store.outbox.lease(delivery.id, now, now + LEASE):
                    continue
            error = self._send(delivery)
            now = self.now()
            with self.store.transaction():
                if error is None:
                    self.store.outbox.mark_sent(delivery.id, now)
                    sent += 1
                    continue
                retry_at = delivery_retry_at(delivery.attempts + 1, delivery.first_queued_at, now)
                self.store.outbox.mark_failed(delivery.id, now, error, retry_at)
                failed += retry_at is not None
                dead += retry_at is None
            log.warning("delivery %s of %s to %s failed: %s", delivery.id, delivery.message_ref,
                        delivery.target, error)
        return DispatchResult(sent, failed, dead)

    def _send(self, delivery: Delivery) -> str | None:
        """Returns None on success, else a redacted reason."""
        if delivery.target == CONSOLE:
            print(f"\n=== {delivery.subject}\n{delivery.text}\n", file=self.console or sys.stdout, flush=True)
            return None
        target = self._apprise.get(delivery.target)
        if target is None:
            return f"target '{delivery.target}' is no longer configured"
        try:
            result = target.notify(title=delivery.subject, body=delivery.html,
                                   body_format=apprise.NotifyFormat.HTML)
        except Exception as exc:  # a plugin bug must not take the dispatcher down
            return redact(f"{type(exc).__name__}: {exc}")
        # apprise 2.x returns an AppriseResult; NOMATCH and failures are both falsy (RELIABILITY D2).
        return None if result else redact(f"apprise reported {getattr(result, 'status', result)}")


def build_targets(urls: Mapping[str, str]) -> dict[str, apprise.Apprise]:
    """One apprise object per target; a URL apprise cannot parse is a config error at start-up (S5)."""
    return {name: _build(name, url) for name, url in urls.items()}


def _build(name: str, url: str) -> apprise.Apprise:
    asset = apprise.AppriseAsset(secure_logging=True)
    target = apprise.Apprise(asset=asset)
    if not target.add(url):
        raise ConfigError(f"watcher.toml: target '{name}': apprise cannot use this URL "
                          f"({redact(url.split('?')[0])})")
    return target
