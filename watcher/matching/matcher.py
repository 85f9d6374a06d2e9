"""The matcher interface and the first, explicit-signal matcher.

`KeywordMatcher` links a change to a case type when it cites one of the type's form numbers or names one
of its keyword phrases. It is the baseline the embedding matcher (issue 4) is measured against and then
replaces behind the same `match` signature.
"""

from __future__ import annotations

import threading
from typing import Callable, Protocol, Sequence

from ..config import CaseType
from ..models import Change, Match
from .citations import phrase, plain_hyphens, title_rules
from .relations import Relations
from .signals import beside, bulletin_matches, manual_matches


class Matcher(Protocol):
    def match(self, change: Change) -> list[Match]: ...


class KeywordMatcher:
    method = "keywords"

    def __init__(self, case_types: Sequence[CaseType], min_score: float = 0.5, relations: Relations | None = None):
        self.min_score = min_score
        self.case_types = case_types
        self.relations = relations or Relations(())
        self._codes = {c.code for c in case_types}
        self._rules = [
            (case_type, [(f, phrase(f)) for f in case_type.forms],
             [(k, phrase(k)) for k in case_type.keywords])
            for case_type in case_types
        ]

    def match(self, change: Change) -> list[Match]:
        if change.facts.get("paperwork"):
            return []  # information-collection notices change nothing for a case (LABELING.md)
        matches = bulletin_matches(change)
        if matches:
            return matches
        text = plain_hyphens(f"{change.title}\n{change.summary}")
        for case_type, forms, keywords in self._rules:
            cited = [f for f, pattern in forms if pattern.search(text)]
            named = [k for k, pattern in keywords if pattern.search(text)]
            score = min(1.0, 0.8 * bool(cited) + 0.3 * len(named))
            if score >= self.min_score:
                reasons = ([f"cites Form {', '.join(cited)}"] if cited else []) + \
                          ([f"mentions {', '.join(repr(k) for k in named)}"] if named else [])
                matches.append(Match(case_type.code, round(score, 3), self.method, "; ".join(reasons)))
        # LABELING.md's title rules hold whatever the words: a removal-review caption ("Santos-Zacaria v. Garland")
        # is REMOVAL, as in the learned matcher.
        known = {m.case_type for m in matches}
        matches += [Match(code, 0.9, "rule", why) for code, why in title_rules(change.title).items()
                    if code not in known and code in self._codes]
        return beside(manual_matches(change, self.case_types), self._relate(change, matches))

    def _relate(self, change: Change, matches: list[Match]) -> list[Match]:
        """The firm's cross-cutting relations (case_types.toml) apply to keyword matches as to learned ones."""
        applied = self.relations.apply({m.case_type: m.score for m in matches}, change.title, change.summary,
                                       {m.case_type: True for m in matches})
        kept = [m for m in matches if m.case_type not in applied.dropped]
        return kept + [Match(code, round(score, 3), self.method, why) for code, (score, why) in applied.added.items()]


class EmbeddingMatcher:
    """The production matcher: explicit kind signals first, then the learned model.

    Trained lazily on first use from every labeled item plus the attorneys' feedback, so a service that never
    sees a change never loads the model, and `watcher retrain` (or a restart) folds new feedback in.
    """

    method = "embedding+signals"

    def __init__(self, learned, training: Callable[[], list], case_types: Sequence[CaseType] = ()):
        self.learned = learned
        self.training = training
        self.case_types = case_types
        self._lock = threading.Lock()

    def train(self):
        with self._lock:
            return self.learned.train(self.training())

    def match(self, change: Change) -> list[Match]:
        bulletin = bulletin_matches(change)
        if bulletin:
            return bulletin
        if change.facts.get("paperwork"):
            return []
        with self._lock:
            if self.learned.model is None:
                self.learned.train(self.training())
        [predictions] = self.learned.predict([change.title], [change.summary])
        return beside(manual_matches(change, self.case_types),
                      (Match(p.code, p.score, self.method, p.rationale) for p in predictions))


def training_items(labeled: Sequence, feedback: Sequence, matched: Callable[[int], set[str]]) -> list:
    """Labeled items plus one item per change with feedback: its matched codes, corrected by the attorneys."""
    from .learned import LabeledItem

    by_change: dict[int, tuple[str, str, set[str]]] = {}
    for label in feedback:
        title, summary, codes = by_change.setdefault(label.change_id, (label.title, label.summary,
                                                                        set(matched(label.change_id))))
        (codes.add if label.relevant else codes.discard)(label.case_type)
    extra = [LabeledItem(f"feedback:{cid}", t, s, tuple(sorted(c)), "train", "feedback")
             for cid, (t, s, c) in by_change.items()]
    return [*labeled, *extra]
