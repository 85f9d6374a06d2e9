"""Federal Register API: every document of the recorded response, the query, pagination, bad JSON."""

from __future__ import annotations

import json
from datetime import date, datetime, timezone
from pathlib import Path

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


INSPECTION_URL = "https://www.federalregister.gov/api/v1/public-inspection-documents/current.json"
DESK = (Path(__file__).parent / "data" / "federal_register_public_inspection.json").read_bytes()


def desk(body: bytes) -> Fetched:
    return Fetched(url=INSPECTION_URL, status=200, body=body, headers={}, validators=Validators())


def test_the_public_inspection_desk_gives_the_watched_agencies_documents_marked_with_their_publication_date():
    fr = source(public_inspection=True)
    assert fr.inspection_url() == INSPECTION_URL
    changes = fr.parse(desk(DESK))
    # Typed from the page: the EPA rule is another agency's and is left out.
    assert [(c.item_key, c.kind, c.facts["publishes_on"], c.facts["paperwork"]) for c in changes] == [
        ("2021-02665", "rule", "2021-02-08", False), ("2026-18736", "notice", "2026-09-14", True)]
    rule = changes[0]
    assert rule.title == ("Modification of Registration Requirement for Petitioners Seeking To File Cap-Subject H-1B "
                          "Petitions; Delay of Effective Date")
    assert rule.published == datetime(2021, 2, 5, 13, 45, tzinfo=timezone.utc)  # 08:45 Eastern, in UTC
    assert rule.facts["public_inspection"] is True and rule.facts["citation"] is None
    assert rule.facts["pdf"] == "https://public-inspection.federalregister.gov/2021-02665.pdf"
    assert rule.url.startswith("https://www.federalregister.gov/public-inspection/2021-02665/")
    # Only the watched types: a desk of notices gives nothing to a source that watches rules alone.
    assert [c.item_key for c in source(types=["RULE"]).parse(desk(DESK))] == ["2021-02665"]


@pytest.mark.parametrize("filed, message", [("2021-02-05 08:45", "has no UTC offset"), ("Friday", "not an ISO date")])
def test_a_desk_document_with_a_bad_filing_time_is_skipped_alone(filed, message, caplog):
    page = json.loads(DESK)
    page["results"][0]["filed_at"] = filed
    changes = source().parse(desk(json.dumps(page).encode()))
    assert [c.item_key for c in changes] == ["2026-18736"]
    assert message in caplog.text


def test_public_inspection_is_fetched_after_the_documents_when_asked(server, http_settings, caplog):
    from watcher.http import HttpClient

    server.routes["/api/v1/public-inspection-documents/current.json"] = Reply(200, DESK)
    first = Fetched(url=server.url("/api/v1/documents.json"), status=200, body=RECORDED, headers={},
                    validators=Validators())
    on = FederalRegisterSource(SourceConfig(id="fr", kind="federal_register", url=server.url("/api/v1/documents.json"),
                                            schedule=Schedule(), options={"public_inspection": True, "max_pages": 1}))
    pages = on.follow(HttpClient(http_settings), first)
    assert [p.url for p in pages] == [first.url, server.url("/api/v1/public-inspection-documents/current.json")]
    # The same number published and on the desk: the published one counts (first in the cycle).
    with caplog.at_level("WARNING"):
        [published] = [c for c in on.collect(pages) if c.item_key == "2026-18736"]
    assert "public_inspection" not in published.facts
    assert "repeated item keys" not in caplog.text  # an expected overlap, not a page that repeats itself
    assert len(source(max_pages=1).follow(HttpClient(http_settings), first)) == 1  # off by default
    with pytest.raises(ConfigError, match="public_inspection: must be true or false"):
        source(public_inspection="yes")


def test_a_published_document_is_never_taken_back_to_public_inspection():
    changes = source().parse(desk(DESK))
    stored = {"2021-02665": {"citation": "86 FR 8543"}, "2026-18736": {"public_inspection": True}}
    assert [c.item_key for c in source().relate(changes, stored.get)] == ["2026-18736"]


# A presidential document as the documents API returns it, typed from the API documentation's field list: the
# number, title, URL and publication date are 2020-02424's (../shared/corpus), its proclamation number and signing
# date are the document's own (Proclamation 9984 of January 31, 2020).
PROCLAMATION = {
    "document_number": "2020-02424", "type": "Presidential Document", "subtype": "Proclamation",
    "title": "Suspension of Entry as Immigrants and Nonimmigrants of Persons Who Pose a Risk of Transmitting 2019 "
             "Novel Coronavirus and Other Appropriate Measures To Address This Risk",
    "abstract": "No summary provided.", "publication_date": "2020-02-05", "signing_date": "2020-01-31",
    "proclamation_number": "9984", "executive_order_number": None, "citation": "85 FR 6709",
    "html_url": "https://www.federalregister.gov/documents/2020/02/05/2020-02424/suspension-of-entry-as-immigrants-"
                "and-nonimmigrants-of-persons-who-pose-a-risk-of-transmitting-2019",
    "agencies": [{"name": "Executive Office of the President", "slug": "executive-office-of-the-president"}],
}


def test_presidential_documents_are_asked_for_by_subject_and_say_what_they_are():
    from watcher.notify.lawyer import describe

    url = source(presidential=True).presidential_url(date(2020, 2, 6))
    assert "conditions%5Btype%5D%5B%5D=PRESDOCU" in url and "conditions%5Bterm%5D=immigrants" in url
    assert "conditions%5Bpresidential_document_type%5D%5B%5D=proclamation" in url
    assert "conditions%5Bagencies%5D" not in url  # signed by the President, filed by no agency
    [change] = source().parse(fetched(json.dumps({"count": 1, "results": [PROCLAMATION]}).encode()))
    assert change.kind == "presidential_document" and change.summary == ""  # "No summary provided." is not one
    assert (change.facts["presidential_document_type"], change.facts["presidential_number"],
            change.facts["signing_date"], change.facts["citation"]) == ("Proclamation", "9984", "2020-01-31",
                                                                       "85 FR 6709")
    assert describe(change.kind, change.facts) == ("Presidential proclamation 9984, signed 2020-01-31",
                                                   "The President (Federal Register)")
    with pytest.raises(ConfigError, match="presidential: must be true or false"):
        source(presidential="yes")


def test_the_presidential_query_is_one_more_page_when_asked(server, http_settings):
    from watcher.http import HttpClient

    server.routes["/api/v1/documents.json"] = Reply(200, json.dumps({"count": 1, "results": [PROCLAMATION]}).encode())
    first = Fetched(url=server.url("/api/v1/documents.json"), status=200, body=b'{"count": 0}', headers={},
                    validators=Validators())
    on = FederalRegisterSource(SourceConfig(id="fr", kind="federal_register", url=server.url("/api/v1/documents.json"),
                                            schedule=Schedule(), options={"presidential": True, "max_pages": 1}))
    pages = on.follow(HttpClient(http_settings), first)
    assert len(pages) == 2 and "PRESDOCU" in pages[1].url
    assert [c.item_key for c in on.collect(pages)] == ["2020-02424"]
