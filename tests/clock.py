"""An injected clock for tests: time moves only when a test moves it."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

START = datetime(2026, 11, 27, 12, 0, tzinfo=timezone.utc)


class Clock:
    def __init__(self, moment: datetime = START):
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment

    def advance(self, **kwargs) -> None:
        self.moment += timedelta(**kwargs)
