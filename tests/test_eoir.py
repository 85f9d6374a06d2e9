"""EOIR precedents on the recorded Volume 28 page (90 decisions).

Every decision is compared with ../shared/fixtures/eoir_bia_volume_page.expected.json, juriscraper's
independent reading of the same page, after the normalizations that reading applies (straight quotes,
no zero-width joiners, first headnote paragraph only, "Dec 714" as printed). Two of its values are wrong on
the page's own evidence and are listed in REFERENCE_ERRATA. Six decisions are also checked against values
typed from the page, covering each markup variant (<b> vs <strong>, a missing period, a split ID link, the
Director's decision, an AG decision, the /d9/ and /media/ link schemes).
"""

from __future__ import annotations

import json
import re

import pytest

from watcher.config import Schedule, SourceConfig
from watcher.errors import ParseError
from watcher.models import Fetched, Validators
from watcher.sources.eoir import EoirPrecedentsSource

from .conftest import SHARED

PAGE_URL = "https://www.justice.gov/eoir/volume-28"
SOURCE = EoirPrecedentsSource(SourceConfig(id="eoir-bia", kind="eoir_precedents", url=PAGE_URL, schedule=Schedule()))
PAGE = (SHARED / "fixtures" / "eoir_bia_volume_page.html").read_bytes()
REFERENCE = json.loads((SHARED / "fixtures" / "eoir_bia_volume_page.expected.json").read_text())
QUOTES = str.maketrans({"‘": "'", "’": "'", "“": '"', "”": '"', "\u2011": "-"})
REFERENCE_ERRATA = {
    # The page shows "ID 4038" (split over two links); the reference kept only "ID".
    ("28 I&N Dec. 472", "decision_id"),
    # The page prints O‑F‑A‑S‑ with non-breaking hyphens; the reference title-cased it to "O‑f‑a‑s‑".
    ("28 I&N Dec. 35", "name"),
}


def parse(body: bytes = PAGE):
    return SOURCE.parse(Fetched(url=PAGE_URL, status=200, body=body, headers={}, validators=Validators()))


def norm(text: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"[\u200b-\u200f]", "", text)).translate(QUOTES).strip()


def test_every_decision_matches_the_independent_reading():
    changes = {c.facts["citation"]: c for c in parse()}
    assert len(changes) == len(REFERENCE) == 90
    for expected in REFERENCE:
        citation = re.sub(r"Dec\.? ", "Dec. ", expected["citations"])
        change = changes[citation]
        facts = change.facts
        if (citation, "name") not in REFERENCE_ERRATA:
            assert norm(facts["name"]).rstrip("-").lower() == norm(expected["case_names"]).lower(), citation
        if (citation, "decision_id") not in REFERENCE_ERRATA:
            assert f"ID {facts['decision_id']}" == expected["docket_numbers"].removesuffix(" (PDF)"), citation
        assert change.url == expected["download_urls"], citation
        assert norm(change.summary).startswith(norm(expected["summaries"])), citation
        assert facts["year"] == int(expected["case_dates"][:4]), citation


TYPED = [
    # citation, title, decision id, PDF, start of headnote: typed from the page
    ("28 I&N Dec. 788", "Matter of F-C-S-, 28 I&N Dec. 788 (BIA 2024)", "4074",
     "https://www.justice.gov/d9/2024-04/4074_amended_2.pdf", "The regulation at 8 C.F.R. § 1240.17 (2024) applies only"),
    ("28 I&N Dec. 714", "Matter of Morales-Morales, 28 I&N Dec. 714 (BIA 2023)", "4062",
     "https://www.justice.gov/media/1291361/dl?inline", "(1) The Board of Immigration Appeals has authority"),
    ("28 I&N Dec. 472", "Matter of T-C-A-, 28 I&N Dec. 472 (BIA 2022)", "4038",
     "https://www.justice.gov/file/1468491/dl", None),
    ("28 I&N Dec. 425", "Matter of Laparra, 28 I&N Dec. 425 (BIA 2022)", "4034",
     "https://www.justice.gov/media/1185591/dl?inline", None),
    ("28 I&N Dec. 52", "Matter of Reyes, 28 I&N Dec. 52 (AG 2020)", "3992",
     "https://www.justice.gov/media/1080601/dl?inline", None),
    ("28 I&N Dec. 16", "Matter of Bay Area Legal Services, Inc., 28 I&N Dec. 16 (DIR 2020)", "3988",
     "https://www.justice.gov/media/1076266/dl?inline", "An amicus curiae is not a party in recognition"),
]


@pytest.mark.parametrize("citation, title, decision_id, pdf, headnote", TYPED, ids=[t[0] for t in TYPED])
def test_typed_decisions(citation, title, decision_id, pdf, headnote):
    change = {c.facts["citation"]: c for c in parse()}[citation]
    assert (change.title, change.facts["decision_id"], change.url) == (title, decision_id, pdf)
    assert change.item_key == citation and change.kind == "precedent"
    if headnote:
        assert change.summary.startswith(headnote)


def test_bodies_counted():
    # Counted on the page with grep over the decision rows: 75 "(BIA", 14 "(A.G.", 1 "(DIR".
    bodies = [c.facts["body"] for c in parse()]
    assert (bodies.count("BIA"), bodies.count("AG"), bodies.count("DIR")) == (75, 14, 1)


@pytest.mark.parametrize("body, message", [
    (PAGE[: len(PAGE) // 3] .split(b"<table")[0], "no precedent decisions"),
    (b"<html><body><h1>Access Denied</h1></body></html>", "no precedent decisions"),
])
def test_broken_pages_are_classified(body, message):
    with pytest.raises(ParseError, match=message):
        parse(body)


@pytest.mark.parametrize("broken", [
    (b'<a href="/d9/2024-04/4074_amended_2.pdf">ID 4074</a>', b"ID 4074"),   # no PDF link
    (b"(BIA 2024)", b"(BIA 0000)"),                                              # year 0
])
def test_a_malformed_decision_costs_itself_only(broken, caplog):
    """One unreadable row of 90 is skipped with a warning; the other 89 are kept (issue 25, class 6)."""
    body = PAGE.replace(*broken, 1)
    assert body != PAGE
    decisions = parse(body)
    assert len(decisions) == 89
    assert "1 of 90 precedent decisions skipped as unreadable" in caplog.text


def test_follows_the_newest_volume_from_the_index(server, http_settings):
    from watcher.http import HttpClient

    from .conftest import Reply

    # A minimal index in the shape juriscraper reads (links titled "Volume NN"); the volume page is the recording.
    index = (b'<html><body><table><tbody><tr><td><a href="/eoir/volume-27">Volume 27</a></td>'
             b'<td><a href="/eoir/volume-28">Volume 28</a></td></tr></tbody></table></body></html>')
    server.routes["/eoir/volume-28"] = Reply(200, PAGE)
    source = EoirPrecedentsSource(SourceConfig(id="eoir", kind="eoir_precedents", url=server.url("/eoir/ag-bia-decisions"),
                                               schedule=Schedule()))
    pages = source.follow(HttpClient(http_settings), Fetched(url=server.url("/eoir/ag-bia-decisions"), status=200,
                                                              body=index, headers={}, validators=Validators()))
    assert [p.url for p in pages] == [server.url("/eoir/volume-28")]
    assert len(source.parse(pages[0])) == 90
    volume = Fetched(url=PAGE_URL, status=200, body=PAGE, headers={}, validators=Validators())
    assert source.follow(HttpClient(http_settings), volume) == [volume]  # a volume page is parsed as is
