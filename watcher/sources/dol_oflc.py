"""`dol_oflc`: the Office of Foreign Labor Certification's announcements (https://www.dol.gov/agencies/eta/foreign-
labor): PERM and prevailing-wage processing, FLAG outages and record deletions, new forms, webinars.

OFLC publishes no feed. Its page lists announcements newest first, each opening with its day and a full stop,
"March 11, 2025. Reminder Notice: Deletion of Records from FLAG", followed by paragraphs and lists up to the next
one. That opening is what is read (wherever it sits: a heading, a bold run, a paragraph), not the page's classes;
the body is the text after it, up to the next announcement or section heading. OFLC writes its days both ways
("March 4th, 2025."), and both are read.

The page text is recorded (stored copies of the page from 2023 and 2025); its markup is not, so the source ships
disabled until `watcher parse dol_oflc` on a saved copy of the live page lists its announcements.
"""

from __future__ import annotations

import re

from bs4 import Tag

from ..models import Change, Fetched
from .base import MAX_SUMMARY, MAX_TITLE, Source, clean_text, each_item, html_soup, innermost, require_items
from .listing import DATE_TEXT, text_date

_LEAVES = ("p", "li", "h1", "h2", "h3", "h4", "h5", "h6", "div", "dt", "dd", "td", "blockquote")
_SECTION = ("h1", "h2", "h3")
_OPENING = re.compile(r"^\s*[.:\-–—]\s*")
BODY_BLOCKS = 40  # an announcement's paragraphs and list items; a page without headings never makes one endless


def _heading(block: Tag) -> tuple[str, str, str] | None:
    """(day text, title, rest of the block) when `block` opens an announcement."""
    bold = block.find(["strong", "b"])
    for text, rest in ((bold.get_text(" ", strip=True), _after(block, bold)) if bold else ("", ""),
                       (block.get_text(" ", strip=True), "")):
        text = clean_text(text, 2 * MAX_TITLE)
        day = DATE_TEXT.match(text)
        opening = _OPENING.match(text[day.end():]) if day else None
        if day and opening and text[day.end() + opening.end():]:
            return day.group(0), text[day.end() + opening.end():], rest
    return None


def _after(block: Tag, bold: Tag) -> str:
    """The block's text after its bold opening (a paragraph that starts "<b>May 30, 2023. Title</b> Body...")."""
    if block.get_text(" ", strip=True).startswith(bold.get_text(" ", strip=True)):
        whole = block.get_text(" ", strip=True)
        return whole[len(bold.get_text(" ", strip=True)):]
    return ""


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:80]


class OflcAnnouncementsSource(Source, kind="dol_oflc"):
    def parse(self, fetched: Fetched) -> list[Change]:
        soup = html_soup(fetched.body)
        announcements: list[tuple[tuple[str, str, str], list[str]]] = []
        # Block elements that hold no other, in reading order.
        for block in innermost(soup.find_all(_LEAVES)):
            heading = _heading(block)
            if heading is not None:
                announcements.append((heading, [heading[2]] if heading[2] else []))
            elif announcements and block.name in _SECTION:
                announcements.append(((), []))  # a new section of the page ends the announcement before it
            elif announcements and announcements[-1][0] and len(announcements[-1][1]) < BODY_BLOCKS:
                announcements[-1][1].append(block.get_text(" ", strip=True))
        found = [(heading, body) for heading, body in announcements if heading]
        changes = each_item(found, lambda item, _: self._announcement(*item, fetched.url), "announcements")
        return require_items(changes, fetched, "announcements")

    def _announcement(self, heading: tuple[str, str, str], body: list[str], page_url: str) -> Change | None:
        day_text, title, _ = heading
        published = text_date(day_text)
        if published is None:
            return None  # "February 30, 2025." opens no real announcement
        title = clean_text(title, MAX_TITLE)
        day = published.date().isoformat()
        return Change(source_id=self.config.id, item_key=f"{day}:{_slug(title)}", kind="oflc_announcement",
                      title=title, summary=clean_text(" ".join(body), MAX_SUMMARY), url=page_url,
                      published=published, facts={"announced_on": day})
