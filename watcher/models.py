"""Frozen records passed between modules. No behaviour beyond small derived values."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any, Mapping


@dataclass(frozen=True)
class Validators:
    """HTTP validators exactly as the server sent them (never synthesized)."""

    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True)
class Fetched:
    """One successful HTTP exchange (200 with a body, or 304)."""

    url: str
    status: int
    body: bytes
    headers: Mapping[str, str]
    validators: Validators
    bytes_received: int = 0

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")


@dataclass(frozen=True)
class Change:
    """A normalized item as a source parsed it. `item_key` is its identity, `content_hash` its content."""

    source_id: str
    item_key: str
    kind: str
    title: str
    summary: str
    url: str
    published: datetime | None = None
    facts: Mapping[str, Any] = field(default_factory=dict)

    @property
    def content_hash(self) -> str:
        # Identity (item_key) and content are separate, so an edit is an update, not a new item (C2). The hash
        # covers the content as meant (meaning.py): a respelled link or re-wrapped text is not a new version.
        from .meaning import meaning

        material = json.dumps(meaning(self.title, self.summary, self.url, self.facts), sort_keys=True, default=str)
        return hashlib.sha256(material.encode()).hexdigest()

    def fields(self) -> dict[str, Any]:
        """Title, summary and facts in one mapping: what meaning.lawyer_changes compares."""
        return {**self.facts, "title": self.title, "summary": self.summary}


class Status(str, Enum):
    NEW = "NEW"
    UPDATED = "UPDATED"
    UNCHANGED = "UNCHANGED"


@dataclass(frozen=True)
class StoredVersion:
    """What the store knows of an item: its latest version and the content it had."""

    change_id: int
    version: int
    content_hash: str
    title: str
    summary: str
    url: str = ""
    facts: Mapping[str, Any] = field(default_factory=dict)

    def fields(self) -> dict[str, Any]:
        return {**self.facts, "title": self.title, "summary": self.summary}


@dataclass(frozen=True)
class Decision:
    change: Change
    status: Status
    version: int
    previous: StoredVersion | None = None
    # For an update: the lawyer-relevant fields that changed (meaning.FieldChange). None of them: a cosmetic
    # update, stored as a version and never announced.
    changed: tuple = ()

    @property
    def announce(self) -> bool:
        return self.status is Status.NEW or (self.status is Status.UPDATED and bool(self.changed))


@dataclass(frozen=True)
class Match:
    case_type: str
    score: float
    method: str
    rationale: str


@dataclass(frozen=True)
class Message:
    """One message, addressed to named targets. `ref` is short and stable so a rare repeat is recognisable.

    `schedule` says, per target, whether it goes out at once or in that target's daily or weekly digest.
    """

    ref: str
    item_key: str
    version: int
    subject: str
    text: str
    html: str
    targets: tuple[str, ...]
    kind: str = "alert"          # alert | health | dead-letter | agenda
    urgency: str = "INFO"
    schedule: Mapping[str, str] = field(default_factory=dict)
    attachment: tuple[str, bytes] | None = None  # (file name, content): the agenda's calendar invite


@dataclass(frozen=True)
class TrainingTask:
    """What a team must learn because of a change: created for each ACTION or URGENT change and team."""

    key: str
    item_key: str
    version: int
    team: str
    title: str
    brief: str
    checklist: tuple[str, ...]
    audience: str
    due: str          # YYYY-MM-DD
    urgency: str
    url: str
    was_due: str | None = None  # set when an update of the item moves an open task: its due date before


@dataclass(frozen=True)
class Delivery:
    """One outbox row: a message for one target."""

    id: int
    message_ref: str
    target: str
    subject: str
    text: str
    html: str
    attempts: int
    first_queued_at: datetime
    digest: str | None = None
    kind: str = "alert"
    attachment: tuple[str, bytes] | None = None


@dataclass(frozen=True)
class SourceState:
    source_id: str
    validators: Validators = Validators()
    baseline_done: bool = False
    consecutive_failures: int = 0
    last_attempt_at: datetime | None = None
    last_success_at: datetime | None = None
    last_new_item_at: datetime | None = None
    last_unconditional_at: datetime | None = None
    backoff_until: datetime | None = None
    last_error_class: str | None = None
    last_error_message: str | None = None
    item_count: int = 0
    health: str = "ok"
    health_since: datetime | None = None


@dataclass(frozen=True)
class SourceRun:
    """What one cycle of one source did; printed by `watcher check`, stored in `runs`."""

    source_id: str
    outcome: str  # ok | not_modified | baseline | skipped | error
    new: int = 0
    updated: int = 0
    messages: int = 0
    bytes_received: int = 0
    error_class: str | None = None
    error_message: str | None = None


@dataclass(frozen=True)
class StoredChange:
    """A change as listed by `watcher changes`."""

    id: int
    source_id: str
    item_key: str
    version: int
    title: str
    url: str
    published: str | None
    first_seen_at: str
    updated_at: str
    case_types: tuple[str, ...]


@dataclass(frozen=True)
class Matter:
    """An open matter of the firm: an opaque reference and case facts. Never a name or an A-number."""

    ref: str
    case_type: str
    team: str
    status: str = "open"
    priority_date: str | None = None
    category: str | None = None
    country: str | None = None
    venue: str | None = None
