"""Delivery through apprise to real local receivers: SMTP (aiosmtpd) and a loopback JSON webhook."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from watcher.errors import ConfigError
from watcher.models import Message
from watcher.notify.dispatch import Dispatcher, build_targets
from watcher.redact import redact
from watcher.store import Store
from .clock import Clock


def queue(store: Store, now: datetime, ref: str = "W-1") -> None:
    message = Message(ref=ref, item_key="k", version=1, subject="New: H-1B cap", text="text", html="<p>text</p>",
                      targets=("mail", "hook"))
    with store.transaction():
        store.outbox.enqueue(message, None, now)


def test_one_failing_target_never_resends_to_the_other(tmp_path, smtp, webhook):
    clock = Clock()
    store = Store(tmp_path / "w.db")
    dispatcher = Dispatcher(store, build_targets({"mail": smtp.url, "hook": webhook.url}), now=clock)
    queue(store, clock())
    webhook.fail = True
    first = dispatcher.run()
    assert (first.sent, first.failed) == (1, 1)
    assert len(smtp.messages) == 1 and webhook.payloads == []
    assert dispatcher.run().sent == 0  # not due yet: backing off
    webhook.fail = False
    clock.moment += timedelta(minutes=2)
    assert dispatcher.run().sent == 1
    assert len(smtp.messages) == 1 and len(webhook.payloads) == 1  # mail was not sent again
    assert dispatcher.run().sent == 0
    attempts = [(a["ok"]) for a in store.db["delivery_attempts"].rows]
    assert sorted(attempts) == [0, 1, 1]
    store.close()


def test_dead_after_a_day(tmp_path, webhook):
    clock = Clock()
    store = Store(tmp_path / "w.db")
    dispatcher = Dispatcher(store, build_targets({"hook": webhook.url}), now=clock)
    with store.transaction():
        store.outbox.enqueue(Message("W-2", "k", 1, "s", "t", "h", ("hook",)), None, clock())
    webhook.fail = True
    dispatcher.run()
    clock.moment += timedelta(hours=25)
    assert dispatcher.run().dead == 1
    assert store.outbox.counts() == {"dead": 1}
    store.close()


def test_a_crash_between_send_and_mark_resends_once_with_the_same_ref(tmp_path, webhook):
    clock = Clock()
    store = Store(tmp_path / "w.db")
    with store.transaction():
        store.outbox.enqueue(Message("W-3", "k", 1, "subject", "text\nRef: W-3", "<p>Ref: W-3</p>", ("hook",)), None, clock())
        delivery = store.outbox.due(clock())[0]
        assert store.outbox.lease(delivery.id, clock(), clock() + timedelta(minutes=5))
    # ...the process died here after the provider accepted; the lease is still held:
    dispatcher = Dispatcher(store, build_targets({"hook": webhook.url}), now=clock)
    assert dispatcher.run().sent == 0
    clock.moment += timedelta(minutes=6)
    assert dispatcher.run().sent == 1
    assert "Ref: W-3" in webhook.payloads[0]["message"]
    assert dispatcher.run().sent == 0
    store.close()


def test_unusable_url_is_a_config_error_and_never_logged_in_full():
    with pytest.raises(ConfigError) as info:
        build_targets({"ops": "nosuchscheme://user:hunter2@host/"})
    assert "hunter2" not in str(info.value)


def test_redact():
    """Every secret part masked (the class is tested in test_admin.py); the server name stays for ops."""
    assert redact("mailtos://me:hunter2@smtp.firm.example?to=a") == "mailtos://me:****@smtp.firm.example/"
    assert "abc123" not in redact("json://host/?token=abc123&x=1")
