"""Hardening round two, the parse side (issue 25, classes 2, 3, 5, 6 and the link half of 7): hostile bodies
through the real parsers and the real pipeline; each test asserts the bound, the class, what is kept."""

from __future__ import annotations

import copy
import json
import time
import tracemalloc
from datetime import datetime, timezone
from itertools import count

import pytest

from watcher import app as app_module
from watcher.config import Schedule, SourceConfig
from watcher.errors import ParseError
from watcher.models import Fetched, Validators
from watcher.pipeline import run_source
from watcher.sources.federal_register import FederalRegisterSource
from watcher.sources.rss import RssSource
from watcher.sources.uscis_newsroom import UscisNewsroomSource
from watcher.sources.visa_bulletin import VisaBulletinSource, find_charts, parse_bulletin

from .clock import Clock
from .conftest import SHARED, Reply
from .feeds import rss, uscis_items

FIXTURES = SHARED / "fixtures"
RSS = RssSource(SourceConfig(id="feed", kind="rss", url="https://www.uscis.gov/feed", schedule=Schedule()))


def fetched(body: bytes, url: str = "https://www.uscis.gov/feed", content_type: str = "application/rss+xml"):
    return Fetched(url=url, status=200, body=body, headers={"content-type": content_type}, validators=Validators())


# -- class 2: a DTD anywhere ------------------------------------------------------------------------------------------

FEED = rss(uscis_items()[:2])
SUBSET = b'<!DOCTYPE rss [<!ENTITY a "aaaaaaaaaa">]>'


@pytest.mark.parametrize("body", [
    FEED.replace(b"<rss", b"<!-- <a href='x'> -->" + SUBSET + b"<rss", 1),          # behind a comment holding "<a"
    FEED.replace(b"<rss", b"<?pi <a b?>" + SUBSET + b"<rss", 1),                     # behind a processing instruction
    FEED.replace(b"<channel>", b"<channel>" + SUBSET, 1),                             # inside the document
    FEED.replace(b"<rss", b"<!-- <a -->" + SUBSET + b"<rss", 1).decode().encode("utf-16-le"),  # UTF-16, no BOM
], ids=["comment", "processing-instruction", "in-body", "utf16-no-bom"])
def test_a_declaration_anywhere_is_refused(body):
    with pytest.raises(ParseError, match="DTD subset or entities"):
        RSS.parse(fetched(body))


@pytest.mark.parametrize("content_type", ["application/xml", "application/xml; charset=utf-7", ""])
def test_a_declaration_spelled_in_utf7_never_parses(content_type):
    """UTF-7 spells "<" as "+ADw-": whichever way feedparser reads the body, it is refused, never expanded."""
    body = FEED.replace(b"<rss", SUBSET + b"<rss", 1).decode().replace('encoding="utf-8"', 'encoding="utf-7"')
    with pytest.raises(ParseError):
        RSS.parse(fetched(body.encode("utf-7"), content_type=content_type))


def test_quadratic_entity_blowup_is_refused_before_any_expansion():
    """15 MB: one 100 KB entity referenced 150 times is 15 GB once expanded (under expat's amplification limit
    per reference, so expat alone does not stop it)."""
    entity = b'<!DOCTYPE rss [<!ENTITY big "' + b"x" * 100_000 + b'">]>'
    refs = b"&big;" * 3_000_000
    body = b'<?xml version="1.0"?><!-- <a -->' + entity + b"<rss><channel><title>" + refs + b"</title></channel></rss>"
    assert len(body) > 15_000_000
    tracemalloc.start()
    began = time.monotonic()
    try:
        with pytest.raises(ParseError, match="DTD subset or entities"):
            RSS.parse(fetched(body))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 5 * len(body)  # the body, its UTF-8 copy and the NUL-free copy; nothing expanded
    assert time.monotonic() - began < 20


def test_a_plain_doctype_and_a_mention_in_text_are_fine():
    body = FEED.replace(b"<rss", b'<!DOCTYPE rss PUBLIC "-//Netscape" "x.dtd"><rss', 1)
    assert len(RSS.parse(fetched(body))) == 2
    text = FEED.replace(b"<title>USCIS Alerts", b"<title>&lt;!ENTITY in text", 1)
    assert len(RSS.parse(fetched(text))) == 2


# -- class 3: repeated item keys in one cycle --------------------------------------------------------------------------

def fr_page(results, next_url=None) -> bytes:
    return json.dumps({"count": len(results), "results": results, "next_page_url": next_url}).encode()


def test_federal_register_pages_that_shift_store_each_document_once(server, make_config):
    docs = json.loads((FIXTURES / "federalregister_uscis_documents_trimmed.json").read_text())["results"]
    extra = copy.deepcopy(docs[0])
    extra["document_number"] = "2026-99999"
    server.routes["/fr"] = Reply(200, fr_page(docs[:2], server.url("/fr2")), {"Content-Type": "application/json"})
    # Page two repeats the last document of page one (a document published between the two requests).
    server.routes["/fr2"] = Reply(200, fr_page([docs[1], docs[2], extra]), {"Content-Type": "application/json"})
    config = app_module.load_config(make_config([("fr", server.url("/fr"))], kind="federal_register"))
    app = app_module.build_app(config, kinds={"federal_register": FederalRegisterSource}, environ={}, now=Clock())
    run = run_source(app.context, app.sources[0])
    assert (run.outcome, run.error_class) == ("baseline", None)
    assert app.store.db["changes"].count == 4
    app.close()


def test_a_listing_that_repeats_a_row_keeps_every_item(server, make_config):
    page = (FIXTURES / "uscis_newsroom_all_news_fragment.html").read_bytes()
    first_row = page.index(b'<div class="views-row')
    second_row = page.index(b'<div class="views-row', first_row + 1)
    repeated = page[:second_row] + page[first_row:second_row] + page[second_row:]
    server.routes["/news"] = Reply(200, repeated, {"Content-Type": "text/html"})
    config = app_module.load_config(make_config([("news", server.url("/news"))], kind="uscis_newsroom"))
    app = app_module.build_app(config, kinds={"uscis_newsroom": UscisNewsroomSource}, environ={}, now=Clock())
    run = run_source(app.context, app.sources[0])
    parsed = app.sources[0].parse(fetched(page, "https://www.uscis.gov/newsroom/all-news", "text/html"))
    assert run.outcome == "baseline"
    assert app.store.db["changes"].count == len(parsed)
    app.close()


# -- class 5: parse work is bounded -------------------------------------------------------------------------------------

BULLETIN = (FIXTURES / "visa_bulletin_2026_07.html").read_bytes()


def repeated_headings(copies: int) -> bytes:
    heading = b"<p><b>A. FINAL ACTION DATES FOR FAMILY-SPONSORED PREFERENCE CASES</b></p><div>note</div>"
    return BULLETIN.replace(b"<body", b"<body><div>" + heading * copies + b"</div><i", 1)


def test_repeated_chart_headings_parse_in_linear_time():
    """The old walk searched forward from each heading: 23 s at 97 KB, 384 s at 388 KB."""
    _, _, cells = parse_bulletin(BULLETIN, "https://travel.state.gov/x")
    began = time.monotonic()
    _, _, hostile = parse_bulletin(repeated_headings(5_000), "https://travel.state.gov/x")
    assert hostile == cells
    assert time.monotonic() - began < 10  # seconds; minutes before the fix


def test_a_parse_over_its_budget_is_a_parse_error_and_stores_nothing():
    ticks = count()
    source = VisaBulletinSource(SourceConfig(id="vb", kind="visa_bulletin", url="https://travel.state.gov/x",
                                             schedule=Schedule()))
    with pytest.raises(ParseError, match="budget"):
        source.collect([fetched(BULLETIN, "https://travel.state.gov/x", "text/html")], budget=100,
                       clock=lambda: float(next(ticks)))


def test_find_charts_still_takes_the_first_chart_after_each_heading():
    from bs4 import BeautifulSoup
    charts = find_charts(BeautifulSoup(BULLETIN, "lxml"))
    assert set(charts) == {"family_final_action", "family_dates_for_filing", "employment_final_action",
                           "employment_dates_for_filing"}
    assert charts["family_final_action"] is not charts["family_dates_for_filing"]


# -- class 6: impossible dates cost their own item ---------------------------------------------------------------------

@pytest.mark.parametrize("field, value", [("publication_date", "2026-02-30"), ("publication_date", "2026-01-05\n"),
                                          ("publication_date", "0000-01-01"), ("effective_on", "2026-13-01"),
                                          ("publication_date", "２０２６-01-05")])
def test_a_federal_register_document_with_an_impossible_date_is_skipped(server, make_config, field, value):
    docs = json.loads((FIXTURES / "federalregister_uscis_documents_trimmed.json").read_text())["results"]
    docs[1][field] = value
    server.routes["/fr"] = Reply(200, fr_page(docs), {"Content-Type": "application/json"})
    config = app_module.load_config(make_config([("fr", server.url("/fr"))], kind="federal_register"))
    app = app_module.build_app(config, kinds={"federal_register": FederalRegisterSource}, environ={}, now=Clock())
    run = run_source(app.context, app.sources[0])
    assert (run.outcome, run.error_class) == ("baseline", None)  # was: "bug", and all three documents lost
    assert app.store.db["changes"].count == 2
    app.close()


def test_a_feed_entry_dated_year_zero_is_kept_without_a_date():
    items = uscis_items()[:2]
    items[0] = dict(items[0], pub_date="Mon, 01 Jan 0000 00:00:00 GMT")
    changes = RSS.collect([fetched(rss(items))])
    assert len(changes) == 2


# -- class 7, the link half: only http(s) leaves a parser ----------------------------------------------------------------

@pytest.mark.parametrize("link", ["javascript:alert(document.cookie)", "JaVaScRiPt:alert(1)", "data:text/html,<b>x",
                                  "file:///etc/passwd", "vbscript:msgbox", " javascript:alert(1)"])
def test_links_other_than_http_are_dropped(link):
    items = uscis_items()[:2]
    items[0] = dict(items[0], link=link)
    changes = RSS.collect([fetched(rss(items))])
    assert changes[0].url == "" and changes[1].url.startswith("https://www.uscis.gov/")


def test_collect_turns_a_parser_value_error_into_a_parse_error():
    class Broken(RssSource, kind="broken-test"):
        def parse(self, fetched):
            return [datetime(0, 1, 1, tzinfo=timezone.utc)]  # raises ValueError, as year 0 did
    source = Broken(SourceConfig(id="b", kind="broken-test", url="https://www.uscis.gov/x", schedule=Schedule()))
    with pytest.raises(ParseError, match="unreadable page"):
        source.collect([fetched(FEED)])


# -- through the pipeline: a hostile response stores nothing and is classified ------------------------------------------

@pytest.mark.parametrize("reply, error_class", [
    (Reply(200, b"\x1f\x8b" + b"x" * 100, {"Content-Encoding": "gzip, gzip"}), "too_large"),
    (Reply(200, FEED.replace(b"<rss", b"<!-- <a -->" + SUBSET + b"<rss", 1)), "parse"),
    (Reply(429, b"", {"Retry-After": "99999999999999"}), "rate_limited"),
])
def test_a_hostile_response_stores_nothing_and_is_classified(server, make_config, reply, error_class):
    server.routes["/feed"] = reply
    config = app_module.load_config(make_config([("feed", server.url("/feed"))]))
    app = app_module.build_app(config, kinds={"rss": RssSource}, environ={}, now=Clock())
    run = run_source(app.context, app.sources[0])
    assert (run.outcome, run.error_class) == ("error", error_class)  # never "bug"
    assert app.store.db["changes"].count == 0
    app.close()


def test_a_feed_of_a_hundred_thousand_entries_is_refused_before_feedparser_reads_it():
    item = b"<item><title>t</title><guid>%d</guid></item>"
    body = b'<?xml version="1.0"?><rss version="2.0"><channel><title>x</title>' + \
        b"".join(item % i for i in range(100_000)) + b"</channel></rss>"
    began = time.monotonic()
    with pytest.raises(ParseError, match="more than 5000 feed entries"):
        RSS.parse(fetched(body))
    assert time.monotonic() - began < 5  # feedparser alone takes 15 s on it


# -- nesting: BeautifulSoup's tree building is quadratic in depth ------------------------------------------------------

def _kinds_reading_html():
    from watcher.sources.courts import ScotusSource
    from watcher.sources.dol_oflc import OflcAnnouncementsSource
    from watcher.sources.dos_news import StateVisaNewsSource
    from watcher.sources.eoir import EoirPrecedentsSource
    from watcher.sources.eoir_policy import EoirPolicySource
    from watcher.sources.eoir_status import EoirCourtStatusSource
    from watcher.sources.policy_manual import PolicyManualSource
    from watcher.sources.chart_choice import ChartChoiceSource
    from watcher.sources.sevp import SevpBroadcastsSource, SevpNewsSource
    return [ScotusSource, OflcAnnouncementsSource, StateVisaNewsSource, EoirPrecedentsSource, EoirPolicySource,
            EoirCourtStatusSource, PolicyManualSource, SevpNewsSource, SevpBroadcastsSource, UscisNewsroomSource,
            VisaBulletinSource, ChartChoiceSource]


@pytest.mark.parametrize("cls", _kinds_reading_html(), ids=lambda cls: cls.kind)
def test_a_page_nested_thousands_deep_is_refused_before_the_tree_is_built(cls):
    # 20,000 nested <div>s, each with a line and a link that look like an item of every kind: about 1 MB, and 35 s
    # of BeautifulSoup alone before the depth check existed.
    line = ("<div>PM 25-29 March 4, 2025. <a href='/content/travel/en/News/visas-news/a.html'>(PDF)</a> "
            "<a href='/2016/03/a'>x</a> Cancellation")
    body = (line * 20_000 + "</div>" * 20_000).encode()
    source = cls(SourceConfig(id="deep", kind=cls.kind, url="https://www.justice.gov/x", schedule=Schedule()))
    with pytest.raises(ParseError, match="nested more than 256 elements deep"):
        source.collect([fetched(body, "https://www.justice.gov/x", "text/html")])


def test_real_pages_are_far_from_the_nesting_bound():
    from watcher.sources.base import html_soup
    for page in ("visa_bulletin_2026_07.html", "eoir_bia_volume_page.html", "scotus_slip_opinions.html"):
        assert html_soup((FIXTURES / page).read_bytes()).find("body") is not None
