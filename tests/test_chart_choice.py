"""`uscis_chart_choice`: which Visa Bulletin chart adjustment applicants use, read from USCIS's own sentence."""

from __future__ import annotations

import pytest

from watcher.config import Schedule, SourceConfig
from watcher.decide import classify
from watcher.errors import ParseError
from watcher.matching.signals import bulletin_matches
from watcher.models import Fetched, Validators
from watcher.sources.chart_choice import ChartChoiceSource, chart_choices

from .feeds import DATA

URL = ("https://www.uscis.gov/green-card/green-card-processes-and-procedures/visa-availability-priority-dates/"
       "adjustment-of-status-filing-charts-from-the-visa-bulletin")
SOURCE = ChartChoiceSource(SourceConfig(id="chart-choice", kind="uscis_chart_choice", url=URL, schedule=Schedule()))


def fetched(body: bytes) -> Fetched:
    return Fetched(url=URL, status=200, body=body, headers={}, validators=Validators())


def test_the_quoted_sentence_for_july_2026():
    [change] = SOURCE.parse(fetched((DATA / "uscis_chart_choice_quoted.html").read_bytes()))
    assert (change.item_key, change.kind) == ("2026-07", "chart_choice")
    assert change.facts == {"month": "2026-07", "family": "Dates for Filing", "employment": None}
    assert change.summary == ("USCIS: to file Form I-485 in July 2026, family-sponsored applicants use the Dates for "
                              "Filing chart of the Visa Bulletin.")
    [match] = bulletin_matches(change)
    assert (match.case_type, match.method) == ("I-485", "bulletin")


@pytest.mark.parametrize("sentence, expected", [
    # Spelled as USCIS has spelled it in other months and for the other system (by meaning, not by exact string).
    ("For Employment-Based preference filings: You must use the Final Action Dates chart in the Department of "
     "State Visa Bulletin for August 2026.", {"2026-08": {"employment": "final_action"}}),
    ("For family sponsored filings, you must use the Final Action Date charts in the Department of State "
     "Visa Bulletin for January 2027.", {"2027-01": {"family": "final_action"}}),
    ("Applicants may use the Dates for Filing chart when USCIS says so.", {}),  # no month, no system: nothing
])
def test_sentences_are_read_by_meaning(sentence, expected):
    assert chart_choices(sentence) == expected


def test_a_page_without_the_sentence_is_parser_broken():
    with pytest.raises(ParseError, match="no 'you must use the"):
        SOURCE.parse(fetched(b"<html><body><h1>Adjustment of Status Filing Charts</h1><p>Page moved.</p></body></html>"))


def test_a_revised_choice_for_the_same_month_is_an_update_that_says_what_changed():
    page = (DATA / "uscis_chart_choice_quoted.html").read_bytes()
    [first] = SOURCE.parse(fetched(page))
    [revised] = SOURCE.parse(fetched(page.replace(b"Dates for Filing chart", b"Final Action Dates chart").replace(
        b"</main>", b"<p>For employment-based preference filings, you must use the Final Action Dates chart in "
                    b"the Department of State Visa Bulletin for July 2026.</p></main>")))

    class Stored:
        content_hash, version = first.content_hash, 1

        @staticmethod
        def fields():
            return first.fields()

    [decision] = classify([revised], {"2026-07": Stored})
    assert [c.line() for c in decision.changed] == [
        "Family-sponsored chart: Dates for Filing -> Final Action Dates", "Employment-based chart: (none) -> Final Action Dates"]


def test_a_bulletin_alert_says_the_chart_only_for_its_own_month():
    from watcher.models import Change
    from watcher.notify.bulletin import bulletin_impact

    july = Change("visa-bulletin", "2026-07", "visa_bulletin", "Visa Bulletin for July 2026", "", URL,
                  facts={"month": "2026-07", "movement": []})
    chosen = {"month": "2026-07", "family": "Dates for Filing", "employment": "Final Action Dates"}
    assert bulletin_impact(july, [], chosen).adjustment_line() == (
        "Adjustment of status this month (USCIS): family-sponsored categories use the Dates for Filing chart; "
        "employment-based categories use the Final Action Dates chart.")
    assert bulletin_impact(july, [], dict(chosen, month="2026-06")).adjustment_line() is None  # last month's
    assert bulletin_impact(july, []).adjustment_line() is None


def test_a_hostile_page_of_half_sentences_is_read_in_one_pass_and_is_parser_broken():
    # 4 MB of openings that never reach "must use the ... chart": every attempt stops within its bounded gaps.
    body = b"<p>" + b"For all family-sponsored preference categories, applicants " * 70_000 + b"</p>"
    with pytest.raises(ParseError, match="no 'you must use the"):
        SOURCE.parse(fetched(body))
