"""Pure decisions: no I/O, no clock reads (time is passed in). Table-tested."""

from __future__ import annotations

import random
import re
from datetime import datetime, timedelta
from typing import Any, Iterable, Mapping

from .meaning import lawyer_changes, plain
from .models import Change, Decision, SourceState, Status, StoredVersion

SOURCE_BACKOFF_BASE = timedelta(minutes=15)
SOURCE_BACKOFF_CAP = timedelta(hours=24)
UNCONDITIONAL_EVERY = timedelta(days=1)  # some servers answer 304 forever (RELIABILITY A3)
DELIVERY_BACKOFF_BASE = timedelta(minutes=1)
DELIVERY_BACKOFF_CAP = timedelta(minutes=60)
DELIVERY_GIVE_UP = timedelta(hours=24)


FAILING_AFTER = 3   # consecutive fetch errors before a source is "failing" (one blip is not news)
BROKEN_AFTER = 2    # consecutive "parser broken" results before the ops target hears of it
HEALTHS = ("ok", "failing", "parser_broken", "silent")


def source_health(state: SourceState, now: datetime, silent_after: timedelta | None) -> str:
    """ok | failing | parser_broken | silent. Errors outrank silence: a failing source is also quiet."""
    if state.last_error_class == "parser_broken" and state.consecutive_failures >= BROKEN_AFTER:
        return "parser_broken"
    if state.consecutive_failures >= FAILING_AFTER:
        return "failing"
    last_news = state.last_new_item_at or state.last_success_at
    if silent_after and state.consecutive_failures == 0 and last_news and now - last_news > silent_after:
        return "silent"
    return "ok"


MASS_CHANGE_MIN = 10        # at least this many new items in one fetch ...
MASS_CHANGE_SHARE = 0.3     # ... and more than this share of the feed: an id scheme change, not news (C3)


_DOCKET_PREFIX = re.compile(r"^no\.?\s*")  # "No. 22-23" and "22-23" are one docket


def docket_key(kind: str, facts: Mapping) -> str | None:
    """A court decision's court and docket ("scotus 22-23"): the Supreme Court's own page and CourtListener
    report one ruling under two URLs, and an attorney should hear of it once."""
    court, docket = facts.get("court"), facts.get("docket")
    if kind != "court_opinion" or not court or not isinstance(docket, str) or not docket.strip():
        return None
    return f"{str(court).lower()} {_DOCKET_PREFIX.sub('', docket.strip().lower())}"


# A presidential document's kind as the White House files it (its feed's category) and as the Federal Register does.
PRESIDENTIAL_KINDS = {"executive orders": "executive order", "executive order": "executive order",
                      "proclamations": "proclamation", "proclamation": "proclamation",
                      "presidential memoranda": "memorandum", "memorandum": "memorandum",
                      "memoranda": "memorandum"}
# The White House posts an action the day it is signed or soon after; the Register's copy names the signing day.
SAME_SIGNING = timedelta(days=3)
_WORD = re.compile(r"[a-z0-9]+")


def presidential_identity(kind: str, title: str, facts: Mapping) -> tuple[str, str] | None:
    """(kind and title words, day) of a presidential document: the White House's post and the Federal Register's
    copy of one proclamation are one change. Titles compare as sets of words, so case, punctuation and a word the
    White House typed twice ("Integrity and Integrity and") do not matter, but one different word ("Dairy" for
    "Motor Vehicles", two proclamations signed the same day) does: a wrong merge would lose an alert."""
    if kind != "presidential_document":
        return None
    doc_type = PRESIDENTIAL_KINDS.get(str(facts.get("presidential_document_type") or "").strip().lower())
    day = facts.get("signing_date") or facts.get("posted_on")
    words = sorted(set(_WORD.findall(plain(title).lower().replace("'", ""))))
    if not doc_type or not isinstance(day, str) or not words:
        return None
    try:
        datetime.fromisoformat(day[:10])
    except ValueError:
        return None  # no day to compare: never merged
    return f"{doc_type}|{' '.join(words)}", day[:10]


def same_presidential(one: tuple[str, str], other: tuple[str, str]) -> bool:
    """Two identities (presidential_identity) of one document: the same kind and words, days at most 3 apart."""
    apart = abs(datetime.fromisoformat(one[1]) - datetime.fromisoformat(other[1]))
    return one[0] == other[0] and apart <= SAME_SIGNING


# What an EOIR memorandum does to earlier ones, as sources/eoir_policy.py reads it from its subject.
MEMO_VERBS = ("cancels", "reinstates", "amends")


def published_as(copy: Change) -> dict[str, Any]:
    """What the Federal Register's copy adds to the White House's change of one document: where and under which
    number it was published ("91 FR 60497", Proclamation 11069)."""
    facts = {k: copy.facts[k] for k in ("citation", "document_number", "presidential_number") if copy.facts.get(k)}
    if copy.published:
        facts["published_on"] = copy.published.date().isoformat()
    return {**facts, "url": copy.url, "source_id": copy.source_id}


def mass_change(new: int, total: int) -> bool:
    return new >= MASS_CHANGE_MIN and new > MASS_CHANGE_SHARE * total


def classify(changes: Iterable[Change], stored: Mapping[str, StoredVersion]) -> list[Decision]:
    """NEW when the key is unknown, UPDATED (version n+1) when its content hash moved, else UNCHANGED. An update
    carries the lawyer-relevant fields that changed; with none, it is stored and not announced."""
    decisions = []
    for change in changes:
        previous = stored.get(change.item_key)
        if previous is None:
            decisions.append(Decision(change, Status.NEW, 1))
        elif previous.content_hash != change.content_hash:
            changed = lawyer_changes(change.kind, previous.fields(), change.fields())
            decisions.append(Decision(change, Status.UPDATED, previous.version + 1, previous, changed))
        else:
            decisions.append(Decision(change, Status.UNCHANGED, previous.version, previous))
    return decisions


def source_backoff(failures: int, now: datetime, retry_after: datetime | None = None) -> datetime:
    """Capped exponential backoff per source; a server's Retry-After wins when it asks for longer.

    A source is never disabled: after the cap it is simply tried once a day.
    """
    delay = min(SOURCE_BACKOFF_BASE * 2 ** min(max(failures - 1, 0), 16), SOURCE_BACKOFF_CAP)
    until = now + delay
    return max(until, retry_after) if retry_after else until


def is_due(state: SourceState, now: datetime) -> bool:
    return state.backoff_until is None or state.backoff_until <= now


def send_validators(state: SourceState, now: datetime) -> bool:
    """Send stored validators unless the last attempt failed or a day passed without an unconditional GET."""
    if state.consecutive_failures or not state.baseline_done:
        return False
    last = state.last_unconditional_at
    return last is not None and now - last < UNCONDITIONAL_EVERY


def delivery_retry_at(attempts: int, first_queued: datetime, now: datetime,
                      rng: random.Random | None = None) -> datetime | None:
    """When to retry a failed delivery: 1, 2, 4 ... 60 min plus up to 20% jitter; None once 24 h passed."""
    if now - first_queued >= DELIVERY_GIVE_UP:
        return None
    delay = min(DELIVERY_BACKOFF_BASE * 2 ** min(max(attempts - 1, 0), 16), DELIVERY_BACKOFF_CAP)
    jitter = (rng or random).uniform(0, 0.2) * delay
    return now + delay + jitter


DIGEST_HOUR = 12  # UTC: digests go out once a day (daily) or on Mondays (weekly) at this hour


def next_digest(now: datetime, mode: str) -> datetime:
    """When a digest of this mode next goes out; "immediate" is now."""
    if mode == "immediate":
        return now
    slot = now.replace(hour=DIGEST_HOUR, minute=0, second=0, microsecond=0)
    if mode == "daily":
        return slot if slot > now else slot + timedelta(days=1)
    days = (0 - slot.weekday()) % 7  # Monday
    slot += timedelta(days=days)
    return slot if slot > now else slot + timedelta(days=7)
