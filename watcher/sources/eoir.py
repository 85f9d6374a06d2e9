"""`eoir_precedents`: Attorney General and BIA precedent decisions from an EOIR volume page.

Each decision is a one-row table (name in <strong>, the I&N Dec. citation with the deciding body and year,
a PDF link labelled "ID nnnn") followed by headnote paragraphs up to the next <hr>. Volume pages give only
the year; PDF links are relative and come in two schemes (/d9/....pdf and /media/nnn/dl?inline).
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from urllib.parse import urljoin

from bs4 import Tag

from ..errors import ParseError
from ..http import HttpClient
from ..models import Change, Fetched
from .base import MAX_SUMMARY, MAX_TITLE, Source, clean_text, each_item, html_soup, require_items

_CITATION = re.compile(r"(\d+)\s+I\s*&\s*N\s+Dec\.?\s+(\d+)")  # the period is sometimes missing
_BODY_YEAR = re.compile(r"\((A\.\s*G\.|BIA|DIR)\s*(\d{4})\)")  # DIR: the EOIR Director
_ID = re.compile(r"ID\s*(\d+)")
BASE = "https://www.justice.gov/"
FIRST_YEAR = 1940  # volume 1 of Administrative Decisions under Immigration and Nationality Laws


def display_name(raw: str) -> str:
    """'AZRAG, ' -> 'Azrag'; initials ('F-C-S-') and mixed case ('Aguilar Hernandez') are kept as written."""
    name = clean_text(raw.replace("\u2011", "-"), MAX_TITLE).rstrip(", ").strip()  # non-breaking hyphens
    if name.isupper() and re.search(r"[A-Z]{3}", name):
        name = name.title()
    return name


def parse_decision(table: Tag, page_url: str) -> dict | None:
    cells = table.find_all("td")
    strong = table.find(["strong", "b"])  # both appear on the same page
    text = clean_text(table.get_text(" ", strip=True), 2000)
    citation = _CITATION.search(text)
    if len(cells) < 2 or strong is None or citation is None:
        return None  # a layout table, not a decision row
    link = cells[-1].find("a", href=True)
    body_year = _BODY_YEAR.search(text)
    decision_id = _ID.search(cells[-1].get_text(" ", strip=True))
    if link is None or decision_id is None or body_year is None:
        raise ParseError(f"decision '{strong.get_text(strip=True)}' lacks a PDF link, ID or (body year)")
    if not FIRST_YEAR <= int(body_year.group(2)) <= 2200:  # year 0 would become datetime(0, 1, 1): ValueError
        raise ParseError(f"decision '{strong.get_text(strip=True)}': year {body_year.group(2)} is not a real year")
    return {
        "name": display_name(strong.get_text(" ", strip=True)),
        "citation": f"{citation.group(1)} I&N Dec. {citation.group(2)}",
        "body": "AG" if body_year.group(1).startswith("A") else body_year.group(1),
        "year": int(body_year.group(2)),
        "decision_id": decision_id.group(1),
        "pdf": urljoin(page_url if page_url.startswith("https://") else BASE, link["href"]),
        "headnote": _headnote(table),
    }


def _headnote(table: Tag) -> str:
    parts = []
    for sibling in table.find_next_siblings():
        if sibling.name in ("hr", "table", "h2", "h3"):
            break
        if sibling.name == "p":
            # No separator: inline <i> case names must not gain spaces ("Mendes , 20 I&N Dec.").
            parts.append(sibling.get_text())
    return clean_text(" ".join(parts), MAX_SUMMARY)


_VOLUME_LINK = re.compile(r"Volume\s+(\d+)", re.IGNORECASE)


def latest_volume_url(body: bytes, page_url: str) -> str | None:
    """On the AG/BIA decisions index, the link to the highest-numbered volume; None on a volume page."""
    soup = html_soup(body)
    if any(parse_decision(table, page_url) for table in soup.find_all("table")):
        return None
    volumes = [(int(m.group(1)), a["href"]) for a in soup.find_all("a", href=True)
               if (m := _VOLUME_LINK.search(a.get_text(" ", strip=True)))]
    if not volumes:
        raise ParseError(f"{page_url}: neither decisions nor 'Volume' links on the page", broken=True)
    return urljoin(page_url, max(volumes)[1])


class EoirPrecedentsSource(Source, kind="eoir_precedents"):
    """The configured URL is the AG/BIA decisions index (the newest volume is followed) or a volume page."""

    def follow(self, http: HttpClient, fetched: Fetched) -> list[Fetched]:
        latest = latest_volume_url(fetched.body, fetched.url)
        return [http.get(latest, accept="text/html")] if latest else [fetched]

    def parse(self, fetched: Fetched) -> list[Change]:
        soup = html_soup(fetched.body)
        changes = each_item(soup.find_all("table"), lambda table, _: self._decision(table, fetched.url),
                            "precedent decisions")
        return require_items(changes, fetched, "precedent decisions")

    def _decision(self, table: Tag, page_url: str) -> Change | None:
        decision = parse_decision(table, page_url)
        if decision is None:
            return None
        return Change(
            source_id=self.config.id, item_key=decision["citation"], kind="precedent",
            title=f"Matter of {decision['name']}, {decision['citation']} ({decision['body']} {decision['year']})",
            summary=decision["headnote"], url=decision["pdf"],
            published=datetime(decision["year"], 1, 1, tzinfo=timezone.utc),
            facts={k: decision[k] for k in ("name", "citation", "body", "year", "decision_id")},
        )
