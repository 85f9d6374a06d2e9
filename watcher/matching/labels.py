"""Labeled items: the bundled file's records and how they are read. Light on purpose (no numpy, no scikit-learn):
the service's main process computes the model key from them without loading the matcher's libraries."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

from ..errors import InputError

DEFAULT_LABELS = Path(__file__).resolve().parents[1] / "data" / "labeled.jsonl"


@dataclass(frozen=True)
class LabeledItem:
    id: str
    title: str
    summary: str
    case_types: tuple[str, ...] = ()
    split: str = ""
    source: str = ""
    date: str = ""  # as the source wrote it: ISO 8601 or RFC 2822 (shifts.item_date reads both)

    @property
    def text(self) -> str:
        return item_text(self.title, self.summary)


def load_labeled(path: str | Path, codes: Iterable[str] | None = None) -> list[LabeledItem]:
    """Read a labeled (or unlabeled) JSON-lines file; a bad line is an InputError naming file and line."""
    known = set(codes) if codes is not None else None
    items = []
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror}") from None
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError as exc:
            raise InputError(f"{path}:{number}: not valid JSON: {exc}") from None
        if not isinstance(row, dict) or not isinstance(row.get("id"), (str, int)) or not isinstance(row.get("title"), str):
            raise InputError(f"{path}:{number}: needs an object with 'id' and 'title' strings")
        case_types = row.get("case_types", [])
        if not isinstance(case_types, list) or not all(isinstance(c, str) for c in case_types):
            raise InputError(f"{path}:{number}: case_types must be a list of codes")
        if known is not None and set(case_types) - known:
            raise InputError(f"{path}:{number}: unknown case types {sorted(set(case_types) - known)}")
        summary = row.get("summary") or ""
        if not isinstance(summary, str):
            raise InputError(f"{path}:{number}: summary must be a string")
        items.append(LabeledItem(str(row["id"]), row["title"], summary, tuple(case_types), str(row.get("split", "")),
                                 str(row.get("source", "")), str(row.get("date") or "")))
    return items


def held_out(labeled: Sequence[LabeledItem], evaluated: Sequence[LabeledItem]) -> list[LabeledItem]:
    """The labeled items a model may learn from when it is scored on `evaluated`: all but those items, by id or
    by text (a file labeled elsewhere may carry a bundled item under its own id).

    On the bundled file's validation split that is the training split; on a set labeled apart from the project
    it is every bundled item, which is what production (`classify`, the service) learns from. Scored on a model
    of the training split alone, a new set would understate the shipped matcher: grouped cross-validation on
    the training split falls from micro-F1 0.899 / macro 0.889 to 0.858 / 0.839 with 27% fewer examples
    (scripts/crossval.py --fraction 0.73).
    """
    ids = {i.id for i in evaluated}
    texts = {i.text for i in evaluated}
    return [i for i in labeled if i.id not in ids and i.text not in texts]


def item_text(title: str, summary: str) -> str:
    return f"{title}. {summary}".strip()
