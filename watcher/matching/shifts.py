"""Splits that resemble what the firm will receive, not a random draw from the labels' own distribution.

A random (or fixed) split flatters a matcher: its test items share sources, series and years with its training
items. What the service meets is a source it has few labels from, and next year's items. Two splits measure that:

- leave one source out: for each source kind, train on every other kind and score on that one; the predictions
  of all kinds are pooled into one report (each item is scored once, by a model that never saw its kind);
- time: train on items published before 2022, score on those from 2022 on (items with no date are left out).

Pure: labeled items in, splits out. Training and scoring are the caller's (cli_matching.evaluate).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from email.utils import parsedate_to_datetime
from typing import Sequence

from .labels import LabeledItem

TIME_CUTOFF = date(2022, 1, 1)
FEEDBACK = "feedback"  # attorneys' corrections are no source kind of their own


@dataclass(frozen=True)
class Fold:
    """One model's training items and the items it scores."""

    train: tuple[LabeledItem, ...]
    test: tuple[LabeledItem, ...]


@dataclass(frozen=True)
class Split:
    """A named way of holding items out: one or more folds whose test items together are scored as one set."""

    name: str
    folds: tuple[Fold, ...]

    @property
    def tested(self) -> tuple[LabeledItem, ...]:
        return tuple(item for fold in self.folds for item in fold.test)


def item_date(item: LabeledItem) -> date | None:
    """The item's publication date from ISO 8601 ("2023-04-05") or RFC 2822 ("Tue, 28 Jun 2016 14:40:19 -0400"),
    as feeds and the Federal Register write it; None when there is none or it cannot be read."""
    text = item.date.strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        pass
    try:
        return parsedate_to_datetime(text).date()
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def validation_split(items: Sequence[LabeledItem]) -> Split | None:
    train = tuple(i for i in items if i.split == "train")
    test = tuple(i for i in items if i.split == "validation")
    return Split("validation split", (Fold(train, test),)) if train and test else None


def source_split(items: Sequence[LabeledItem]) -> Split | None:
    sources = sorted({i.source for i in items if i.source and i.source != FEEDBACK})
    folds = tuple(Fold(tuple(i for i in items if i.source != source),
                       tuple(i for i in items if i.source == source)) for source in sources)
    return Split("leave one source out", folds) if len(folds) > 1 else None


def time_split(items: Sequence[LabeledItem], cutoff: date = TIME_CUTOFF) -> Split | None:
    dated = [(i, item_date(i)) for i in items]
    train = tuple(i for i, d in dated if d is not None and d < cutoff)
    test = tuple(i for i, d in dated if d is not None and d >= cutoff)
    return Split(f"time (before {cutoff.year} -> {cutoff.year} on)", (Fold(train, test),)) if train and test else None


def shifted_splits(items: Sequence[LabeledItem]) -> list[Split]:
    """The splits `watcher eval` reports, those the items allow, in the order it prints them."""
    return [s for s in (validation_split(items), source_split(items), time_split(items)) if s is not None]
