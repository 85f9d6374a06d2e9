"""`eoir_court_status`: EOIR's operational status page (https://www.justice.gov/eoir-operational-status): court
closures, postponed hearing groups, resumed dockets, remote-hearing instructions.

The page is prose that EOIR rewrites in place, not a list of dated entries. Each paragraph of it is an item, keyed
by its words (case, spacing and typography folded), so the first fetch stores the standing text as the silent
baseline and every later fetch announces only the paragraphs EOIR added or reworded: "On January 10, 2022, ... EOIR
postponed certain hearings." A paragraph that disappears announces nothing. Only sentences count: headings, link
labels and the fragments of a table ("Proceeding as Scheduled") are layout, not notices.

The page text is recorded (stored copies from January and February 2022); its markup is not, so the source ships
disabled until `watcher parse eoir_court_status` on a saved copy of the live page lists its notices.
"""

from __future__ import annotations

import hashlib
import re

from bs4 import Tag

from ..meaning import plain
from ..models import Change, Fetched
from .base import MAX_SUMMARY, MAX_TITLE, Source, clean_text, each_item, html_soup, innermost, require_items

_PARAGRAPHS = ("p", "li", "td", "dd", "blockquote")
_SKIP = ("nav", "header", "footer", "script", "style", "noscript", "form")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'(“])")
MIN_WORDS = 12  # "Proceeding as Scheduled", "Public Health Information": labels, not notices


def _sentence(text: str) -> str:
    first = _SENTENCE_END.split(text, 1)[0]
    return first if len(first) <= 200 else first[:199].rsplit(" ", 1)[0] + "…"


class EoirCourtStatusSource(Source, kind="eoir_court_status"):
    def parse(self, fetched: Fetched) -> list[Change]:
        soup = html_soup(fetched.body)
        for noise in soup.find_all(_SKIP):
            noise.decompose()
        main = soup.find("main") or soup.find("article") or soup.body or soup
        # A list item or cell holding paragraphs is not read itself: its paragraphs are.
        changes = each_item(innermost(main.find_all(_PARAGRAPHS)), lambda block, _: self._notice(block, fetched.url),
                            "notices")
        return require_items(changes, fetched, "notices")

    def _notice(self, block: Tag, page_url: str) -> Change | None:
        text = clean_text(block.get_text(" ", strip=True), MAX_SUMMARY)
        if len(text.split()) < MIN_WORDS or not re.search(r"[.!?]", text):
            return None
        words = plain(text).lower()
        return Change(source_id=self.config.id, item_key="notice:" + hashlib.sha256(words.encode()).hexdigest()[:20],
                      kind="court_status", title=clean_text(_sentence(text), MAX_TITLE), summary=text, url=page_url,
                      published=None, facts={})
