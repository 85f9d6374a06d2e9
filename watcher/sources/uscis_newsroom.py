"""`uscis_newsroom`: the USCIS newsroom "all news" HTML listing, the fallback when a feed fails.

Each `views-row` holds a title link (relative), a <time datetime> and a teaser. USCIS answers 403 to
default user agents; the descriptive User-Agent of http.py is what gets through.
"""

from __future__ import annotations

from urllib.parse import urljoin

from bs4 import Tag

from ..models import Change, Fetched
from .base import MAX_SUMMARY, MAX_TITLE, Source, clean_text, each_item, html_soup, iso_time, require_items

BASE = "https://www.uscis.gov/"


# The same kinds the feed sources use (sources.toml `category`), so both paths classify an item alike.
KINDS = {"alerts": "alert", "news-releases": "news_release", "fact-sheets": "fact_sheet",
         "stakeholder-messages": "stakeholder_message"}


def _category(path: str) -> str:
    parts = [p for p in path.split("/") if p]
    return parts[1] if len(parts) > 2 and parts[0] == "newsroom" else "news"


class UscisNewsroomSource(Source, kind="uscis_newsroom"):
    def parse(self, fetched: Fetched) -> list[Change]:
        soup = html_soup(fetched.body)
        base = fetched.url if fetched.url.startswith("https://www.uscis.gov") else BASE
        changes = each_item(soup.select("div.views-row"), lambda row, _: self._row(row, base), "newsroom rows")
        return require_items(changes, fetched, "newsroom rows")

    def _row(self, row: Tag, base: str) -> Change | None:
        link = row.select_one(".views-field-title a[href]")
        if link is None:
            return None
        url = urljoin(base, link["href"])
        published = iso_time(row.select_one("time[datetime]"))
        body = row.select_one(".views-field-body")
        return Change(
            source_id=self.config.id, item_key=url, kind=KINDS.get(_category(link["href"]), "news"),
            title=clean_text(link.get_text(" ", strip=True), MAX_TITLE),
            summary=clean_text(body.get_text(" ", strip=True) if body else "", MAX_SUMMARY),
            url=url, published=published, facts={"category": _category(link["href"])})
