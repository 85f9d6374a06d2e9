"""The Source interface and the helpers every parser shares.

A source has two halves: `fetch` (I/O, through the one HttpClient) and `parse` (pure: a Fetched in,
Changes out). Kinds are found through the `watcher.sources` entry point group, the same way a third-party
package would add one; `load_kinds` is called once by the CLI, never at import and never in tests.
"""

from __future__ import annotations

import io
import logging
import re
import time
import unicodedata
from abc import ABC, abstractmethod
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import replace
from datetime import datetime
from importlib.metadata import entry_points
from typing import Callable, ClassVar, Iterable, Iterator, Mapping, Sequence, TypeVar
from urllib.parse import urlsplit

from bs4 import BeautifulSoup, Tag
from lxml import etree

from ..config import SourceConfig
from ..errors import ConfigError, ParseError
from ..http import HttpClient
from ..models import Change, Fetched, Validators
from ..tomlfile import did_you_mean

MAX_TITLE = 500
MAX_SUMMARY = 4000
MAX_ITEMS = 5000
# Seconds of parse work per document. The real pages parse in well under a second; a page built to be slow (a
# thousand repeated chart headings) is refused instead of holding the single worker for minutes.
PARSE_BUDGET = 20.0
# What a malformed item raises besides ParseError: an impossible date (2026-02-30), year 0, a missing key. The
# item is skipped, its siblings are kept.
ITEM_ERRORS = (ParseError, ValueError, OverflowError, KeyError, IndexError, TypeError)
log = logging.getLogger(__name__)
T = TypeVar("T")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
_SPACE = re.compile(r"\s+")


# Real agency pages nest at most about 20 elements deep. BeautifulSoup's tree building is quadratic in depth (a 1 MB
# page of 20,000 nested <div>s with a link in each takes 35 s before a parser's first line runs), so depth is measured
# first by libxml2 in C, which itself stops counting past 256.
MAX_DEPTH = 256


def html_soup(body: bytes | str) -> BeautifulSoup:
    """The page parsed for a kind's parser, once libxml2 has checked that it is not nested absurdly deep."""
    data = body.encode("utf-8", "replace") if isinstance(body, str) else body
    depth = deepest = 0
    try:
        for event, element in etree.iterparse(io.BytesIO(data), events=("start", "end"), html=True, recover=True):
            depth += 1 if event == "start" else -1
            deepest = max(deepest, depth)
            if event == "end":
                element.clear()
            if deepest > MAX_DEPTH:
                raise ParseError(f"page nested more than {MAX_DEPTH} elements deep; refused")
    except etree.LxmlError:
        pass  # what libxml2 cannot read at all, BeautifulSoup reads leniently or the parser finds nothing
    return BeautifulSoup(body, "lxml")


def innermost(elements: Sequence[Tag]) -> list[Tag]:
    """Those of `elements` (in document order) that hold none of the others: a <div> around a <p> of the same list
    holds the same text. Each element marks its ancestors once, and a walk stops at one already marked, so a page
    nested deep costs elements, not elements x depth (a descendant search per element would)."""
    holders: set[int] = set()
    for element in elements:
        spend()
        for parent in element.parents:
            if id(parent) in holders:
                break
            holders.add(id(parent))
    return [element for element in elements if id(element) not in holders]


class Source(ABC):
    kind: ClassVar[str] = ""
    # Which option keys a kind accepts beyond the common ones; anything else is a config error.
    options: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, kind: str = "", **kwargs):
        super().__init_subclass__(**kwargs)
        if kind:
            cls.kind = kind

    def __init__(self, config: SourceConfig):
        for key in config.options:
            if key not in self.options:
                raise ConfigError(f"sources.toml: source '{config.id}'.{key}: unknown key for kind '{self.kind}'"
                                  + did_you_mean(key, self.options))
        self.config = config

    def fetch(self, http: HttpClient, validators: Validators | None) -> Fetched:
        """One conditional GET of the configured URL (its validators are what the store keeps)."""
        return http.get(self.config.url, validators)

    def follow(self, http: HttpClient, fetched: Fetched) -> list[Fetched]:
        """The documents to parse, given the fetched one: itself, or the pages it links to or continues on."""
        return [fetched]

    def relate(self, changes: list[Change], previous: Callable[[str], Mapping | None]) -> list[Change]:
        """Annotate changes against earlier stored ones (`previous(item_key)` gives the facts of the stored
        item just before it); the Visa Bulletin computes cutoff movement here."""
        return changes

    @abstractmethod
    def parse(self, fetched: Fetched) -> list[Change]:
        """Pure: bytes in, changes out. Raise ParseError; never return an empty list for a non-empty page."""

    def collect(self, documents: Sequence[Fetched], *, budget: float = PARSE_BUDGET,
                clock: Callable[[], float] = time.monotonic) -> list[Change]:
        """Every kind's changes from the documents of one cycle: each parse within its time budget and classified,
        only http(s) links, and one change per item key (a listing that repeats a row, or Federal Register pages
        that shift between requests, would otherwise break the cycle's unique item keys)."""
        changes: list[Change] = []
        for document in documents:
            with parse_budget(budget, clock):
                try:
                    changes += self.parse(document)
                except ITEM_ERRORS as exc:
                    if isinstance(exc, ParseError):
                        raise
                    log.exception("source %s: parser error", self.config.id)
                    raise ParseError(f"{document.url}: unreadable page ({type(exc).__name__}: {str(exc)[:160]})"
                                     ) from None
        return unique_items([replace(c, url=safe_link(c.url)) for c in changes], self.config.id)


def load_kinds() -> dict[str, type[Source]]:
    kinds: dict[str, type[Source]] = {}
    for entry in entry_points(group="watcher.sources"):
        cls = entry.load()
        if not (isinstance(cls, type) and issubclass(cls, Source) and cls.kind):
            raise ConfigError(f"entry point watcher.sources:{entry.name} is not a Source with a kind")
        kinds[cls.kind] = cls
    return kinds


def build(config: SourceConfig, kinds: Mapping[str, type[Source]]) -> Source:
    try:
        cls = kinds[config.kind]
    except KeyError:
        raise ConfigError(f"sources.toml: source '{config.id}'.kind: unknown kind '{config.kind}' "
                          f"(known: {', '.join(sorted(kinds))})") from None
    return cls(config)


def clean_text(text: str | None, limit: int) -> str:
    """NFC, no control or bidi-override characters, collapsed whitespace, cut at `limit` characters."""
    text = unicodedata.normalize("NFC", text or "")
    text = _SPACE.sub(" ", _CONTROL.sub("", text)).strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def iso_time(tag) -> datetime | None:
    """A <time datetime="..."> attribute as a datetime; an odd or missing one never costs the item."""
    if tag is None:
        return None
    try:
        return datetime.fromisoformat(tag["datetime"].replace("Z", "+00:00"))
    except (KeyError, ValueError):
        return None


def safe_link(url: str | None) -> str:
    """An http(s) URL with a host, or nothing: `javascript:`, `data:` and `file:` links never leave a parser."""
    url = (url or "").strip()
    try:
        parts = urlsplit(url)
    except ValueError:  # an unbalanced IPv6 bracket
        return ""
    return url if parts.scheme.lower() in ("http", "https") and parts.hostname else ""


def unique_items(changes: list[Change], source_id: str) -> list[Change]:
    """The first change of each item key; a repeat is logged, never fatal."""
    seen: dict[str, Change] = {}
    for change in changes:
        seen.setdefault(change.item_key, change)
    if len(seen) < len(changes):
        log.warning("source %s: %d repeated item keys in one cycle collapsed", source_id, len(changes) - len(seen))
    return list(seen.values())


_BUDGET: ContextVar[tuple[float, float, Callable[[], float]] | None] = ContextVar("parse_budget", default=None)


@contextmanager
def parse_budget(seconds: float, clock: Callable[[], float] = time.monotonic) -> Iterator[None]:
    token = _BUDGET.set((clock() + seconds, seconds, clock))
    try:
        yield
    finally:
        _BUDGET.reset(token)


def spend() -> None:
    """Called by parsers inside their loops: past the budget, the parse stops with a ParseError."""
    budget = _BUDGET.get()
    if budget is not None and budget[2]() > budget[0]:
        raise ParseError(f"parsing took longer than the {budget[1]:g}s budget; page refused")


def each_item(items: Iterable[T], build: Callable[[T, int], Change | None], what: str) -> list[Change]:
    """`build` per item, within the parse budget. A malformed item is skipped and its siblings kept; when no item
    could be read, the first item's error is the page's."""
    changes: list[Change] = []
    errors: list[str] = []
    for index, item in enumerate(items):
        spend()
        try:
            change = build(item, index)
        except ITEM_ERRORS as exc:
            errors.append(str(exc) if isinstance(exc, ParseError) else f"{what} [{index}]: {type(exc).__name__}: {exc}")
            continue
        if change is not None:
            changes.append(change)
    if errors and not changes:
        raise ParseError(errors[0][:300])
    if errors:
        log.warning("%d of %d %s skipped as unreadable, first: %s", len(errors), len(errors) + len(changes), what,
                    errors[0][:300])
    return changes


def require_items(changes: list[Change], fetched: Fetched, what: str) -> list[Change]:
    """A non-empty page that yields nothing is a broken parser, never 'no news' (invariant 5)."""
    if not changes:
        raise ParseError(f"{fetched.url}: no {what} found in a {len(fetched.body)}-byte response", broken=True)
    if len(changes) > MAX_ITEMS:
        raise ParseError(f"{fetched.url}: {len(changes)} {what}, more than the {MAX_ITEMS} sanity limit")
    return changes
