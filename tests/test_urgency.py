"""Urgency table."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from watcher.models import Change, Match
from watcher.urgency import Urgency, urgency

NOW = datetime(2026, 11, 27, 12, tzinfo=timezone.utc)
H1B = [Match("H-1B", 0.9, "m", "r")]


def change(kind: str, title: str = "Something", **facts) -> Change:
    return Change("s", "k", kind, title, "", "https://x", facts=facts)


@pytest.mark.parametrize("item, matches, open_matters, expected", [
    (change("rule", effective_on="2026-12-15"), H1B, {}, Urgency.URGENT),          # effective in 18 days
    (change("rule", effective_on="2027-04-01"), H1B, {}, Urgency.ACTION),          # effective in 4 months
    (change("rule", effective_on="2026-01-01"), H1B, {}, Urgency.ACTION),          # already in force
    (change("rule"), H1B, {}, Urgency.ACTION),                                     # no date given
    (change("proposed_rule", comments_close_on="2026-12-05"), H1B, {}, Urgency.ACTION),
    (change("proposed_rule", comments_close_on="2027-02-01"), H1B, {}, Urgency.ACTION),  # any open comment period
    (change("proposed_rule", comments_close_on="2026-11-01"), H1B, {}, Urgency.INFO),    # closed
    (change("proposed_rule"), H1B, {}, Urgency.INFO),                                   # no deadline given
    (change("notice"), H1B, {}, Urgency.INFO),
    (change("notice"), H1B, {"H-1B": 25}, Urgency.ACTION),                         # many open matters
    (change("rule", effective_on="2026-12-15"), H1B, {"H-1B": 99}, Urgency.URGENT),  # capped
    (change("precedent"), H1B, {}, Urgency.ACTION),
    (change("policy_alert"), H1B, {}, Urgency.ACTION),
    (change("presidential_document"), H1B, {}, Urgency.ACTION),  # a proclamation binds before any rule follows
    (change("court_opinion", "Pugin v. Garland (22-23)", court="scotus"), H1B, {}, Urgency.ACTION),
    (change("court_opinion", "Doe v. Garland (ca9)", court="ca9"), H1B, {}, Urgency.INFO),  # one circuit's
    (change("technical_update"), H1B, {}, Urgency.INFO),
    (change("alert", "Termination of the Designation of Haiti for TPS"), H1B, {}, Urgency.ACTION),
    (change("alert", "USCIS Celebrates Independence Day"), H1B, {}, Urgency.INFO),
    (change("visa_bulletin", movement=[{"movement": "advanced"}]), H1B, {}, Urgency.ACTION),
    (change("visa_bulletin", movement=[{"movement": "advanced"}, {"movement": "retrogressed"}]), H1B, {}, Urgency.URGENT),
    (change("visa_bulletin", movement=[{"movement": "became_unavailable"}]), H1B, {}, Urgency.URGENT),
    (change("visa_bulletin", movement=[]), H1B, {}, Urgency.INFO),
    (change("rule", effective_on="not a date"), H1B, {}, Urgency.ACTION),
])
def test_urgency(item, matches, open_matters, expected):
    assert urgency(item, matches, open_matters, NOW) is expected
