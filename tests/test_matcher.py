"""The keyword matcher on real USCIS titles."""

from __future__ import annotations

from watcher import config
from watcher.matching.matcher import KeywordMatcher
from watcher.models import Change

from .conftest import REPO

MATCHER = KeywordMatcher(config.load(REPO / "config").case_types)


def codes(title: str, summary: str = "") -> list[str]:
    return [m.case_type for m in MATCHER.match(Change("s", "k", "news", title, summary, "https://x"))]


def test_form_numbers_and_phrases():
    assert codes("USCIS Announces New Guidance on Form I-693 Validity Period") == ["I-485"]
    assert "H-1B" in codes("USCIS Extends Initial Registration Period for FY 2025 H-1B Cap")
    assert codes("USCIS Provides Third Gender Option on Form N-400") == ["N-400"]


def test_form_number_boundaries():
    assert codes("Form I-1300 is not a thing") == []
    assert codes("Form I-130A updated") == ["I-130"]


def test_administrative_news_matches_nothing():
    assert codes("Tools Outage") == []


def test_rationale_says_why():
    match = MATCHER.match(Change("s", "k", "news", "New Form I-765 edition", "", "https://x"))[0]
    assert match.case_type == "I-765" and "cites Form I-765" in match.rationale and match.method == "keywords"
