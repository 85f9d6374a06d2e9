"""The keyword matcher on real USCIS titles, and the Policy Manual signal both matchers share."""

from __future__ import annotations

from watcher import config
from watcher.matching.matcher import KeywordMatcher
from watcher.matching.relations import Relations
from watcher.matching.signals import manual_matches
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
    assert codes("Review of a denied Form I\u2011751") == ["I-751"]  # a non-breaking hyphen, as EOIR writes it


def test_administrative_news_matches_nothing():
    assert codes("Tools Outage") == []


def test_rationale_says_why():
    match = MATCHER.match(Change("s", "k", "news", "New Form I-765 edition", "", "https://x"))[0]
    assert match.case_type == "I-765" and "cites Form I-765" in match.rationale and match.method == "keywords"


def test_the_firms_relations_apply_to_keyword_matches_too():
    cfg = config.load(REPO / "config")
    # One phrase scores 0.3: a firm that alerts on single phrases sets matching.min_score that low.
    without = KeywordMatcher(cfg.case_types, min_score=0.3)
    with_relations = KeywordMatcher(cfg.case_types, min_score=0.3, relations=Relations(cfg.relations))
    change = Change("s", "k", "news", "DHS Publishes Fair and Humane Public Charge Rule",
                    "The final rule explains how DHS will administer the public charge ground of inadmissibility.",
                    "https://x")
    assert [m.case_type for m in without.match(change)] == ["PUBLIC-CHARGE"]
    found = {m.case_type: m for m in with_relations.match(change)}
    assert set(found) == {"PUBLIC-CHARGE", "I-485"}
    assert found["I-485"].rationale == "DHS public-charge rules reach adjustment applicants (case_types.toml)"


def policy_alert(*citations: str, kind: str = "policy_alert") -> Change:
    # The facts the uscis_policy_manual source records ("12 USCIS-PM D.2": volume 12, part D, chapter 2).
    return Change("pm", "k", kind, "POLICY ALERT: Good Moral Character", "USCIS is updating guidance.", "https://x",
                  facts={"affected_sections": [{"citation": c, "title": "Chapter 2 - Eligibility"} for c in citations]})


def test_a_policy_alert_concerns_the_case_types_of_the_volumes_it_changes():
    case_types = config.load(REPO / "config").case_types
    naturalization = manual_matches(policy_alert("12 USCIS-PM D.2"), case_types)
    assert [(m.case_type, m.score, m.method) for m in naturalization] == [("N-400", 1.0, "policy manual")]
    assert "12 USCIS-PM D.2 (Chapter 2 - Eligibility)" in naturalization[0].rationale
    # A part names one case type of a volume many share: Part H of volume 2 is H-1B, not students or L-1.
    assert [m.case_type for m in manual_matches(policy_alert("2 USCIS-PM H.4", "6 USCIS-PM F.2"), case_types)] == \
        ["H-1B", "PERM-I-140"]
    assert manual_matches(policy_alert("1 USCIS-PM D.1"), case_types) == []  # attorneys and representatives
    assert manual_matches(policy_alert("12 USCIS-PM D.2", kind="technical_update"), case_types) == []
    # The keyword matcher takes it too, beside what the text names.
    assert [m.method for m in MATCHER.match(policy_alert("12 USCIS-PM D.2")) if m.case_type == "N-400"] == \
        ["policy manual"]
