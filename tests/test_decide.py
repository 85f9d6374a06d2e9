"""Pure decisions, table-tested."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import pytest

from watcher import decide
from watcher.models import Change, SourceState, Status, StoredVersion

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=timezone.utc)


def change(key: str, title: str = "t") -> Change:
    return Change(source_id="s", item_key=key, kind="news", title=title, summary="", url="https://x")


def test_classify_new_updated_unchanged():
    same, edited = change("a"), change("b", "new title")
    stored = {"a": StoredVersion(1, 3, same.content_hash, "t", ""), "b": StoredVersion(2, 1, "old", "t", "")}
    decisions = decide.classify([same, edited, change("c")], stored)
    assert [(d.status, d.version) for d in decisions] == [
        (Status.UNCHANGED, 3), (Status.UPDATED, 2), (Status.NEW, 1)]
    assert decisions[1].previous.change_id == 2


def test_content_hash_ignores_identity_but_not_content():
    assert change("a").content_hash == change("b").content_hash
    assert change("a", "x").content_hash != change("a", "y").content_hash


@pytest.mark.parametrize("failures, delay", [
    (1, timedelta(minutes=15)), (2, timedelta(minutes=30)), (3, timedelta(hours=1)),
    (7, timedelta(hours=16)), (8, timedelta(hours=24)), (50, timedelta(hours=24)),
])
def test_source_backoff_is_capped_exponential(failures, delay):
    assert decide.source_backoff(failures, NOW) == NOW + delay


def test_retry_after_wins_when_longer():
    assert decide.source_backoff(1, NOW, NOW + timedelta(hours=2)) == NOW + timedelta(hours=2)
    assert decide.source_backoff(3, NOW, NOW + timedelta(seconds=5)) == NOW + timedelta(hours=1)


@pytest.mark.parametrize("state, expected", [
    (SourceState("s"), False),                                                     # never fetched
    (SourceState("s", baseline_done=True, last_unconditional_at=NOW - timedelta(hours=1)), True),
    (SourceState("s", baseline_done=True, last_unconditional_at=NOW - timedelta(hours=25)), False),  # daily bypass
    (SourceState("s", baseline_done=True, consecutive_failures=1,
                 last_unconditional_at=NOW - timedelta(hours=1)), False),          # after an error
])
def test_send_validators(state, expected):
    assert decide.send_validators(state, NOW) is expected


@pytest.mark.parametrize("attempts, low, high", [
    (1, timedelta(minutes=1), timedelta(minutes=1.2)), (2, timedelta(minutes=2), timedelta(minutes=2.4)),
    (7, timedelta(minutes=60), timedelta(minutes=72)), (30, timedelta(minutes=60), timedelta(minutes=72)),
])
def test_delivery_retry_backoff_with_jitter(attempts, low, high):
    retry = decide.delivery_retry_at(attempts, NOW, NOW, random.Random(attempts))
    assert NOW + low <= retry <= NOW + high


def test_delivery_gives_up_after_a_day():
    assert decide.delivery_retry_at(3, NOW - timedelta(hours=24), NOW) is None
    assert decide.delivery_retry_at(3, NOW - timedelta(hours=23), NOW) is not None
