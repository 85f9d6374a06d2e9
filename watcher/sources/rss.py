"""`rss`: RSS and Atom feeds (the USCIS newsroom and forms-updates feeds).

feedparser only ever receives bytes (given a string it would open URLs and local files itself), and only
after the prologue check: feedparser expands internal entities, so a feed declaring a DTD subset or an
entity is refused before parsing (RELIABILITY B1-B3).
"""

from __future__ import annotations

import calendar
import hashlib
import re
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

import feedparser
from bs4 import BeautifulSoup

from ..errors import ParseError
from ..models import Change, Fetched
from .base import MAX_SUMMARY, MAX_TITLE, Source, clean_text, require_items

_DTD_SUBSET = re.compile(rb"<!DOCTYPE[^>\[]*\[", re.IGNORECASE)
_ENTITY = re.compile(rb"<!ENTITY", re.IGNORECASE)
_ROOT = re.compile(rb"<[A-Za-z]")
# feedparser flags these but still parses correctly; anything else in `bozo` is a broken feed.
_SURVIVABLE = (feedparser.CharacterEncodingOverride, feedparser.NonXMLContentType)


def check_prologue(body: bytes) -> None:
    """Refuse DTD subsets and entity declarations anywhere before the root element."""
    if body.startswith((b"\xff\xfe", b"\xfe\xff")):
        body = body.decode("utf-16", errors="replace").encode("utf-8")
    root = _ROOT.search(body)
    prologue = body[: root.start()] if root else body
    if _DTD_SUBSET.search(prologue) or _ENTITY.search(prologue):
        raise ParseError("feed declares a DTD subset or entities; refused (entity expansion risk)")


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
    parsed = entry.get("published_parsed") or entry.get("updated_parsed")
    if parsed:
        return datetime.fromtimestamp(calendar.timegm(parsed), tz=timezone.utc)
    raw = entry.get("published") or entry.get("updated")
    try:  # email.utils reads two-digit years (`22 Jul 24`) as 2024
        return parsedate_to_datetime(raw).astimezone(timezone.utc) if raw else None
    except (TypeError, ValueError):
        return None


def html_to_text(fragment: str) -> str:
    """Visible text only: script and style bodies are code, not news."""
    if not fragment:
        return ""
    soup = BeautifulSoup(fragment, "lxml")
    for element in soup(["script", "style"]):
        element.decompose()
    return soup.get_text(" ", strip=True)


class RssSource(Source, kind="rss"):
    options = ("category",)

    def parse(self, fetched: Fetched) -> list[Change]:
        check_prologue(fetched.body)
        feed = feedparser.parse(fetched.body, response_headers={"content-type": fetched.content_type})
        if feed.bozo and not isinstance(feed.bozo_exception, _SURVIVABLE):
            raise ParseError(f"{fetched.url}: malformed feed: {feed.bozo_exception}")
        ids = [(e.get("id") or "").strip() for e in feed.entries]
        duplicates = {i for i in ids if i and ids.count(i) > 1}
        feed_title = clean_text(feed.feed.get("title"), MAX_TITLE)
        changes = []
        seen: set[str] = set()
        for entry in feed.entries:
            key = entry_key(entry, duplicates)
            if key in seen:
                continue  # same item twice in one feed: keep the first
            seen.add(key)
            changes.append(Change(
                source_id=self.config.id, item_key=key, kind=self.config.options.get("category", "news"),
                title=clean_text(entry.get("title"), MAX_TITLE),
                summary=clean_text(html_to_text(entry.get("summary", "")), MAX_SUMMARY),
                url=(entry.get("link") or "").strip(),
                published=entry_published(entry),
                facts={"feed": feed_title, **({"category": entry.category} if entry.get("category") else {})},
            ))
        return require_items(changes, fetched, "feed entries")
