"""Outbox -> apprise. One apprise object per target, so a failing target never causes a re-send to another.

Each delivery is leased before the send and marked after it; a crash in between leaves the lease to expire
and the row is sent once more with the same Ref (the bounded duplicate of RELIABILITY D4). Digest rows for a
target go out together as one message. A delivery that stays undeliverable for 24 hours is marked dead and
the ops targets hear about it on another channel.
"""

from __future__ import annotations

import logging
import sys
import tempfile
import time
from pathlib import Path
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Callable, Mapping, Sequence, TextIO
from urllib.parse import urlsplit

import apprise

from ..decide import delivery_retry_at
from ..errors import ConfigError
from ..models import Delivery, Message
from ..store import Store
from .alerts import CONSOLE, message_ref
from ..redact import redact, redact_url
from .render import LIMITS, paragraphs, render_digest, safe_text

log = logging.getLogger(__name__)
LEASE = timedelta(minutes=5)
@dataclass(frozen=True)
class Target:
    name: str
    apprise: apprise.Apprise = field(repr=False)
    format: str  # email | slack | text


@dataclass(frozen=True)
class DispatchResult:
    sent: int = 0
    failed: int = 0
    dead: int = 0


def infer_format(url: str) -> str:
    scheme = urlsplit(url).scheme.lower()
    if scheme in ("mailto", "mailtos"):
        return "email"
    return "slack" if scheme == "slack" or "hooks.slack.com" in url else "text"


def build_targets(urls: Mapping[str, str], formats: Mapping[str, str] | None = None) -> dict[str, Target]:
    """One apprise object per target; a URL apprise cannot parse is a config error at start-up (S5)."""
    formats = formats or {}
    targets = {}
    for name, url in urls.items():
        fmt = formats.get(name, "auto")
        targets[name] = Target(name, _build(name, url), infer_format(url) if fmt == "auto" else fmt)
    return targets


class Dispatcher:
    def __init__(self, store: Store, targets: Mapping[str, Target], *, now: Callable[[], datetime],
                 console: TextIO | None = None, ops: Sequence[str] = ()):
        self.store = store
        self.now = now
        self.console = console
        self.targets = dict(targets)
        self.ops = tuple(ops)

    def run(self, limit: int = 200, budget: float | None = None,
            clock: Callable[[], float] = time.monotonic) -> DispatchResult:
        """Send what is due. With a `budget` (seconds), no new send starts once it is spent: the rest waits for
        the next tick, so one run never holds the delivery worker for long (the watchdog reads its progress)."""
        began = clock()
        due = self.store.outbox.due(self.now(), limit)
        batches: dict[tuple[str, str], list[Delivery]] = defaultdict(list)
        for delivery in due:
            batches[(delivery.target, delivery.digest or f"single:{delivery.id}")].append(delivery)
        totals = [0, 0, 0]
        for (_, mode), deliveries in batches.items():
            if budget is not None and clock() - began > budget:
                break
            for i, n in enumerate(self._batch(deliveries, None if mode.startswith("single:") else mode)):
                totals[i] += n
        return DispatchResult(*totals)

    def _batch(self, deliveries: list[Delivery], digest: str | None) -> tuple[int, int, int]:
        now = self.now()
        with self.store.transaction():
            leased = [d for d in deliveries if self.store.outbox.lease(d.id, now, now + LEASE)]
        if not leased:
            return 0, 0, 0
        if digest and len(leased) > 1:
            subject, text, html = render_digest(digest, [(d.subject, d.text, d.html) for d in leased])
        else:
            subject, text, html = leased[0].subject, leased[0].text, leased[0].html
        attachments = [d.attachment for d in leased if d.attachment]
        error = self._send(leased[0].target, subject, text, html, attachments)
        now = self.now()
        sent = failed = dead = 0
        with self.store.transaction():
            for delivery in leased:
                if error is None:
                    self.store.outbox.mark_sent(delivery.id, now)
                    sent += 1
                    continue
                retry_at = delivery_retry_at(delivery.attempts + 1, delivery.first_queued_at, now)
                self.store.outbox.mark_failed(delivery.id, now, error, retry_at)
                if retry_at is None:
                    dead += 1
                    self._report_dead(delivery, error, now)
                else:
                    failed += 1
        if error:
            log.warning("delivery of %s to %s failed: %s", ", ".join(d.message_ref for d in leased),
                        leased[0].target, error)
        return sent, failed, dead

    def _report_dead(self, delivery: Delivery, error: str, now: datetime) -> None:
        """Tell ops on a channel other than the one that failed (an e-mail if Slack died, and the reverse)."""
        others = tuple(t for t in self.ops if t != delivery.target) or ((CONSOLE,) if not self.targets else ())
        if not others or delivery.kind == "dead-letter":
            log.error("dead letter %s to %s and no other ops channel to report it: %s",
                      delivery.message_ref, delivery.target, error)
            return
        ref = message_ref("dead-letter", delivery.message_ref, delivery.target)
        body = (f"Message {delivery.message_ref} ('{delivery.subject}') could not be delivered to target "
                f"'{delivery.target}' for 24 hours and was given up. Last error: {error}. "
                "Check the target's credential and `watcher status`.")
        self.store.outbox.enqueue(Message(ref=ref, item_key=f"dead:{delivery.id}", version=0,
                                          subject=f"[watcher ops] DEAD LETTER to {delivery.target}",
                                          text=f"{body}\n\nRef: {ref}", html=paragraphs(body, f"Ref: {ref}"),
                                          targets=others, kind="dead-letter", urgency="URGENT"), None, now)

    def send(self, name: str, subject: str, text: str) -> str | None:
        """One message now, outside the outbox (`watcher test-send`): None when accepted, else the redacted reason."""
        return self._send(name, subject, text, paragraphs(*text.split("\n\n")))

    def _send(self, name: str, subject: str, text: str, html: str,
              attachments: list[tuple[str, bytes]] | None = None) -> str | None:
        """Returns None on success, else a redacted reason. Attachments go to e-mail targets; a chat target gets the
        text, which says what is attached."""
        if name == CONSOLE:
            files = "".join(f"\n[attached: {n}, {len(data)} bytes]" for n, data in attachments or ())
            print(f"\n=== {subject}\n{text}{files}\n", file=self.console or sys.stdout, flush=True)
            return None
        target = self.targets.get(name)
        if target is None:
            return f"target '{name}' is no longer configured"
        try:
            if target.format == "email":
                with tempfile.TemporaryDirectory(prefix="watcher-attach-") as folder:
                    paths = []
                    for file_name, data in attachments or ():
                        path = Path(folder) / Path(file_name).name
                        path.write_bytes(data)
                        paths.append(str(path))
                    result = target.apprise.notify(title=subject, body=html, body_format=apprise.NotifyFormat.HTML,
                                                   attach=apprise.AppriseAttachment(paths) if paths else None)
            else:  # chat: safe text only, cut to the service's limit (RELIABILITY H4)
                result = target.apprise.notify(title=safe_text(subject, 150),
                                               body=safe_text(text, LIMITS[target.format]),
                                               body_format=apprise.NotifyFormat.TEXT)
        except Exception as exc:  # a plugin bug must not take the dispatcher down
            return redact(f"{type(exc).__name__}: {exc}")
        # apprise 2.x returns an AppriseResult; NOMATCH and failures are both falsy (RELIABILITY D2).
        return None if result else redact(f"apprise reported {getattr(result, 'status', result)}")


def _build(name: str, url: str) -> apprise.Apprise:
    asset = apprise.AppriseAsset(secure_logging=True)
    target = apprise.Apprise(asset=asset)
    if not target.add(url):
        raise ConfigError(f"watcher.toml: target '{name}': apprise cannot use this URL "
                          f"({redact_url(url)})")
    return target
