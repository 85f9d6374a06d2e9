"""Visa Bulletin layouts from 2016 to 2023 (issue 28): each chart found by its heading's meaning and each category by
its meaning, whatever the year's spelling, with any set of chargeability columns. The golden cells are the final
action charts typed from each recorded page (tests/data/visa_bulletins, provenance in tests/data/README.md); the
2024 and 2026 layouts are test_visa_bulletin.py's."""

from __future__ import annotations

import pytest

from watcher.config import Schedule, SourceConfig
from watcher.models import Fetched, Validators
from watcher.sources.visa_bulletin import VisaBulletinSource, heading_chart

from .feeds import DATA

URL = "https://travel.state.gov/content/travel/en/legal/visa-law0/visa-bulletin.html"
SOURCE = VisaBulletinSource(SourceConfig(id="visa-bulletin", kind="visa_bulletin", url=URL, schedule=Schedule()))
FAMILY = "ALL | CHINA | INDIA | MEXICO | PHILIPPINES"
ESGH = "EL SALVADOR GUATEMALA HONDURAS"

# Typed from the pages: the chart's columns, then each row as the page labels it -> the category it is.
LAYOUTS = {
    "may-2016": ("Visa Bulletin for May 2016", f"""
[family_final_action] {FAMILY}
F1 F1 | 22NOV08 | 22NOV08 | 22NOV08 | 08FEB95 | 01OCT04
F4 F4 | 22JUL03 | 22JUL03 | 22JUL03 | 08APR97 | 01OCT92
[employment_final_action] ALL | CHINA | {ESGH} | INDIA | MEXICO | PHILIPPINES
2nd EB2 | C | 01SEP12 | C | 22NOV08 | C | C
Other Workers EB3-OTHER | 15FEB16 | 22APR07 | 15FEB16 | 01SEP04 | 15FEB16 | 08AUG08
Certain Religious Workers EB4-RELIGIOUS | C | C | 01JAN10 | C | C | C
5th Non-Regional Center (C5 and T5) EB5-UNRESERVED | C | 08FEB14 | C | C | C | C
5th Regional Center (I5 and R5) EB5-REGIONAL-CENTER | C | 08FEB14 | C | C | C | C
"""),
    "april-2017": ("Visa Bulletin for April 2017", f"""
[family_final_action] {FAMILY}
F2A F2A | 08JUN15 | 08JUN15 | 08JUN15 | 22MAY15 | 08JUN15
F4 F4 | 08MAY04 | 08MAY04 | 15AUG03 | 15JUN97 | 08SEP93
[employment_final_action] ALL | CHINA | {ESGH} | INDIA | MEXICO | PHILIPPINES
3rd EB3 | 15FEB17 | 15AUG14 | 15FEB17 | 24MAR05 | 15FEB17 | 15SEP12
4th EB4 | C | C | 15JUL15 | C | 15JUL15 | C
5th Regional Center (I5 and R5) EB5-REGIONAL-CENTER | C | 22MAY14 | C | C | C | C
"""),
    "august-2018": ("Visa Bulletin for August 2018", f"""
[family_final_action] {FAMILY}
F1 F1 | 08MAY11 | 08MAY11 | 08MAY11 | 01AUG97 | 01AUG06
[employment_final_action] ALL | CHINA | {ESGH} | INDIA | MEXICO | PHILIPPINES | VIETNAM
1st EB1 | 01MAY16 | 01JAN12 | 01MAY16 | 01JAN12 | 01MAY16 | 01MAY16 | 01MAY16
3rd EB3 | C | 01JUL14 | C | 01JAN09 | C | 01JUN17 | C
5th Non-Regional Center (C5 and T5) EB5-UNRESERVED | C | 01AUG14 | C | C | C | C | 01AUG14
"""),
    "may-2022": ("Visa Bulletin for May 2022", f"""
[family_final_action] {FAMILY}
F2A F2A | C | C | C | C | C
F4 F4 | 22MAR07 | 22MAR07 | 15SEP05 | 01JAN00 | 22AUG02
[employment_final_action] ALL | CHINA | {ESGH} | INDIA | MEXICO | PHILIPPINES
2nd EB2 | C | 01MAR19 | C | 01SEP13 | C | C
5th Unreserved (C5, T5, and all others) EB5-UNRESERVED | C | C | C | C | C | C
5th Unreserved (I5 and R5) EB5-REGIONAL-CENTER | C | 22NOV15 | C | C | C | C
5th Set Aside: Infrastructure (2%) EB5-INFRASTRUCTURE | C | C | C | C | C | C
"""),
    "april-2023": ("Visa Bulletin for April 2023", f"""
[family_final_action] {FAMILY}
F2A F2A | 08SEP20 | 08SEP20 | 08SEP20 | 01NOV18 | 08SEP20
[employment_final_action] ALL | CHINA | INDIA | MEXICO | PHILIPPINES
1st EB1 | C | 01FEB22 | 01FEB22 | C | C
2nd EB2 | 01JUL22 | 08JUN19 | 01JAN11 | 01JUL22 | 01JUL22
5th Unreserved (including C5, T5, I5, R5) EB5-UNRESERVED | C | 08JUL15 | 01JUN18 | C | C
5th Set Aside: Rural (20%) EB5-RURAL | C | C | C | C | C
"""),
}


def typed(text: str) -> tuple[dict, dict]:
    """(cells, columns per chart) from the typed golden text."""
    cells, columns, chart = {}, {}, None
    for line in text.strip().splitlines():
        if line.startswith("["):
            chart, areas = line[1:].split("] ")
            columns[chart] = areas.split(" | ")
            continue
        label, *values = line.split(" | ")
        category = label.rsplit(" ", 1)[1]
        assert len(values) == len(columns[chart]), line
        cells.update({(chart, category, area): raw for area, raw in zip(columns[chart], values)})
    return cells, columns


@pytest.mark.parametrize("month", sorted(LAYOUTS))
def test_each_layout_parses_to_the_typed_cells(month):
    title, text = LAYOUTS[month]
    body = (DATA / "visa_bulletins" / f"visa-bulletin-for-{month}.html").read_bytes()
    [change] = SOURCE.parse(Fetched(url=URL, status=200, body=body, headers={}, validators=Validators()))
    assert change.title == title
    parsed = {(c["chart"], c["category"], c["area"]): c["raw"] for c in change.facts["cells"]}
    expected, columns = typed(text)
    assert {k: parsed.get(k) for k in expected} == expected
    for chart, areas in columns.items():  # every column of the page, and no other
        assert sorted({a for (c, _, a) in parsed if c == chart}) == sorted(areas)
    assert {c for (c, _, _) in parsed} == {"family_final_action", "family_dates_for_filing",
                                           "employment_final_action", "employment_dates_for_filing"}
    # No category read twice from one chart, and every employment category is one the matcher and caseload know.
    for chart in ("employment_final_action", "employment_dates_for_filing"):
        categories = [k[1] for k in parsed if k[0] == chart and k[2] == "ALL"]
        assert all(c.startswith(("EB1", "EB2", "EB3", "EB4", "EB5")) for c in categories), categories


@pytest.mark.parametrize("text, chart", [
    ("A. APPLICATION FINAL ACTION DATES FOR\xa0FAMILY-SPONSORED\xa0PREFERENCE CASES", "family_final_action"),
    ("B.\xa0 DATES FOR FILING OF EMPLOYMENT-BASED\xa0VISA\xa0APPLICATIONS", "employment_dates_for_filing"),
    ("A. FINAL ACTION DATES FOR EMPLOY\u00adMENT-BASED PREFERENCE CASES", "employment_final_action"),
    ("A. FINAL ACTION DATES FOR FAMILY\u2011SPONSORED PREFERENCE CASES", "family_final_action"),
    ("B. DATES FOR FILING FAMILY-\n   SPONSORED VISA APPLICATIONS", "family_dates_for_filing"),
    ("applicants must use the Final Action Dates for family-sponsored cases", None),  # prose, not a heading
    ("FINAL ACTION DATES FOR DIVERSITY IMMIGRANT CATEGORIES", None),
])
def test_headings_are_read_by_meaning(text, chart):
    assert heading_chart(text) == chart
