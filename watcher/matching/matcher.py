"""The matcher interface and the first, explicit-signal matcher.

`KeywordMatcher` links a change to a case type when it cites one of the type's form numbers or names one
of its keyword phrases. It is the baseline the embedding matcher (issue 4) is measured against and then
replaces behind the same `match` signature.
"""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path
from typing import Callable, Protocol, Sequence

from ..config import CaseType
from ..models import Change, Match
from .citations import phrase, plain_hyphens, title_rules
from .relations import Relations
from .signals import beside, bulletin_matches, manual_matches


class Matcher(Protocol):
    def match(self, change: Change) -> list[Match]: ...


def without_model(change: Change) -> list[Match] | None:
    """What a change matches without the learned model, or None when it needs the model: a Visa Bulletin by the
    categories it moved, a paperwork notice nothing (information collections change nothing for a case)."""
    bulletin = bulletin_matches(change)
    if bulletin:
        return bulletin
    if change.facts.get("paperwork"):
        return []
    return None


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
        known = without_model(change)
        if known is not None:
            return known
        matches: list[Match] = []
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

    def __init__(self, learned, training: Callable[[], list], case_types: Sequence[CaseType] = (),
                 models=None, config_key: str = "", now: Callable[[], str] = lambda: "",
                 artifacts: Path | None = None):
        self.learned = learned
        self.training = training
        self.case_types = case_types
        self.models = models          # store.trained: a model trained before from the same inputs is read back
        self.config_key = config_key  # what else the model depends on: case types, relations, encoder
        self.now = now
        self.artifacts = artifacts    # models `watcher prepare` built at install time, by key
        self.key: str | None = None   # the key of the model in use
        self._lock = threading.Lock()

    def train(self):
        with self._lock:
            return self._train()

    def _train(self):
        items = self.training()
        key = model_key(items, self.config_key)
        if self._use(key):
            return self.learned.model  # the same inputs train the same model: no encoder, no fitting
        model = self.learned.train(items)
        self.key = key
        if self.models is not None:
            self.models.put(key, model, self.now())
        return model

    def use(self, key: str) -> bool:
        """Match with the model trained for `key` if one is stored or installed; False if none is (yet)."""
        with self._lock:
            return self._use(key)

    def _use(self, key: str) -> bool:
        if self.learned.model is not None and self.key == key:
            return True
        model = self.models.get(key) if self.models is not None else None
        if model is None:
            model = read_artifact(self.artifacts, key)
        if model is None:
            return False
        self.learned.model, self.key = model, key
        return True

    def use_latest(self) -> bool:
        """Without a model for the current inputs, the newest stored one: new feedback is being trained in the
        background (matching/worker.py) and alerts do not wait for it."""
        with self._lock:
            if self.learned.model is not None:
                return True
            key, model = self.models.latest() if self.models is not None else (None, None)
            if model is None or list(model.codes) != [c.code for c in self.case_types]:
                return False  # none, or one trained for other case types (the config was edited): train anew
            self.learned.model, self.key = model, key
            return True

    def prepare(self) -> Path:
        """Train on the current inputs and keep the model as an installation artifact (`watcher prepare`)."""
        import pickle

        items = self.training()
        model = self.learned.train(items)
        self.artifacts.mkdir(parents=True, exist_ok=True)
        path = artifact_path(self.artifacts, model_key(items, self.config_key))
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL))
        tmp.replace(path)
        return path

    def release_idle(self, idle_seconds: float, clock: Callable[[], float] | None = None) -> bool:
        """Release the encoder when nothing was classified for `idle_seconds`: it is half the service's memory and
        most hours need it for a few items at most."""
        encoder = getattr(self.learned, "encoder", None)
        if encoder is None or not encoder.loaded:
            return False
        if (clock or time.monotonic)() - encoder.last_used < idle_seconds:
            return False
        return encoder.release()

    def match(self, change: Change) -> list[Match]:
        known = without_model(change)
        if known is not None:
            return known
        with self._lock:
            if self.learned.model is None:
                self._train()
        [predictions] = self.learned.predict([change.title], [change.summary])
        return beside(manual_matches(change, self.case_types),
                      (Match(p.code, p.score, self.method, p.rationale) for p in predictions))


MODEL_FORMAT = 1  # bump when TrainedModel's shape or the training procedure changes
# Where `watcher prepare` (run by `make install`) keeps the model trained on the bundled labels and config: inside
# the installation, written by whoever installed it, so a first start on an empty database is ready in seconds.
ARTIFACTS = Path(sys.prefix) / "share" / "watcher" / "models"


def artifact_path(directory: Path, key: str) -> Path:
    return directory / f"{key}.pickle"


def read_artifact(directory: Path | None, key: str):
    """The installation's model for these inputs, or None (another config, other labels, no artifact)."""
    import pickle

    path = artifact_path(directory, key) if directory else None
    if path is None or not path.is_file():
        return None
    try:
        return pickle.loads(path.read_bytes())
    except (pickle.UnpicklingError, EOFError, AttributeError, ImportError, ValueError):
        return None  # from another version: train instead


def model_key(items: Sequence, config_key: str) -> str:
    """A hash of everything a trained model depends on: its items (labels and feedback), the configuration, the
    encoder, the code's model format and scikit-learn's version (a pickle does not cross versions)."""
    import hashlib
    import json
    from importlib.metadata import version

    # The installed version, read without importing scikit-learn: the service's main process computes this key and
    # never loads the matcher's libraries (they live in the worker process, matching/worker.py).
    material = json.dumps([MODEL_FORMAT, version("scikit-learn"), config_key,
                           [(i.id, i.title, i.summary, list(i.case_types)) for i in items]], default=str)
    return hashlib.sha256(material.encode()).hexdigest()


def training_items(labeled: Sequence, feedback: Sequence, matched: Callable[[int], set[str]]) -> list:
    """Labeled items plus one item per change with feedback: its matched codes, corrected by the attorneys."""
    from .labels import LabeledItem

    by_change: dict[int, tuple[str, str, set[str]]] = {}
    for label in feedback:
        title, summary, codes = by_change.setdefault(label.change_id, (label.title, label.summary,
                                                                        set(matched(label.change_id))))
        (codes.add if label.relevant else codes.discard)(label.case_type)
    extra = [LabeledItem(f"feedback:{cid}", t, s, tuple(sorted(c)), "train", "feedback")
             for cid, (t, s, c) in by_change.items()]
    return [*labeled, *extra]
