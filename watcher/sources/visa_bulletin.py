"""`visa_bulletin`: the State Department's monthly Visa Bulletin.

The configured URL is the index page. Its "Current" and "Upcoming" entries link to bulletin pages inside a
fiscal-year folder (November 2024 lives under /2025/); the upcoming entry often has no link yet. Each
bulletin page has four charts that matter, found by the heading before them (tables have no ids, and
off-screen one-cell tables and Diversity Visa tables sit between them). Column headers and category labels
drift between months, so both are normalized. One change per bulletin; `relate` adds the movement of
every cell against the previous bulletin.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, replace
from datetime import date, datetime, timezone
from typing import Callable, Iterable, Mapping
from urllib.parse import urljoin

from bs4 import BeautifulSoup, Comment, NavigableString, Tag

from ..errors import FetchError, ParseError
from ..http import HttpClient
from ..models import Change, Fetched
from .base import Source, html_soup, spend

log = logging.getLogger(__name__)

CHARTS = {
    ("FINAL ACTION DATES", "FAMILY-SPONSORED"): "family_final_action",
    ("DATES FOR FILING", "FAMILY-SPONSORED"): "family_dates_for_filing",
    ("FINAL ACTION DATES", "EMPLOYMENT-BASED"): "employment_final_action",
    ("DATES FOR FILING", "EMPLOYMENT-BASED"): "employment_dates_for_filing",
}
# A chart's heading by its meaning: which dates, which preference system. Spellings seen from 2016 on: "A. FINAL
# ACTION DATES FOR FAMILY-SPONSORED PREFERENCE CASES", "APPLICATION FINAL ACTION DATES FOR ..." (May-Aug 2016),
# "DATES FOR FILING OF EMPLOYMENT-BASED VISA APPLICATIONS"; hyphens may be soft, non-breaking or line breaks.
_HEADING = re.compile(r"^(?:APPLICATION )?(FINAL ACTION DATES|DATES FOR FILING)\b.{0,40}?\b"
                      r"(FAMILY ?- ?SPONSORED|FAMILY SPONSORED|EMPLOYMENT ?- ?BASED|EMPLOYMENT BASED)\b")
_HYPHENS = str.maketrans({"\u00ad": None, "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u00a0": " "})
_TITLE = re.compile(r"Visa Bulletin for (January|February|March|April|May|June|July|August|September|October|"
                    r"November|December) (\d{4})", re.IGNORECASE)
_CELL_DATE = re.compile(r"^(\d{2})([A-Z]{3})(\d{2})$")
MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
CURRENT, UNAVAILABLE = "CURRENT", "UNAVAILABLE"

# Category labels drift between months ("5th Set Aside: Rural (20%)" vs "(Rural: NR, RR - 20%)").
_CATEGORIES = [
    (re.compile(r"^F(1|2A|2B|3|4)$"), None),
    (re.compile(r"^1st"), "EB1"), (re.compile(r"^2nd"), "EB2"), (re.compile(r"^3rd"), "EB3"),
    (re.compile(r"^other workers", re.I), "EB3-OTHER"), (re.compile(r"^4th"), "EB4"),
    # Before the EB-5 Reform and Integrity Act took full effect (bulletins to mid-2022), regional-center investors
    # (I5, R5) had a row of their own, "5th Regional Center (I5 and R5)" and then "5th Unreserved (I5 and R5)";
    # direct investors (C5, T5) file in what is now the unreserved category.
    (re.compile(r"religious", re.I), "EB4-RELIGIOUS"),
    (re.compile(r"^5th (regional center|pilot)|\(I5 and R5\)", re.I), "EB5-REGIONAL-CENTER"),
    (re.compile(r"^5th unreserved|^5th non-?regional|\(C5 and T5\)", re.I), "EB5-UNRESERVED"),
    (re.compile(r"rural", re.I), "EB5-RURAL"), (re.compile(r"high unemployment", re.I), "EB5-HIGH-UNEMPLOYMENT"),
    (re.compile(r"infrastructure", re.I), "EB5-INFRASTRUCTURE"),
]


@dataclass(frozen=True)
class Cell:
    chart: str
    category: str
    area: str
    raw: str
    value: str  # ISO date, CURRENT or UNAVAILABLE

    def as_fact(self) -> dict:
        return {"chart": self.chart, "category": self.category, "area": self.area, "raw": self.raw,
                "value": self.value}


def _text(node) -> str:
    return re.sub(r"\s+", " ", node.get_text(" ", strip=True) if isinstance(node, Tag) else str(node)).strip()


def cell_value(raw: str, where: str) -> str:
    raw = raw.strip().upper()
    if raw == "C":
        return CURRENT
    if raw == "U":
        return UNAVAILABLE
    match = _CELL_DATE.match(raw)
    if not match or match.group(2) not in MONTHS:
        raise ParseError(f"{where}: '{raw}' is not a date (ddMMMyy), C or U")
    day, month, year = int(match.group(1)), MONTHS.index(match.group(2)) + 1, int(match.group(3))
    year += 2000 if year < 70 else 1900  # priority dates reach back to the 1990s, never before 1970
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        raise ParseError(f"{where}: '{raw}' is not a real date") from None


def category_code(label: str) -> str:
    label = label.strip()
    for pattern, code in _CATEGORIES:
        if pattern.search(label):
            return code or label.upper()
    return re.sub(r"[^A-Z0-9]+", "-", label.upper()).strip("-")  # an unknown row is kept, not dropped


def area_code(header: str) -> str:
    header = header.upper()
    if header.startswith("ALL CHARGEABILITY"):
        return "ALL"
    if header.startswith("CHINA"):
        return "CHINA"
    return re.sub(r"[^A-Z]+", " ", header).strip()


def bulletin_month(soup: BeautifulSoup) -> tuple[str, str]:
    for node in [soup.title, soup.find("h1"), soup]:
        match = _TITLE.search(_text(node)) if node else None
        if match:
            month = datetime.strptime(match.group(1)[:3].title(), "%b").month
            return f"{match.group(2)}-{month:02d}", f"Visa Bulletin for {match.group(1).title()} {match.group(2)}"
    raise ParseError("no 'Visa Bulletin for <Month> <Year>' title on the page", broken=True)


def heading_chart(text: str) -> str | None:
    """The chart a heading names, or None. Headings are capitals; a sentence of prose never matches."""
    text = re.sub(r"\s+", " ", text.translate(_HYPHENS)).strip()
    text = re.sub(r"^[A-Z][.)]\s*", "", text)  # the "A." / "B." that numbers the chart
    if not text.isupper() or len(text) > 160:
        return None
    match = _HEADING.match(text)
    if not match:
        return None
    dates = "FINAL ACTION DATES" if match.group(1).startswith("FINAL") else "DATES FOR FILING"
    system = "FAMILY-SPONSORED" if match.group(2).startswith("FAMILY") else "EMPLOYMENT-BASED"
    return CHARTS[(dates, system)]


def find_charts(soup: BeautifulSoup) -> dict[str, Tag]:
    """Each chart is the first real table (2+ rows, 2+ columns) after its heading.

    One walk through the document in order: a heading waits for the next chart table. (Searching forward from
    every heading was quadratic: a page of a thousand repeated headings took minutes.)"""
    charts: dict[str, Tag] = {}
    waiting: list[str] = []
    for node in soup.descendants:
        spend()
        if isinstance(node, Tag):
            if node.name == "table" and waiting and _is_chart(node):
                for name in waiting:
                    charts.setdefault(name, node)
                waiting = []
            continue
        if not isinstance(node, NavigableString) or isinstance(node, Comment):
            continue
        name = heading_chart(str(node))
        if name and name not in charts:
            waiting.append(name)
    missing = [name for name in CHARTS.values() if name not in charts]
    if missing:
        raise ParseError(f"chart heading not found for: {', '.join(missing)}", broken=True)
    return charts


def _is_chart(table: Tag) -> bool:
    rows = table.find_all("tr", limit=2)
    return len(rows) >= 2 and len(rows[0].find_all(["td", "th"], limit=2)) >= 2


def parse_chart(name: str, table: Tag) -> list[Cell]:
    rows = [[_text(c) for c in row.find_all(["td", "th"])] for row in table.find_all("tr")]
    header, body = rows[0], rows[1:]
    family = name.startswith("family")
    if ("FAMILY" if family else "EMPLOYMENT") not in header[0].upper():
        raise ParseError(f"{name}: table under the heading starts with '{header[0]}'", broken=True)
    areas = [area_code(h) for h in header[1:]]
    cells, seen = [], set()
    for row in body:
        if not any(row):
            continue
        if len(row) != len(header):
            raise ParseError(f"{name}: row '{row[0]}' has {len(row)} cells, header has {len(header)}")
        category = category_code(row[0])
        if category in seen:  # two labels read as one category: the first row is kept, never a mixed chart
            log.warning("%s: row '%s' repeats category %s; kept the first", name, row[0], category)
            continue
        seen.add(category)
        for area, raw in zip(areas, row[1:]):
            cells.append(Cell(name, category, area, raw.strip(), cell_value(raw, f"{name} {category} {area}")))
    if not cells:
        raise ParseError(f"{name}: chart has no rows", broken=True)
    return cells


def parse_bulletin(body: bytes, url: str) -> tuple[str, str, list[Cell]]:
    soup = html_soup(body)
    key, title = bulletin_month(soup)
    cells = [cell for name, table in find_charts(soup).items() for cell in parse_chart(name, table)]
    return key, title, cells


def parse_index(body: bytes, url: str) -> list[str]:
    """Absolute URLs of the current and upcoming bulletins named on the index page (0, 1 or 2)."""
    soup = html_soup(body)
    links = []
    for heading in soup.find_all(["h2", "h3"]):
        if re.match(r"(Current|Upcoming) Visa Bulletin", _text(heading), re.IGNORECASE):
            anchor = heading.find_next("a")
            href = anchor.get("href") if anchor else None
            if href and "visa-bulletin-for-" in href:
                links.append(urljoin(url, href))
    if not links:
        raise ParseError(f"{url}: no current Visa Bulletin link on the index page", broken=True)
    return links


def _days(a: str, b: str) -> int:
    return (date.fromisoformat(b) - date.fromisoformat(a)).days


def movement(previous: Iterable[Mapping], current: Iterable[Mapping]) -> list[dict]:
    """Every cell that moved: advanced or retrogressed (with days), became current, became unavailable."""
    before = {(c["chart"], c["category"], c["area"]): c["value"] for c in previous}
    rows = []
    for cell in current:
        key = (cell["chart"], cell["category"], cell["area"])
        old, new = before.get(key), cell["value"]
        if old is None or old == new:
            continue
        if new == CURRENT:
            kind, days = "became_current", None
        elif new == UNAVAILABLE:
            kind, days = "became_unavailable", None
        elif old in (CURRENT, UNAVAILABLE):
            kind, days = "retrogressed" if old == CURRENT else "became_available", None
        else:
            days = _days(old, new)
            kind = "advanced" if days > 0 else "retrogressed"
        rows.append({"chart": key[0], "category": key[1], "area": key[2], "from": old, "to": new,
                     "movement": kind, "days": days})
    return rows


def summarize(rows: list[dict]) -> str:
    counts: dict[str, int] = {}
    for row in rows:
        counts[row["movement"]] = counts.get(row["movement"], 0) + 1
    if not rows:
        return "No cutoff date moved."
    return "Cutoff movement: " + ", ".join(f"{n} {kind.replace('_', ' ')}" for kind, n in sorted(counts.items())) + "."


class VisaBulletinSource(Source, kind="visa_bulletin"):
    def follow(self, http: HttpClient, index: Fetched) -> list[Fetched]:
        pages = []
        for url in parse_index(index.body, index.url):
            try:
                pages.append(http.get(url, accept="text/html"))
            except FetchError as exc:
                if not pages:  # the current bulletin must load; an upcoming one may not exist yet
                    raise
                log.info("upcoming bulletin %s not loaded: %s", url, exc)
        return pages

    def parse(self, fetched: Fetched) -> list[Change]:
        key, title, cells = parse_bulletin(fetched.body, fetched.url)
        published = datetime.strptime(key + "-01", "%Y-%m-%d").replace(tzinfo=timezone.utc)
        return [Change(source_id=self.config.id, item_key=key, kind="visa_bulletin", title=title,
                       summary=f"{len(cells)} cutoff dates in four charts.", url=fetched.url, published=published,
                       facts={"month": key, "cells": [c.as_fact() for c in cells]})]

    def relate(self, changes: list[Change], previous: Callable[[str], Mapping | None]) -> list[Change]:
        """Attach the movement table against the bulletin before each one (in this batch or stored)."""
        related, last = [], None
        for change in sorted(changes, key=lambda c: c.item_key):
            prior = last or previous(change.item_key)
            rows = movement(prior["cells"], change.facts["cells"]) if prior else []
            facts = {**change.facts, "previous_month": prior["month"] if prior else None, "movement": rows}
            summary = summarize(rows) if prior else "First bulletin on record; no movement computed."
            related.append(replace(change, facts=facts, summary=summary))
            last = change.facts
        return related
