"""Listing pages read by meaning: an agency's news index whose items are links to its own article pages.

Agency sites are rebuilt every few years (a CMS migration renames every class), but the address of an article
follows the site's scheme for years: travel.state.gov files visa news under /content/travel/en/News/visas-news/,
Study in the States files its posts under /YYYY/MM/. So an item is a link whose path matches the kind's pattern,
wherever it sits; its block is the largest element around it that holds no other such link; its day is the block's
<time datetime> or the first date written in it ("March 4th, 2025", "2025-03-04", "03/04/2025"). A page with none
of those links is "parser broken", never "no news".
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import ClassVar
from urllib.parse import urljoin, urlsplit

from bs4 import Tag

from ..models import Change, Fetched
from .base import (MAX_SUMMARY, MAX_TITLE, Source, clean_text, each_item, html_soup, iso_time, require_items,
                   safe_link, spend)

_MONTHS = ("January|February|March|April|May|June|July|August|September|October|November|December|"
           r"Jan\.?|Feb\.?|Mar\.?|Apr\.?|Jun\.?|Jul\.?|Aug\.?|Sept?\.?|Oct\.?|Nov\.?|Dec\.?")
DATE_TEXT = re.compile(r"\b(?P<month>" + _MONTHS + r")\s+(?P<day>\d{1,2})(?:st|nd|rd|th)?,?\s+(?P<year>\d{4})\b"
                       r"|\b(?P<iso>\d{4}-\d{2}-\d{2})\b|\b(?P<us>\d{1,2}/\d{1,2}/\d{4})\b")


def text_date(text: str) -> datetime | None:
    """The first date written in `text`, as midnight UTC of that day; None when none (or an impossible one)."""
    found = DATE_TEXT.search(text)
    if found is None:
        return None
    try:
        if found["iso"]:
            day = datetime.strptime(found["iso"], "%Y-%m-%d")
        elif found["us"]:
            day = datetime.strptime(found["us"], "%m/%d/%Y")
        else:
            month = found["month"].rstrip(".")[:3]
            day = datetime.strptime(f"{month} {found['day']} {found['year']}", "%b %d %Y")
    except ValueError:  # "February 30, 2025"
        return None
    return day.replace(tzinfo=timezone.utc)


def day_of(published: datetime | None) -> str:
    return published.date().isoformat() if published else "undated"


class LinkListingSource(Source):
    """A news index whose items are links to the site's articles (`PATH` matches an article's path)."""

    BASE: ClassVar[str] = ""
    PATH: ClassVar[re.Pattern[str]]
    ITEM_KIND: ClassVar[str] = ""
    WHAT: ClassVar[str] = "news items"
    # Link texts that are not titles: the block's title is another link to the same article.
    _NOT_TITLES = re.compile(r"^(read more|more|learn more|continue reading|full story)\b", re.IGNORECASE)
    _MORE = re.compile(r"\s*\b(read more|learn more|continue reading|full story)\s*$", re.IGNORECASE)

    def parse(self, fetched: Fetched) -> list[Change]:
        soup = html_soup(fetched.body)
        host = urlsplit(self.BASE).hostname
        # Links are resolved against the agency's site: a page served from elsewhere (a test, a mirror) still names
        # the agency's articles.
        base = fetched.url if urlsplit(fetched.url).hostname == host else self.BASE
        links: dict[str, list[Tag]] = {}
        for link in soup.find_all("a", href=True):
            url = urljoin(base, link["href"].strip())
            parts = urlsplit(url)
            if parts.hostname == host and self.PATH.search(parts.path):
                links.setdefault(f"{parts.scheme}://{parts.netloc}{parts.path}", []).append(link)
        blocks = _blocks(links)
        changes = each_item(list(links.items()), lambda item, _: self._item(item[0], item[1], blocks[item[0]]),
                            self.WHAT)
        return require_items(changes, fetched, self.WHAT)

    def _item(self, url: str, anchors: list[Tag], block: Tag) -> Change | None:
        titled = [a for a in anchors if not self._NOT_TITLES.match(a.get_text(" ", strip=True))]
        title = clean_text(max((a.get_text(" ", strip=True) for a in titled), key=len, default=""), MAX_TITLE)
        if not title:
            return None  # only an image or a "Read more" points at it
        text = clean_text(block.get_text(" ", strip=True), 4 * MAX_SUMMARY)
        published = iso_time(block.find("time", attrs={"datetime": True})) or text_date(text)
        summary = text.replace(title, " ", 1)
        dated = DATE_TEXT.search(summary)
        if dated and dated.start() < 40:  # the listing's date line, not a date the teaser mentions
            summary = summary[:dated.start()] + summary[dated.end():]
        summary = self._MORE.sub("", self._NOT_TITLES.sub("", clean_text(summary, MAX_SUMMARY).strip(" |-–:")))
        return Change(source_id=self.config.id, item_key=url, kind=self.ITEM_KIND, title=title,
                      summary=clean_text(summary, MAX_SUMMARY), url=safe_link(url), published=published,
                      facts={"listed_on": day_of(published)} if published else {})


_MANY = object()  # an element that holds links to more than one article


def _blocks(links: dict[str, list[Tag]]) -> dict[str, Tag]:
    """Each article's block: the largest element around its first link that links to no other article (the item's
    card, row or list entry). One walk up from every link marks which article each element holds, so a listing of
    thousands of items costs links x depth, not links x page."""
    holds: dict[int, object] = {}
    for url, anchors in links.items():
        for anchor in anchors:
            spend()
            for parent in anchor.parents:
                held = holds.get(id(parent))
                if held is _MANY or held == url:
                    break  # everything above was marked by an earlier walk
                holds[id(parent)] = url if held in (None, url) else _MANY
    blocks = {}
    for url, anchors in links.items():
        block = anchors[0]
        for parent in anchors[0].parents:
            if parent.name in ("body", "html", "[document]") or holds.get(id(parent)) != url:
                break
            block = parent
        blocks[url] = block
    return blocks
