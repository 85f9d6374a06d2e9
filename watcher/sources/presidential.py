"""`presidential_actions`: the White House's presidential-actions feed (https://www.whitehouse.gov/presidential-
actions/feed/ and its executive-orders and proclamations sub-feeds).

A proclamation that restricts entry or puts a fee on a petition binds the day it is signed; the Federal Register
prints it days later. This feed is where it appears first: a WordPress RSS 2.0 feed, thirty posts a page, newest
first, each with a stable post id as its guid ("https://www.whitehouse.gov/?p=50532"), its kind as a category
("Executive Orders", "Proclamations", "Presidential Memoranda", "Nominations & Appointments") and, in the live
feed, the full text as content:encoded. It carries no order or proclamation number: those come with the Federal
Register's copy, which the pipeline recognises as the same change (decide.presidential_identity) and never
announces twice.

The feed's parsing and its defences (declarations, floods) are the `rss` kind's; what is added here is what a
lawyer reads: the kind of action, the day it was signed (the text's closing "THE WHITE HOUSE, September 18, 2026."
when present, else the day it was posted, Eastern time) and, from the text itself, what it suspends or restricts.
"""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import feedparser

from ..decide import PRESIDENTIAL_KINDS
from ..meaning import plain
from ..models import Change
from .base import MAX_SUMMARY, MAX_TITLE, clean_text
from .rss import RssSource, entry_key, entry_published, html_to_text

EASTERN = ZoneInfo("America/New_York")
# Categories that are presidential documents; "Nominations & Appointments" and the umbrella "Presidential Actions"
# are not, and are left out (a firm can list the ones it wants in `categories`).
DEFAULT_CATEGORIES = ("Executive Orders", "Proclamations", "Presidential Memoranda")
_SHOWN = {"executive order": "Executive Order", "proclamation": "Proclamation", "memorandum": "Memorandum"}
_MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
_SIGNED = re.compile(r"THE WHITE HOUSE,?\s+(" + _MONTHS + r")\s+(\d{1,2}),\s+(\d{4})")
_TRAILER = re.compile(r"\s*The post .{1,600}? appeared first on The White House\.?\s*$", re.DOTALL)
# The operative sentence of an entry restriction or a condition on a petition: what the text suspends, restricts
# or limits, in its own words ("The entry into the United States of ... is hereby suspended and limited").
_OPERATIVE = re.compile(r"\b(?:is|are|shall be) (?:hereby )?(?:fully |partially )?(?:suspended|restricted|limited)\b"
                        r"|\bhereby (?:suspend|restrict|limit)\b", re.IGNORECASE)
_SENTENCE = re.compile(r"(?<=[.])\s+(?=(?:Sec\.|Section|\([a-z]\)|[A-Z]))")
_SECTION_HEAD = re.compile(r"^(?:Sec\.|Section)\s*\d+\.\s*[A-Z][^.]{0,80}\.\s*")
RESTRICTS_LIMIT = 600


def operative_text(text: str) -> str:
    """The first sentence of the text that suspends, restricts or limits something, with the list that follows it
    in the same sentence ("(a) an H-1B or H-2B visa ...; (b) ..."), its section heading dropped; "" when none."""
    for sentence in _SENTENCE.split(plain(text)):
        if _OPERATIVE.search(sentence):
            sentence = _SECTION_HEAD.sub("", sentence.strip())
            if len(sentence) <= RESTRICTS_LIMIT:
                return sentence
            return sentence[: RESTRICTS_LIMIT - 1].rsplit(" ", 1)[0] + "…"
    return ""


def signed_on(text: str) -> str | None:
    """The date under the President's signature ("THE WHITE HOUSE, June 25, 2026."), when the text has one."""
    found = _SIGNED.search(text)
    if not found:
        return None
    month, day, year = found.groups()
    try:
        return datetime.strptime(f"{month} {day} {year}", "%B %d %Y").date().isoformat()
    except ValueError:
        return None


class PresidentialActionsSource(RssSource, kind="presidential_actions"):
    options = ("categories",)

    def _entry(self, entry: feedparser.FeedParserDict, duplicates: set[str], feed_title: str) -> Change | None:
        categories = [str(t.get("term") or "").strip() for t in entry.get("tags") or []]
        wanted = self.config.options.get("categories", DEFAULT_CATEGORIES)
        kind = next((PRESIDENTIAL_KINDS[c.lower()] for c in categories if c in wanted
                     and c.lower() in PRESIDENTIAL_KINDS), None)
        if kind is None:
            return None  # a nomination, or a category the firm did not ask for
        body = _TRAILER.sub("", html_to_text(next((c.get("value", "") for c in entry.get("content") or []), "")))
        excerpt = _TRAILER.sub("", html_to_text(entry.get("summary", "")))
        posted = entry_published(entry)
        facts = {"presidential_document_type": _SHOWN[kind], "issuer": "The White House",
                 "posted_on": posted.astimezone(EASTERN).date().isoformat() if posted else None,
                 "signing_date": signed_on(body), "restricts": operative_text(body or excerpt)}
        facts = {k: v for k, v in facts.items() if v}
        return Change(
            source_id=self.config.id, item_key=entry_key(entry, duplicates), kind="presidential_document",
            title=clean_text(entry.get("title"), MAX_TITLE), summary=clean_text(body or excerpt, MAX_SUMMARY),
            url=(entry.get("link") or "").strip(), published=posted, facts=facts)
