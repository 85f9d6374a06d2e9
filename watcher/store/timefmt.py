"""Timestamps are stored as UTC ISO-8601 text so they sort and compare as strings."""

from __future__ import annotations

from datetime import datetime, timezone


def to_text(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).isoformat(timespec="seconds")


def from_text(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None
