"""USCIS Policy Manual updates: the two real rows in tests/data (see its README), typed expectations."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from watcher.config import Schedule, SourceConfig
from watcher.errors import ParseError
from watcher.models import Fetched, Validators
from watcher.sources.policy_manual import PolicyManualSource

from .feeds import DATA

URL = "https://www.uscis.gov/policy-manual/updates"
SOURCE = PolicyManualSource(SourceConfig(id="policy-manual", kind="uscis_policy_manual", url=URL, schedule=Schedule()))
PAGE = (DATA / "uscis_policy_manual_updates_trimmed.html").read_bytes()


def parse(body: bytes = PAGE):
    return SOURCE.parse(Fetched(url=URL, status=200, body=body, headers={}, validators=Validators()))


def test_policy_alert_and_technical_update():
    alert, technical = parse()
    assert (alert.kind, alert.title) == ("policy_alert", "POLICY ALERT: Attorneys and Representatives")
    assert alert.item_key == alert.url == ("https://www.uscis.gov/sites/default/files/document/policy-manual-updates/"
                                           "20260713-AttorneysAndRepresentatives.pdf")
    assert alert.published == datetime(2026, 7, 13, 12, tzinfo=timezone.utc)
    assert [s["citation"] for s in alert.facts["affected_sections"]] == ["1 USCIS-PM D.1", "1 USCIS-PM D.2"]
    assert alert.facts["affected_sections"][0]["url"] == "https://www.uscis.gov/policy-manual/volume-1-part-d-chapter-1"
    assert alert.facts["volumes"] == [1]
    assert technical.kind == "technical_update" and technical.url == URL
    assert technical.item_key == "2026-02-03:2024-u-s-department-of-state-exchange-visitors-skills-list"
    assert technical.facts["volumes"] == [2]
    assert "effective" not in technical.facts  # the page publishes no effective date; none is guessed


@pytest.mark.parametrize("body", [b"<html><body><div class='view-content'></div></body></html>",
                                  PAGE.replace(b"POLICY ALERT - ", b"").replace(b"Technical Update - ", b"")])
def test_no_recognised_rows_is_parser_broken(body):
    with pytest.raises(ParseError) as info:
        parse(body)
    assert info.value.error_class == "parser_broken"
