"""The rss kind on real USCIS items: ids, dates, text cleaning, and refusal of dangerous or broken feeds."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from watcher.config import Schedule, SourceConfig
from watcher.errors import ParseError
from watcher.models import Fetched, Validators
from watcher.sources.rss import RssSource

from .feeds import rss, uscis_items

SOURCE = RssSource(SourceConfig(id="uscis-alerts", kind="rss", url="https://www.uscis.gov/x",
                                schedule=Schedule(), options={"category": "alert"}))


def fetched(body: bytes, content_type: str = "application/rss+xml") -> Fetched:
    return Fetched(url="https://www.uscis.gov/x", status=200, body=body,
                   headers={"content-type": content_type}, validators=Validators())


def test_parses_real_items_with_guid_keys_and_two_digit_year_dates():
    items = uscis_items()
    changes = SOURCE.parse(fetched(rss(items)))
    assert [c.item_key for c in changes] == [i["guid"] for i in items]
    first = changes[0]
    assert first.title == items[0]["title"]
    assert first.url == items[0]["link"]
    # "Tue, 30 Jul 24 09:54:18 -0400" is 2024, not 0024 or 1924
    assert first.published == datetime(2024, 7, 30, 13, 54, 18, tzinfo=timezone.utc)
    assert first.kind == "alert" and first.facts["category"] == "Alerts"
    assert "<" not in first.summary and first.summary.startswith("In March, USCIS conducted")


def test_key_fallback_chain_link_then_hash():
    items = uscis_items()[:3]
    items[0] = dict(items[0], guid="")               # no guid: the link
    items[1] = dict(items[1], guid="dup")
    items[2] = dict(items[2], guid="dup")            # duplicate guids in one fetch: the link for both
    body = rss(items).replace(b'<guid isPermaLink="false"></guid>', b"")
    keys = [c.item_key for c in SOURCE.parse(fetched(body))]
    assert keys == [items[0]["link"], items[1]["link"], items[2]["link"]]
    no_link = rss([dict(uscis_items()[0], guid="", link="")]).replace(b'<guid isPermaLink="false"></guid>', b"")
    assert SOURCE.parse(fetched(no_link))[0].item_key.startswith("sha256:")


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE rss [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>
<rss version="2.0"><channel><title>&b;</title><item><title>&b;</title><guid>1</guid></item></channel></rss>"""
XXE = b"""<?xml version="1.0"?><!DOCTYPE rss SYSTEM "file:///etc/passwd"><!ENTITY x SYSTEM "file:///etc/passwd">
<rss version="2.0"><channel><item><title>&x;</title><guid>1</guid></item></channel></rss>"""


@pytest.mark.parametrize("body", [BILLION_LAUGHS, XXE, BILLION_LAUGHS.decode().encode("utf-16")],
                         ids=["dtd-subset", "external-entity", "utf-16-dtd-subset"])
def test_entity_declarations_are_refused_before_parsing(body):
    with pytest.raises(ParseError, match="DTD subset or entities"):
        SOURCE.parse(fetched(body))


def test_plain_doctype_without_subset_is_accepted():
    body = rss(uscis_items()[:1]).replace(b"<rss", b'<!DOCTYPE rss PUBLIC "-//Netscape" "x.dtd">\n<rss', 1)
    assert len(SOURCE.parse(fetched(body))) == 1


@pytest.mark.parametrize("body, broken", [
    (rss(uscis_items())[:700], False),                     # truncated mid-document
    (b"<html><body>Checking your browser</body></html>", True),  # a challenge page, not a feed
    (rss([]), True),                                        # valid feed, zero items: parser broken
    (b"<rss version='2.0'><channel><item><title>a\x00b</title></item></channel></rss>", False),
])
def test_broken_feeds_raise_parse_errors(body, broken):
    with pytest.raises(ParseError) as info:
        SOURCE.parse(fetched(body))
    assert (info.value.error_class == "parser_broken") is broken


def test_hostile_text_is_cleaned_and_cut():
    item = dict(uscis_items()[0], title="Fee \u202egnp.exe\u200b rule " + "x" * 1000, description="<script>x()</script><p>ok</p>")
    change = SOURCE.parse(fetched(rss([item])))[0]
    assert "\u202e" not in change.title and "\u200b" not in change.title
    assert len(change.title) == 500 and change.title.endswith("…")
    assert change.summary == "ok"


def test_latin1_declared_as_utf8_does_not_crash():
    body = rss([dict(uscis_items()[0], title="Caf\u00e9")]).replace("Café".encode(), "Café".encode("latin-1"))
    changes = SOURCE.parse(fetched(body, "application/rss+xml; charset=utf-8"))
    assert changes and changes[0].title.startswith("Caf")
