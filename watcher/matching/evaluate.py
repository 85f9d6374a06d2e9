"""Precision, recall and F1 per case type, micro and macro, for the matcher beside two baselines:
trigger words (the case type's code, name and form numbers, as a generic change monitor would match) and
zero-shot similarity of the item to the case-type description.

Each method's micro and macro F1 also get a 95% bootstrap interval over the evaluated items: with a few hundred
items and several case types holding one or two positives, one item moves macro-F1 by several points, and a
reader comparing two figures needs to see that.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ..config import CaseType
from .citations import phrase
from .encoder import Encoder
from .labels import LabeledItem
from .learned import best_threshold, embedding_text


@dataclass(frozen=True)
class Counts:
    tp: int
    fp: int
    fn: int

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        return 2 * self.tp / (2 * self.tp + self.fp + self.fn) if self.tp else 0.0


@dataclass(frozen=True)
class Report:
    name: str
    per_code: dict[str, Counts]
    present: tuple[str, ...]  # codes with at least one gold positive: the ones macro-F1 averages

    @property
    def micro(self) -> Counts:
        return Counts(*(sum(getattr(c, f) for c in self.per_code.values()) for f in ("tp", "fp", "fn")))

    @property
    def macro_f1(self) -> float:
        return float(np.mean([self.per_code[c].f1 for c in self.present])) if self.present else 0.0


def score(name: str, gold: Sequence[set[str]], predicted: Sequence[set[str]], codes: Sequence[str]) -> Report:
    per_code = {}
    for code in codes:
        tp = sum(1 for g, p in zip(gold, predicted) if code in g and code in p)
        fp = sum(1 for g, p in zip(gold, predicted) if code not in g and code in p)
        fn = sum(1 for g, p in zip(gold, predicted) if code in g and code not in p)
        per_code[code] = Counts(tp, fp, fn)
    present = tuple(c for c in codes if any(c in g for g in gold))
    return Report(name, per_code, present)


@dataclass(frozen=True)
class Interval:
    low: float
    high: float


def bootstrap(gold: Sequence[set[str]], predicted: Sequence[set[str]], codes: Sequence[str],
              rounds: int = 1000, seed: int = 0) -> tuple[Interval, Interval]:
    """95% percentile intervals of micro-F1 and macro-F1, resampling the evaluated items with replacement.

    Macro-F1 of a resample averages the case types that have a gold positive in it, as `Report.macro_f1` does.
    """
    g = np.array([[c in row for c in codes] for row in gold], dtype=bool).reshape(len(gold), len(codes))
    p = np.array([[c in row for c in codes] for row in predicted], dtype=bool).reshape(len(gold), len(codes))
    counts = np.random.default_rng(seed).multinomial(len(gold), np.full(len(gold), 1 / len(gold)), size=rounds)
    tp, fp, fn = counts @ (g & p), counts @ (~g & p), counts @ (g & ~p)  # rounds x codes
    micro = _f1(tp.sum(1), fp.sum(1), fn.sum(1))
    present = (tp + fn) > 0
    macro = np.where(present, _f1(tp, fp, fn), 0).sum(1) / np.maximum(present.sum(1), 1)
    return _interval(micro), _interval(macro)


def _f1(tp: np.ndarray, fp: np.ndarray, fn: np.ndarray) -> np.ndarray:
    return np.divide(2 * tp, 2 * tp + fp + fn, out=np.zeros(np.shape(tp)), where=tp > 0)


def _interval(values: np.ndarray) -> Interval:
    low, high = np.percentile(values, [2.5, 97.5])
    return Interval(round(float(low), 2), round(float(high), 2))


class TriggerWords:
    """What a generic change monitor does: match the code, the case-type name or a form number anywhere."""

    def __init__(self, case_types: Sequence[CaseType]):
        self.rules = [(c.code, [phrase(t) for t in {c.code, c.name, *c.forms}]) for c in case_types]

    def predict(self, items: Sequence[LabeledItem]) -> list[set[str]]:
        return [{code for code, patterns in self.rules if any(p.search(f"{i.title}\n{i.summary}") for p in patterns)}
                for i in items]


class ZeroShot:
    """Cosine similarity to "name: description"; one global threshold, fitted on the training items."""

    def __init__(self, case_types: Sequence[CaseType], encoder: Encoder):
        self.codes = [c.code for c in case_types]
        self.encoder = encoder
        self.descriptions = encoder.encode([f"{c.name}: {c.description}" for c in case_types])
        self.threshold = 0.5

    def _similarity(self, items: Sequence[LabeledItem]) -> np.ndarray:
        return self.encoder.encode([embedding_text(i.title, i.summary) for i in items]) @ self.descriptions.T

    def fit(self, items: Sequence[LabeledItem]) -> "ZeroShot":
        sims = self._similarity(items).ravel()
        gold = np.array([[c in i.case_types for c in self.codes] for i in items]).ravel().astype(int)
        self.threshold = best_threshold(sims, gold)
        return self

    def predict(self, items: Sequence[LabeledItem]) -> list[set[str]]:
        sims = self._similarity(items)
        return [{c for c, s in zip(self.codes, row) if s >= self.threshold} for row in sims]


def render_table(reports: Sequence[Report], codes: Sequence[str], support: dict[str, int],
                 intervals: Sequence[tuple[Interval, Interval]] = ()) -> str:
    """One row per case type: P/R/F1 of every method side by side, then micro and macro rows (and, given the
    intervals, a row under each with its 95% bootstrap interval)."""
    head = f"{'case type':<18} {'n':>4}  " + "  ".join(f"{r.name[:18]:^20}" for r in reports)
    sub = f"{'':<18} {'':>4}  " + "  ".join(f"{'P':>6}{'R':>7}{'F1':>7}" for _ in reports)
    lines = [head, sub, "-" * len(sub)]
    for code in codes:
        if not support.get(code) and not any(r.per_code[code].fp for r in reports):
            continue
        cells = "  ".join(f"{r.per_code[code].precision:6.2f}{r.per_code[code].recall:7.2f}{r.per_code[code].f1:7.2f}"
                          for r in reports)
        lines.append(f"{code:<18} {support.get(code, 0):>4}  {cells}")
    lines.append("-" * len(sub))
    # Micro and macro F1 get a third decimal: the acceptance bars are 0.85 and 0.80, and 0.847 is not 0.85.
    micro = "  ".join(_micro(r) for r in reports)
    lines.append(f"{'micro':<18} {sum(support.values()):>4}  {micro}")
    lines += _interval_row([micro for micro, _ in intervals])
    lines.append(f"{'macro F1':<18} {len(reports[0].present):>4}  " +
                 "  ".join(f"{'':6}{'':7}{r.macro_f1:7.3f}" for r in reports))
    lines += _interval_row([macro for _, macro in intervals])
    return "\n".join(lines)


def _interval_row(intervals: Sequence[Interval]) -> list[str]:
    cells = "  ".join(f"{f'{i.low:.2f}-{i.high:.2f}':>20}" for i in intervals)
    return [f"{'  95% interval':<18} {'':>4}  {cells}"] if intervals else []


@dataclass(frozen=True)
class ShiftReport:
    """One shifted split: the matcher and trigger words on its pooled test items, and (leave one source out) the
    matcher per held-out source."""

    split: str
    items: int
    matcher: Report
    trigger: Report
    by_source: dict[str, Report]


def render_shifts(reports: Sequence[ShiftReport]) -> str:
    """One row per split: micro P/R/F1 of the matcher and of trigger words; under leave-one-source-out, a row per
    source with the matcher's figures (recall first: a missed alert is the costly error)."""
    head = f"{'split':<34} {'items':>5} {'gold':>5}  {'matcher':^27}  {'trigger words':^20}"
    sub = f"{'':<34} {'':>5} {'':>5}  {'P':>6}{'R':>7}{'F1':>7}{'spare':>7}  {'P':>6}{'R':>7}{'F1':>7}"
    lines = [head, sub, "-" * len(sub)]
    for r in reports:
        lines.append(f"{r.split[:34]:<34} {r.items:>5} {r.matcher.micro.tp + r.matcher.micro.fn:>5}  "
                     f"{_micro(r.matcher)}{r.matcher.micro.fp:>7}  {_micro(r.trigger)}")
        for source, m in r.by_source.items():
            lines.append(f"{'  ' + source[:32]:<34} {'':>5} {m.micro.tp + m.micro.fn:>5}  {_micro(m)}{m.micro.fp:>7}")
    lines.append("spare: codes given that the labels do not hold (a source with no gold codes shows only these)")
    return "\n".join(lines)


def _micro(report: Report) -> str:
    m = report.micro
    return f"{m.precision:6.2f}{m.recall:7.2f}{m.f1:7.3f}"


def render_curve(curves: dict[str, dict[float, Report]]) -> str:
    """Per split, one row per recall target: the matcher's micro precision, recall and F1 there."""
    lines = [f"{'split':<34} {'target':>6}  {'P':>6}{'R':>7}{'F1':>7}", "-" * 62]
    for split, by_target in curves.items():
        for target, report in sorted(by_target.items()):
            lines.append(f"{split[:34]:<34} {target:>6.2f}  {_micro(report)}")
    return "\n".join(lines)
