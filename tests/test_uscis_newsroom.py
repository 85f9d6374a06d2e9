"""USCIS newsroom HTML listing: every row of the recorded fragment, typed from the page."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from watcher.config import Schedule, SourceConfig
from watcher.errors import ParseError
from watcher.models import Fetched, Validators
from watcher.sources.uscis_newsroom import UscisNewsroomSource

from .conftest import SHARED

URL = "https://www.uscis.gov/newsroom/all-news"
SOURCE = UscisNewsroomSource(SourceConfig(id="uscis-newsroom", kind="uscis_newsroom", url=URL, schedule=Schedule()))
PAGE = (SHARED / "fixtures" / "uscis_newsroom_all_news_fragment.html").read_bytes()

TYPED = [
    ("/newsroom/alerts/uscis-reaches-h-2b-cap-for-first-half-of-fy-2027", "alert",
     "USCIS Reaches H-2B Cap for First Half of FY 2027", "2026-09-11T13:40:20"),
    ("/newsroom/alerts/dhs-announces-rule-for-certain-children-born-in-the-united-states-to-foreign-government-employees",
     "alert", "DHS Announces Rule for Certain Children Born in the United States to Foreign Government Employees",
     "2026-09-04T22:26:12"),
    ("/newsroom/alerts/court-order-on-diversity-immigrant-visa-program-hold-policy", "alert",
     "Court Order on Diversity Immigrant Visa Program Hold Policy", "2026-09-04T17:40:27"),
    ("/newsroom/news-releases/naturalized-us-citizen-indicted-for-lying-to-obtain-us-citizenship-after-committing-felonies",
     "news_release", "Naturalized U.S. Citizen Indicted for Lying to Obtain U.S. Citizenship After Committing Felonies",
     "2026-09-03T18:36:10"),
    ("/newsroom/alerts/uscis-opens-new-international-field-office-in-ethiopia-to-support-fraud-prevention", "alert",
     "USCIS Opens New International Field Office in Ethiopia to Support Fraud Prevention", "2026-09-03T18:15:27"),
    ("/newsroom/news-releases/illegal-alien-indicted-in-marriage-related-immigration-fraud", "news_release",
     "Illegal Alien Indicted in Marriage-Related Immigration Fraud", "2026-09-03T13:57:11"),
]


def parse(body: bytes = PAGE):
    return SOURCE.parse(Fetched(url=URL, status=200, body=body, headers={}, validators=Validators()))


def test_every_row():
    changes = parse()
    assert len(changes) == len(TYPED)
    for change, (path, kind, title, when) in zip(changes, TYPED):
        assert change.url == change.item_key == "https://www.uscis.gov" + path
        assert (change.kind, change.title) == (kind, title)
        assert change.published == datetime.fromisoformat(when).replace(tzinfo=timezone.utc)
    assert changes[0].summary.startswith("U.S. Citizenship and Immigration Services received enough petitions")
    assert "\xa0" not in changes[0].summary


@pytest.mark.parametrize("body", [b"", b"<html><body><h1>Access Denied</h1></body></html>",
                                  PAGE.replace(b"views-row", b"teaser-row")])
def test_pages_without_rows_are_parser_broken(body):
    with pytest.raises(ParseError) as info:
        parse(body or b" ")
    assert info.value.error_class == "parser_broken"
