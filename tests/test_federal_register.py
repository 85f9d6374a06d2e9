"""Federal Register API: every document of the recorded response, the query, pagination, bad JSON."""

from __future__ import annotations

import json
from datetime import date, datetime, timezone

import pytest

from watcher.config import Schedule, SourceConfig
from watcher.errors import ConfigError, ParseError
from watcher.models import Fetched, Validators
from watcher.sources.federal_register import FederalRegisterSource, is_paperwork

from .conftest import SHARED, Reply

API = "https://www.federalregister.gov/api/v1/documents.json"
RECORDED = (SHARED / "fixtures" / "federalregister_uscis_documents_trimmed.json").read_bytes()


def source(**options) -> FederalRegisterSource:
    return FederalRegisterSource(SourceConfig(id="fr", kind="federal_register", url=API, schedule=Schedule(),
                                              options=options))


def fetched(body: bytes) -> Fetched:
    return Fetched(url=API, status=200, body=body, headers={}, validators=Validators())


# Typed from the recorded response: document number, type, publication date, start of title, URL.
TYPED = [
    ("2026-18736", "notice", "2026-09-14", "Agency Information Collection Activities; Revision of a Currently Approved "
     "Collection: Petition To Remove the Conditions on Residence",
     "https://www.federalregister.gov/documents/2026/09/14/2026-18736/agency-information-collection-activities-"
     "revision-of-a-currently-approved-collection-petition-to"),
    ("2026-18724", "notice", "2026-09-14", "Agency Information Collection Activities; Extension, Without Change, of a "
     "Currently Approved Collection: Application for Certificate of Citizenship",
     "https://www.federalregister.gov/documents/2026/09/14/2026-18724/agency-information-collection-activities-"
     "extension-without-change-of-a-currently-approved-collection"),
    ("2026-18722", "notice", "2026-09-14", "Agency Information Collection Activities; Extension, Without Change, of a "
     "Currently Approved Collection: Application for Regional Center Designation",
     "https://www.federalregister.gov/documents/2026/09/14/2026-18722/agency-information-collection-activities-"
     "extension-without-change-of-a-currently-approved-collection"),
]


def test_every_recorded_document():
    changes = source().parse(fetched(RECORDED))
    assert len(changes) == len(TYPED)
    for change, (number, kind, published, title, url) in zip(changes, TYPED):
        assert (change.item_key, change.kind, change.url) == (number, kind, url)
        assert change.published == datetime.fromisoformat(published).replace(tzinfo=timezone.utc)
        assert change.title.startswith(title)
        assert change.facts["type"] == "Notice" and change.facts["document_number"] == number
        assert change.facts["paperwork"] is True  # all three are information collections


def test_full_document_fields():
    doc = {"document_number": "2024-01234", "type": "Rule", "title": "U.S. Citizenship and Immigration Services Fee Schedule",
           "abstract": "DHS is adjusting certain immigration and naturalization benefit request fees.",
           "action": "Final rule.", "publication_date": "2024-01-31", "effective_on": "2024-04-01",
           "comments_close_on": None, "html_url": "https://www.federalregister.gov/d/2024-01234",
           "cfr_references": [{"title": 8, "part": 103}, {"title": 8, "part": 106}],
           "agencies": [{"name": "Homeland Security Department"}, {"raw_name": "U.S. Citizenship and Immigration Services"}]}
    [change] = source().parse(fetched(json.dumps({"count": 1, "results": [doc]}).encode()))
    assert change.kind == "rule" and change.facts["effective_on"] == "2024-04-01"
    assert change.facts["cfr_references"] == ["8 CFR 103", "8 CFR 106"]
    assert change.facts["agencies"] == ["Homeland Security Department", "U.S. Citizenship and Immigration Services"]
    assert change.facts["paperwork"] is False


def test_query_uses_filter_codes_agencies_and_window():
    url = source(types=["RULE", "PRORULE"], agencies=["labor-department"], lookback_days=7).query_url(date(2026, 11, 27))
    assert "conditions%5Btype%5D%5B%5D=RULE" in url and "conditions%5Btype%5D%5B%5D=PRORULE" in url
    assert "conditions%5Bagencies%5D%5B%5D=labor-department" in url
    assert "conditions%5Bpublication_date%5D%5Bgte%5D=2026-11-20" in url
    assert "fields%5B%5D=cfr_references" in url


def test_default_agencies_cover_uscis_dhs_eoir_state_labor():
    url = source().query_url(date(2026, 11, 27))
    for slug in ["u-s-citizenship-and-immigration-services", "homeland-security-department",
                 "executive-office-for-immigration-review", "state-department", "labor-department"]:
        assert f"={slug}" in url


def test_bad_options_are_config_errors():
    with pytest.raises(ConfigError, match="unknown filter codes"):
        source(types=["Rule"])
    with pytest.raises(ConfigError, match="agencies"):
        source(agencies=[])


def test_empty_window_is_valid():
    assert source().parse(fetched(b'{"count": 0, "description": "none"}')) == []


@pytest.mark.parametrize("body, message", [
    (b"[1, 2]", "expected a JSON object"),
    (b'{"count": 1, "results": [{"document_number": 5, "title": "t", "type": "Rule"}]}', "results\\[0\\].document_number: expected str"),
    (b'{"count": 1, "results": [{"document_number": "x", "title": "t", "type": "Rule", "publication_date": "Jan 5", "html_url": "u"}]}',
     "is not YYYY-MM-DD"),
    (b'{"count": 3, "results": []}', "count is 3 but results are empty"),
    (b'{"count": 3}', "no 'results' list"),
    (b'{"count": NaN, "results": []}', "not valid JSON"),
    (b"[" * 10000 + b"]" * 10000, "not valid JSON"),
    (RECORDED[:500], "not valid JSON"),
    (b"<html>Request blocked</html>", "not valid JSON"),
])
def test_bad_json_is_classified(body, message):
    with pytest.raises(ParseError, match=message):
        source().parse(fetched(body))


def test_follows_next_page_url(server, http_settings):
    from watcher.http import HttpClient

    page1 = {"count": 2, "results": [json.loads(RECORDED)["results"][0]], "next_page_url": server.url("/p2")}
    page2 = {"count": 2, "results": [json.loads(RECORDED)["results"][1]]}
    server.routes["/p2"] = Reply(200, json.dumps(page2).encode())
    first = Fetched(url=server.url("/p1"), status=200, body=json.dumps(page1).encode(), headers={}, validators=Validators())
    pages = source(max_pages=3).follow(HttpClient(http_settings), first)
    assert [c.item_key for p in pages for c in source().parse(p)] == ["2026-18736", "2026-18724"]


def test_paperwork_detection():
    assert is_paperwork("Agency Information Collection Activities; Extension", "")
    assert not is_paperwork("Employment Authorization Reform", "A final rule under the Immigration and Nationality Act.")
