"""The Source interface and the helpers every parser shares.

A source has two halves: `fetch` (I/O, through the one HttpClient) and `parse` (pure: a Fetched in,
Changes out). Kinds are found through the `watcher.sources` entry point group, the same way a third-party
package would add one; `load_kinds` is called once by the CLI, never at import and never in tests.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from abc import ABC, abstractmethod
from importlib.metadata import entry_points
from typing import Callable, ClassVar, Mapping

from ..config import SourceConfig
from ..errors import ConfigError, ParseError
from ..http import HttpClient
from ..models import Change, Fetched, Validators

MAX_TITLE = 500
MAX_SUMMARY = 4000
MAX_ITEMS = 5000
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
_SPACE = re.compile(r"\s+")


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
                raise ConfigError(f"sources.toml: source '{config.id}'.{key}: unknown key for kind '{self.kind}'")
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


def require_items(changes: list[Change], fetched: Fetched, what: str) -> list[Change]:
    """A non-empty page that yields nothing is a broken parser, never 'no news' (invariant 5)."""
    if not changes:
        raise ParseError(f"{fetched.url}: no {what} found in a {len(fetched.body)}-byte response", broken=True)
    if len(changes) > MAX_ITEMS:
        raise ParseError(f"{fetched.url}: {len(changes)} {what}, more than the {MAX_ITEMS} sanity limit")
    return changes
