"""`rss`: RSS and Atom feeds (the USCIS newsroom and forms-updates feeds).

feedparser only ever receives bytes (given a string it would open URLs and local files itself), and only
after the declaration check: feedparser expands internal entities, so a feed declaring a DTD subset or an
entity ANYWHERE is refused before parsing (RELIABILITY B1-B3). The check reads the body as feedparser will, through
its own conversion to UTF-8: a check of the raw bytes, or of the prologue only, misses a declaration hidden
behind a comment, a processing instruction, UTF-16 or a declared UTF-7. A DOCTYPE without a subset stays allowed
(RSS 0.91 has one): it can declare nothing, and feedparser never fetches an external DTD.
"""

from __future__ import annotations

import calendar
import hashlib
import re
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

import feedparser

from feedparser.encodings import convert_to_utf8

from ..errors import ParseError
from ..models import Change, Fetched
from .base import MAX_ITEMS, MAX_SUMMARY, MAX_TITLE, Source, clean_text, each_item, html_soup, require_items

_DTD_SUBSET = re.compile(rb"<!DOCTYPE[^>\[]*\[", re.IGNORECASE)
_ENTITY = re.compile(rb"<!ENTITY", re.IGNORECASE)
_ENTRY = re.compile(rb"<(?:[A-Za-z0-9_]+:)?(?:item|entry)[\s>/]", re.IGNORECASE)
# feedparser flags these but still parses correctly; anything else in `bozo` is a broken feed.
_SURVIVABLE = (feedparser.CharacterEncodingOverride, feedparser.NonXMLContentType)


def refuse_declarations(body: bytes, headers: dict[str, str]) -> None:
    """Refuse a DTD subset or an entity declaration anywhere in the body feedparser would parse."""
    decoded = convert_to_utf8(dict(headers), body, feedparser.FeedParserDict(bozo=False))
    # Also the raw bytes without NULs: UTF-16 and UTF-32 spell ASCII markup with NULs between the letters, and
    # feedparser's conversion does not always recognise them (expat may, through the BOM).
    for text in (decoded, body.replace(b"\0", b"")):
        if _DTD_SUBSET.search(text) or _ENTITY.search(text):
            raise ParseError("feed declares a DTD subset or entities; refused (entity expansion risk)")


def refuse_floods(fetched: Fetched) -> None:
    """feedparser cannot be interrupted and reads 100,000 entries in 15-30 s; count them before it starts."""
    entries = 0
    for _ in _ENTRY.finditer(fetched.body):
        entries += 1
        if entries > MAX_ITEMS:
            raise ParseError(f"{fetched.url}: more than {MAX_ITEMS} feed entries; refused before parsing")


def entry_key(entry: feedparser.FeedParserDict, duplicate_ids: set[str]) -> str:
    """guid when present and unique in this fetch; else the link; else a hash of link|published|title."""
    guid = (entry.get("id") or "").strip()
    if guid and guid not in duplicate_ids:
        return guid
    link = (entry.get("link") or "").strip()
    if link:
        return link
    material = "|".join([link, entry.get("published", ""), entry.get("title", "")])
    return "sha256:" + hashlib.sha256(material.encode()).hexdigest()


def entry_published(entry: feedparser.FeedParserDict) -> datetime | None:
    """An odd date (year 0, 30 February, out of range) gives None; it never costs the item."""
    parsed = entry.get("published_parsed") or entry.get("updated_parsed")
    try:
        if parsed:
            return datetime.fromtimestamp(calendar.timegm(parsed), tz=timezone.utc)
        raw = entry.get("published") or entry.get("updated")
        # email.utils reads two-digit years (`22 Jul 24`) as 2024
        return parsedate_to_datetime(raw).astimezone(timezone.utc) if raw else None
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def html_to_text(fragment: str) -> str:
    """Visible text only: script and style bodies are code, not news."""
    if not fragment:
        return ""
    soup = html_soup(fragment)
    for element in soup(["script", "style"]):
        element.decompose()
    return soup.get_text(" ", strip=True)


class RssSource(Source, kind="rss"):
    options = ("category",)

    def parse(self, fetched: Fetched) -> list[Change]:
        headers = {"content-type": fetched.content_type}
        refuse_declarations(fetched.body, headers)
        refuse_floods(fetched)
        feed = feedparser.parse(fetched.body, response_headers=headers)
        if feed.bozo and not isinstance(feed.bozo_exception, _SURVIVABLE):
            raise ParseError(f"{fetched.url}: malformed feed: {feed.bozo_exception}")
        ids = [(e.get("id") or "").strip() for e in feed.entries]
        duplicates = {i for i in ids if i and ids.count(i) > 1}
        feed_title = clean_text(feed.feed.get("title"), MAX_TITLE)
        changes = each_item(feed.entries, lambda entry, _: self._entry(entry, duplicates, feed_title), "feed entries")
        # A feed with entries of which none is wanted (a kind that leaves some out) is a quiet page, not a broken
        # parser; a feed with no entry at all is broken. A key repeated in the feed: Source.collect.
        return changes if feed.entries else require_items(changes, fetched, "feed entries")

    def _entry(self, entry: feedparser.FeedParserDict, duplicates: set[str], feed_title: str) -> Change | None:
        return Change(
            source_id=self.config.id, item_key=entry_key(entry, duplicates),
            kind=self.config.options.get("category", "news"),
            title=clean_text(entry.get("title"), MAX_TITLE),
            summary=clean_text(html_to_text(entry.get("summary", "")), MAX_SUMMARY),
            url=(entry.get("link") or "").strip(),
            published=entry_published(entry),
            facts={"feed": feed_title, **({"category": entry.category} if entry.get("category") else {})},
        )
