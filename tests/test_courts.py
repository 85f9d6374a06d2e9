"""Supreme Court slip opinions (recorded page) and CourtListener v4 search (documented response shape)."""

from __future__ import annotations

import json
import re
from datetime import date, datetime, timezone

import pytest

from watcher import app as app_module
from watcher.config import Schedule, SourceConfig
from watcher.errors import ConfigError, ParseError
from watcher.http import HttpClient
from watcher.models import Fetched, Validators
from watcher.pipeline import run_source
from watcher.sources.courts import CourtListenerSource, ScotusSource, term_of

from .conftest import SHARED, Reply

SLIP_URL = "https://www.supremecourt.gov/opinions/slipopinion/22"
SCOTUS = ScotusSource(SourceConfig(id="scotus", kind="scotus", url=SLIP_URL, schedule=Schedule()))
PAGE = (SHARED / "fixtures" / "scotus_slip_opinions.html").read_bytes()
SEARCH = "https://www.courtlistener.com/api/rest/v4/search/"


def fetched(body: bytes, url: str) -> Fetched:
    return Fetched(url=url, status=200, body=body, headers={}, validators=Validators())


# Typed from the recorded page: docket, decided, name, justice, citation, PDF path.
TYPED = {
    "21-476": ("2023-06-30", "303 Creative LLC v. Elenis", "NG", "600 U.S. 570", "/opinions/22pdf/600us1r58_7khn.pdf"),
    "22-58": ("2023-06-23", "United States v. Texas", "BK", "599 U.S. 670", "/opinions/22pdf/599us1r47_8m58.pdf"),
    "22-105": ("2023-06-23", "Coinbase, Inc. v. Bielski", "BK", "599 U.S. 736", "/opinions/22pdf/599us1r48_986b.pdf"),
}


def test_slip_opinions_page():
    changes = {c.item_key: c for c in SCOTUS.parse(fetched(PAGE, SLIP_URL))}
    assert len(changes) == 58  # 58 opinion links on the recorded page (grep -c opinions/22pdf)
    for docket, (decided, name, justice, citation, pdf) in TYPED.items():
        change = changes[docket]
        assert change.title == f"{name} ({docket})"
        assert change.published == datetime.fromisoformat(decided).replace(tzinfo=timezone.utc)
        assert (change.facts["justice"], change.facts["citation"]) == (justice, citation)
        assert change.url == "https://www.supremecourt.gov" + pdf


@pytest.mark.parametrize("day, term", [(date(2026, 11, 27), 2026), (date(2027, 6, 30), 2026), (date(2026, 10, 1), 2026)])
def test_term(day, term):
    assert term_of(day) == term


@pytest.mark.parametrize("body, message", [
    (b"<html><body><table><tr><td>maintenance</td></tr></table></body></html>", "no slip opinions"),
    (PAGE.replace(b"6/30/23", b"June 30").replace(b"/23<", b"/2x<"), "is not M/D/YY"),
])
def test_broken_slip_pages(body, message):
    with pytest.raises(ParseError, match=message):
        SCOTUS.parse(fetched(body, SLIP_URL))


@pytest.mark.parametrize("bad", [b"June 30", b"2/30/23", b"6/31/23"])
def test_rows_with_impossible_dates_are_skipped_and_the_rest_kept(bad, caplog):
    """Issue 25, class 6: an impossible date costs its own row, never the page."""
    rows = SCOTUS.parse(fetched(PAGE, SLIP_URL))
    broken = SCOTUS.parse(fetched(PAGE.replace(b"6/30/23", bad), SLIP_URL))
    assert len(broken) == len(rows) - 3  # three opinions were released on 6/30/23
    assert "3 of 58 slip opinions skipped as unreadable" in caplog.text


# The shape of a v4 search result (type=o) as CourtListener documents it; no recording is shipped, so this is
# built from the documented fields, not captured.
RESULT = {"caseName": "Doe v. Garland", "court": "Court of Appeals for the Ninth Circuit", "court_id": "ca9",
          "dateFiled": "2026-11-20", "docketNumber": "24-1234", "cluster_id": 10001234,
          "absolute_url": "/opinion/10001234/doe-v-garland/", "citation": ["120 F.4th 55"],
          "opinions": [{"id": 1, "snippet": "petition for review of a <mark>Board of Immigration Appeals</mark> decision"}]}


def courtlistener(**options) -> CourtListenerSource:
    return CourtListenerSource(SourceConfig(id="cl", kind="courtlistener", url=SEARCH, schedule=Schedule(),
                                            options=options))


def test_courtlistener_result():
    [change] = courtlistener().parse(fetched(json.dumps({"count": 1, "next": None, "results": [RESULT]}).encode(), SEARCH))
    assert change.item_key == "cluster:10001234" and change.kind == "court_opinion"
    assert change.title == "Doe v. Garland (Court of Appeals for the Ninth Circuit)"
    assert change.url == "https://www.courtlistener.com/opinion/10001234/doe-v-garland/"
    assert change.summary == "petition for review of a Board of Immigration Appeals decision"
    assert change.facts == {"court": "ca9", "docket": "24-1234", "citation": ["120 F.4th 55"]}


def test_courtlistener_query():
    url = courtlistener(courts="scotus ca9", lookback_days=7).query_url(date(2026, 11, 27))
    assert "type=o" in url and "court=scotus+ca9" in url and "filed_after=2026-11-20" in url
    assert "order_by=dateFiled+desc" in url


@pytest.mark.parametrize("body, message", [
    (b'{"detail": "Invalid token."}', "no 'results' list"),
    (json.dumps({"results": [dict(RESULT, cluster_id="x")]}).encode(), "cluster_id, caseName"),
    (json.dumps({"results": [dict(RESULT, dateFiled="last week")]}).encode(), "is not a date"),
])
def test_courtlistener_bad_json(body, message):
    with pytest.raises(ParseError, match=message):
        courtlistener().parse(fetched(body, SEARCH))


def test_courtlistener_sends_the_token_and_follows_next(server, http_settings, monkeypatch):
    monkeypatch.setenv("WATCHER_TEST_CL_TOKEN", "tok-123")
    source = CourtListenerSource(SourceConfig(id="cl", kind="courtlistener", url=server.url("/search/"),
                                              schedule=Schedule(), options={"token_env": "WATCHER_TEST_CL_TOKEN"}))
    page2 = {"count": 2, "next": None, "results": [dict(RESULT, cluster_id=2)]}
    server.routes["/page2"] = Reply(200, json.dumps(page2).encode())
    first = {"count": 2, "next": server.url("/page2"), "results": [RESULT]}
    server.routes[source.query_url(datetime.now(timezone.utc).date()).split("127.0.0.1:%d" % server.port)[1]] = \
        Reply(200, json.dumps(first).encode())
    client = HttpClient(http_settings)
    pages = source.follow(client, source.fetch(client, None))
    assert [c.item_key for p in pages for c in source.parse(p)] == ["cluster:10001234", "cluster:2"]
    assert all(h["authorization"] == "Token tok-123" for _, h in server.requests)


def test_courtlistener_missing_token_is_a_config_error(monkeypatch, http_settings):
    monkeypatch.delenv("WATCHER_TEST_CL_TOKEN", raising=False)
    source = courtlistener(token_env="WATCHER_TEST_CL_TOKEN")
    with pytest.raises(ConfigError, match="'WATCHER_TEST_CL_TOKEN' is not set"):
        source.fetch(HttpClient(http_settings), None)


def test_one_ruling_from_two_sources_is_announced_once(server, make_config):
    """The Supreme Court's page and CourtListener report Pugin v. Garland under two URLs; the docket is one."""
    row = re.search(rb"<tr>(?:(?!</tr>).)*Pugin v\. Garland.*?</tr>", PAGE, re.S).group(0)
    server.routes["/slip/22"] = Reply(200, PAGE.replace(row, b""))
    server.routes["/search/"] = Reply(200, json.dumps({"results": [RESULT]}).encode())
    directory = make_config([])
    (directory / "sources.toml").write_text(
        f'[[source]]\nid = "scotus"\nkind = "scotus"\nurl = "{server.url("/slip/22")}"\nschedule = "1h"\n\n'
        f'[[source]]\nid = "cl"\nkind = "courtlistener"\nurl = "{server.url("/search/")}"\nschedule = "1h"\n')
    app = app_module.build_app(app_module.load_config(directory))
    scotus, cl = app.sources
    assert [run_source(app.context, s).outcome for s in (scotus, cl)] == ["baseline", "baseline"]

    server.routes["/slip/22"] = Reply(200, PAGE)
    first = run_source(app.context, scotus)
    assert (first.new, first.messages) == (1, 1)  # Pugin: its caption (the Attorney General as respondent) is REMOVAL
    # Snippets that name immigration-court terms enough for the keyword matcher these tests configure.
    snippet = [{"id": 2, "snippet": "the immigration judge denied cancellation of removal and the Board of "
                                    "Immigration Appeals affirmed"}]
    pugin = {**RESULT, "caseName": "Pugin v. Garland", "court_id": "scotus", "docketNumber": "No. 22-23",
             "cluster_id": 10009999, "absolute_url": "/opinion/10009999/pugin-v-garland/", "opinions": snippet}
    other = {**RESULT, "caseName": "Roe v. Garland", "docketNumber": "24-5678", "cluster_id": 10005678,
             "absolute_url": "/opinion/10005678/roe-v-garland/", "opinions": snippet}
    server.routes["/search/"] = Reply(200, json.dumps({"results": [pugin, other, RESULT]}).encode())
    run = run_source(app.context, cl)
    assert (run.new, run.messages) == (2, 1)  # both new rulings match REMOVAL; Pugin was announced from its page
    subjects = [r[0] for r in app.store.db.execute("SELECT subject FROM messages")]
    assert [sum(name in s for s in subjects) for name in ("Pugin v. Garland", "Roe v. Garland")] == [1, 1]
    app.close()
