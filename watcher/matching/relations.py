"""The firm's cross-cutting policy: who else a change reaches, applied in one step after the classifier.

A classifier learns the topic of an item; whether a public-charge rule should also reach the adjustment team is
not statistics but the firm's policy (LABELING.md, "Cross-cutting rules (version 2)"). Each relation is written
out in config/case_types.toml as data a firm can read and edit, and every co-label it adds says which relation
gave it, so an attorney sees "DHS public-charge rules reach adjustment applicants (case_types.toml)" and not a
score.

Pure: codes and text in, codes and reasons out. Relations apply once each, in file order; a relation sees the
codes the ones before it added, so "premium processing for Form I-129" may reach H-1B and a later one may reach
further from H-1B.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

from ..config import Relation
from .citations import phrase, plain_hyphens

SOURCE = "case_types.toml"
TEXT_SCORE = 0.9  # a relation the text alone decides: the score a title naming a type's form gets


@dataclass(frozen=True)
class Applied:
    """What the relations changed on one item: the codes added (with score and reason) and those dropped."""

    added: Mapping[str, tuple[float, str]]
    dropped: Mapping[str, str]
    confirmed: Mapping[str, str]  # codes a relation reaches that the item already had: the policy says why too


class Relations:
    """The configured relations, their phrases compiled once."""

    def __init__(self, relations: Sequence[Relation]):
        self.relations = tuple(relations)
        self._requires = [[[phrase(p, plural=True) for p in group] for group in r.requires] for r in relations]
        self._excludes = [[phrase(p, plural=True) for p in r.excludes] for r in relations]

    def __bool__(self) -> bool:
        return bool(self.relations)

    def apply(self, chosen: Mapping[str, float], title: str, summary: str,
              names: Mapping[str, bool] | None = None, relevant: bool = True) -> Applied:
        """The codes `chosen` (code -> score) gains and loses. `names` says which codes the text names by form
        or phrase (for `named_only`). A relation the text alone decides (no `when`) fires only on an item that
        is `relevant` at all: its phrases ("Form I-131") also stand in office news and tool announcements."""
        codes = dict(chosen)
        added: dict[str, tuple[float, str]] = {}
        dropped: dict[str, str] = {}
        confirmed: dict[str, str] = {}
        title_text, full_text = plain_hyphens(title), plain_hyphens(f"{title}\n{summary}")
        for relation, requires, excludes in zip(self.relations, self._requires, self._excludes):
            trigger = [c for c in relation.when if c in codes]
            if (relation.when and not trigger) or (not relation.when and not relevant):
                continue
            text = title_text if relation.title_only else full_text
            if not all(any(p.search(text) for p in group) for group in requires):
                continue
            if any(p.search(text) for p in excludes):
                continue
            reason = f"{relation.why} ({SOURCE})"
            score = max((codes[c] for c in trigger), default=TEXT_SCORE)
            for code in (list(codes) if "*" in relation.drops else relation.drops):
                if codes.pop(code, None) is not None:
                    added.pop(code, None)
                    dropped[code] = reason
            for code in _targets(relation, names or {}):
                if code not in codes:
                    codes[code] = score
                    added[code] = (score, reason)
                elif code not in added:
                    confirmed.setdefault(code, reason)
        return Applied(added, dropped, confirmed)


def _targets(relation: Relation, names: Mapping[str, bool]) -> tuple[str, ...]:
    if relation.named_only:
        named = tuple(c for c in relation.reaches if names.get(c))
        if named:
            return named
    return relation.reaches

