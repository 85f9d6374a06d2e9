"""Visa Bulletin: golden cells typed from both recorded bulletins, the index, movement, broken variants."""

from __future__ import annotations

from datetime import date

import pytest

from watcher.config import Schedule, SourceConfig
from watcher.errors import ParseError
from watcher.models import Fetched, Validators
from watcher.sources.visa_bulletin import (VisaBulletinSource, category_code, cell_value, movement,
                                           parse_index)

from .conftest import SHARED
from .feeds import DATA

FIXTURES = SHARED / "fixtures"
INDEX_URL = "https://travel.state.gov/content/travel/en/legal/visa-law0/visa-bulletin.html"
SOURCE = VisaBulletinSource(SourceConfig(id="visa-bulletin", kind="visa_bulletin", url=INDEX_URL, schedule=Schedule()))
AREAS = ["ALL", "CHINA", "INDIA", "MEXICO", "PHILIPPINES"]


def page(name: str) -> Fetched:
    return Fetched(url=INDEX_URL, status=200, body=(FIXTURES / name).read_bytes(), headers={}, validators=Validators())


def golden(name: str) -> dict[tuple[str, str, str], str]:
    cells, chart = {}, None
    for line in (DATA / name).read_text().splitlines():
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            chart = line.strip("[]")
            continue
        category, *values = line.split()
        assert len(values) == 5, line
        cells.update({(chart, category, area): raw for area, raw in zip(AREAS, values)})
    return cells


@pytest.mark.parametrize("fixture, expected, key, title", [
    ("visa_bulletin_2024_11.html", "visa_bulletin_2024_11.expected.txt", "2024-11", "Visa Bulletin for November 2024"),
    ("visa_bulletin_2026_07.html", "visa_bulletin_2026_07.expected.txt", "2026-07", "Visa Bulletin for July 2026"),
])
def test_every_cell_matches_the_typed_page(fixture, expected, key, title):
    [change] = SOURCE.parse(page(fixture))
    assert (change.item_key, change.title) == (key, title)
    parsed = {(c["chart"], c["category"], c["area"]): c["raw"] for c in change.facts["cells"]}
    assert parsed == golden(expected)
    assert len(parsed) == 150


@pytest.mark.parametrize("raw, value", [
    ("22OCT15", "2015-10-22"), ("01JUN01", "2001-06-01"), ("22OCT00", "2000-10-22"), ("15DEC99", "1999-12-15"),
    ("C", "CURRENT"), ("U", "UNAVAILABLE"), (" c ", "CURRENT"),
])
def test_cell_values(raw, value):
    assert cell_value(raw, "test") == value


@pytest.mark.parametrize("raw", ["31FEB20", "01XYZ20", "2020-01-01", "", "N/A"])
def test_bad_cells_are_parse_errors(raw):
    with pytest.raises(ParseError, match="test"):
        cell_value(raw, "test")


@pytest.mark.parametrize("label, code", [
    ("5th Set Aside: Rural (20%)", "EB5-RURAL"), ("5th Set Aside: (Rural: NR, RR - 20%)", "EB5-RURAL"),
    ("5th Set Aside: (High Unemployment - 10%)", "EB5-HIGH-UNEMPLOYMENT"),
    ("5th Unreserved (including C5, T5, I5, R5, NU, RU)", "EB5-UNRESERVED"), ("Other Workers", "EB3-OTHER"),
    ("F2A", "F2A"), ("Iraqi & Afghani Translators", "IRAQI-AFGHANI-TRANSLATORS"),
])
def test_category_labels_that_drift_are_normalized(label, code):
    assert category_code(label) == code


def test_index_finds_the_current_bulletin_in_its_fiscal_year_folder():
    links = parse_index((FIXTURES / "visa_bulletin_index.html").read_bytes(), INDEX_URL)
    # The upcoming entry on this recording has no link ("Coming Soon"), so only the current one.
    assert links == ["https://travel.state.gov/content/travel/en/legal/visa-law0/visa-bulletin/2026/"
                     "visa-bulletin-for-july-2026.html"]


def test_movement_from_november_2024_to_july_2026():
    [nov] = SOURCE.parse(page("visa_bulletin_2024_11.html"))
    [jul] = SOURCE.parse(page("visa_bulletin_2026_07.html"))
    [related] = SOURCE.relate([jul], lambda key: nov.facts if key == "2026-07" else None)
    assert related.facts["previous_month"] == "2024-11"
    rows = {(r["chart"], r["category"], r["area"]): r for r in related.facts["movement"]}
    f1 = rows[("family_final_action", "F1", "ALL")]
    # 22 Oct 2015 -> 1 Feb 2018, counted by hand: 731 + 92 + 10 days
    assert (f1["from"], f1["to"], f1["movement"], f1["days"]) == ("2015-10-22", "2018-02-01", "advanced", 833)
    assert f1["days"] == (date(2018, 2, 1) - date(2015, 10, 22)).days
    assert rows[("employment_final_action", "EB2", "INDIA")]["movement"] == "became_unavailable"
    assert rows[("employment_final_action", "EB2", "ALL")]["movement"] == "became_current"
    assert rows[("family_dates_for_filing", "F2A", "MEXICO")]["movement"] == "became_current"
    assert rows[("employment_final_action", "EB5-UNRESERVED", "INDIA")]["movement"] == "became_unavailable"
    # Cells that did not move are not rows
    assert ("family_dates_for_filing", "F1", "PHILIPPINES") not in rows       # 22APR15 both months
    assert ("family_dates_for_filing", "F4", "MEXICO") not in rows            # 30APR01 both months
    assert ("employment_final_action", "EB5-RURAL", "ALL") not in rows        # C both months
    assert "became unavailable" in related.summary and "advanced" in related.summary


def test_movement_kinds_including_retrogression():
    before = [{"chart": "c", "category": "EB3", "area": a, "value": v} for a, v in
              [("ALL", "2022-11-15"), ("CHINA", "CURRENT"), ("INDIA", "UNAVAILABLE"), ("MEXICO", "2022-11-15")]]
    after = [{"chart": "c", "category": "EB3", "area": a, "value": v} for a, v in
             [("ALL", "2022-11-01"), ("CHINA", "2020-01-01"), ("INDIA", "2014-01-01"), ("MEXICO", "2022-11-15")]]
    rows = {r["area"]: (r["movement"], r["days"]) for r in movement(before, after)}
    assert rows == {"ALL": ("retrogressed", -14), "CHINA": ("retrogressed", None), "INDIA": ("became_available", None)}


def test_first_bulletin_has_no_movement():
    [jul] = SOURCE.parse(page("visa_bulletin_2026_07.html"))
    [related] = SOURCE.relate([jul], lambda key: None)
    assert related.facts["movement"] == [] and "First bulletin" in related.summary


def broken(mutate) -> Fetched:
    body = (FIXTURES / "visa_bulletin_2026_07.html").read_bytes()
    return Fetched(url=INDEX_URL, status=200, body=mutate(body), headers={}, validators=Validators())


@pytest.mark.parametrize("mutate, message", [
    (lambda b: b[: len(b) // 2], "chart heading not found"),  # truncated
    (lambda b: b.replace(b"DATES FOR FILING OF EMPLOYMENT-BASED", b"CHARTS FOR EMPLOYMENT-BASED"), "employment_dates_for_filing"),
    (lambda b: b"<html><head><title>Just a moment...</title></head><body>Checking your browser</body></html>", "title"),
    (lambda b: b.replace(b"01JAN14", b"01JANX4", 1), "is not a date"),
])
def test_broken_bulletins_are_classified(mutate, message):
    with pytest.raises(ParseError, match=message):
        SOURCE.parse(broken(mutate))


JULY = "/content/travel/en/legal/visa-law0/visa-bulletin/2026/visa-bulletin-for-july-2026.html"
NOVEMBER = "/content/travel/en/legal/visa-law0/visa-bulletin/2025/visa-bulletin-for-november-2024.html"


def test_pipeline_baseline_then_new_bulletin_alert_with_movement(server, make_config, capsys):
    from watcher import app as app_module
    from watcher.pipeline import run_source

    from .conftest import Reply

    index = (FIXTURES / "visa_bulletin_index.html").read_bytes()
    server.routes["/index"] = Reply(200, index.replace(JULY.encode(), NOVEMBER.encode()), {"ETag": '"1"'})
    server.routes[NOVEMBER] = Reply(200, (FIXTURES / "visa_bulletin_2024_11.html").read_bytes())
    server.routes[JULY] = Reply(200, (FIXTURES / "visa_bulletin_2026_07.html").read_bytes())
    config = app_module.load_config(make_config([("visa-bulletin", server.url("/index"))], kind="visa_bulletin"))
    app = app_module.build_app(config, kinds={"visa_bulletin": VisaBulletinSource}, environ={})
    source = app.sources[0]
    assert run_source(app.context, source).outcome == "baseline"
    server.routes["/index"] = Reply(200, index, {"ETag": '"2"'})  # the index now names July 2026
    run = run_source(app.context, source)
    assert (run.outcome, run.new, run.messages) == ("ok", 1, 1)
    assert app.dispatcher.run().sent == 1
    out = capsys.readouterr().out
    assert "Visa Bulletin for July 2026" in out and "Cut-off movement since the 2024-11 bulletin:" in out
    assert "family final action F1 ALL: 2015-10-22 -> 2018-02-01 (advanced +833 days)" in out
    assert "employment final action EB2 INDIA: 2012-07-15 -> UNAVAILABLE (became unavailable)" in out
    codes = {c for change in app.store.changes.listing() for c in change.case_types}
    assert {"CONSULAR", "I-485", "I-130", "PERM-I-140", "EB-5"} <= codes
    app.close()


def test_upcoming_page_missing_is_skipped_but_a_broken_current_one_stores_nothing(server, make_config):
    from watcher import app as app_module
    from watcher.pipeline import run_source

    from .conftest import Reply

    august = JULY.replace("july", "august")
    index = (FIXTURES / "visa_bulletin_index.html").read_bytes().replace(
        b'title="Visa Bulletin Coming Soon"', f"href='{august}' title=\"Visa Bulletin For August 2026\"".encode())
    assert parse_index(index, INDEX_URL)[1].endswith("visa-bulletin-for-august-2026.html")
    server.routes["/index"] = Reply(200, index)
    server.routes[JULY] = Reply(200, (FIXTURES / "visa_bulletin_2026_07.html").read_bytes())  # August: 404
    config = app_module.load_config(make_config([("visa-bulletin", server.url("/index"))], kind="visa_bulletin"))
    app = app_module.build_app(config, kinds={"visa_bulletin": VisaBulletinSource}, environ={})
    run = run_source(app.context, app.sources[0])
    assert (run.outcome, run.new) == ("baseline", 1)

    server.routes[JULY] = Reply(200, b"<html><body>maintenance</body></html>")
    failed = run_source(app.context, app.sources[0], force=True)
    assert (failed.outcome, failed.error_class) == ("error", "parser_broken")
    assert app.store.db["changes"].count == 1 and app.store.db["change_versions"].count == 1
    app.close()
