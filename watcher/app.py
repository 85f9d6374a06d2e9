"""Composition root: the only place that knows every concrete class. Wiring only, no logic."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit
from typing import Mapping, TextIO

from . import config as config_module
from .config import Config
from .credentials import resolve_secret
from .http import HttpClient
from .matching.citations import SignalExtractor
from .matching.encoder import OFFICIAL_SHA256, Encoder
from .matching.labels import DEFAULT_LABELS, LabeledItem, load_labeled
from .matching.matcher import ARTIFACTS, EmbeddingMatcher, KeywordMatcher, artifact_path, model_key, training_items
from .matching.relations import Relations
from .notify.dispatch import Dispatcher, build_targets
from .pipeline import Context
from .sources.base import Source, build, load_kinds
from .store import Store


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class App:
    config: Config
    store: Store
    sources: tuple[Source, ...]
    context: Context
    dispatcher: Dispatcher

    def close(self) -> None:
        close_matcher = getattr(self.context.matcher, "close", None)
        if close_matcher:
            close_matcher()
        self.context.http.close()
        self.dispatcher.store.close()
        self.store.close()


def load_config(config_dir: str | Path, db: str | Path | None = None) -> Config:
    return config_module.load(config_dir, db_override=db)


def build_sources(config: Config, kinds: Mapping[str, type[Source]] | None = None) -> tuple[Source, ...]:
    kinds = load_kinds() if kinds is None else kinds
    return tuple(build(s, kinds) for s in config.sources)


def host_peers(config: Config):
    hosts = {s.id: urlsplit(s.url).hostname for s in config.sources}
    return lambda source_id: tuple(other for other, host in hosts.items()
                                   if host == hosts.get(source_id) and other != source_id)


def build_matcher(config: Config, store: Store, isolate: bool = False):
    """`isolate`: the service's matcher, whose model lives in a worker process (matching/worker.py); commands
    that classify once (classify, eval, prepare) and the worker itself load it here."""
    if config.matching.method == "keywords":
        return KeywordMatcher(config.case_types, config.matching.min_score, Relations(config.relations))
    if isolate:
        from .matching.worker import MatcherProcess

        return MatcherProcess(config, lambda: matcher_key(config, store),
                              lambda key: store.trained.has(key) or artifact_path(ARTIFACTS, key).is_file(),
                              store.feedback.mark)
    learned = build_learned(config, store)
    return EmbeddingMatcher(learned, lambda: training_set(config, store), config.case_types, models=store.trained,
                            config_key=_config_key(config), now=lambda: utcnow().isoformat(), artifacts=ARTIFACTS)


def _encoder(config: Config, store: Store | None) -> Encoder:
    return Encoder(config.matching.model_path, config.matching.model_sha256 or OFFICIAL_SHA256,
                   cache=store.embeddings if store else None)


def _config_key(config: Config) -> str:
    """What a trained model depends on besides its items: case types, relations and the encoder."""
    encoder = _encoder(config, None)
    return repr((config.case_types, config.relations, encoder.name, encoder.sha256))


def matcher_key(config: Config, store: Store, items: list[LabeledItem] | None = None) -> str:
    """The key the current inputs' model is stored under (`items`: the training set, when already read), computed
    without loading the matcher's libraries."""
    return model_key(training_set(config, store) if items is None else items, _config_key(config))


def build_learned(config: Config, store: Store | None):
    from .matching.learned import LearnedMatcher  # scikit-learn: only where a model is trained or applied

    return LearnedMatcher(_encoder(config, store), SignalExtractor(config.case_types), Relations(config.relations))


def labeled_items(config: Config) -> list[LabeledItem]:
    return load_labeled(config.matching.labels or DEFAULT_LABELS, [c.code for c in config.case_types])


def training_set(config: Config, store: Store) -> list[LabeledItem]:
    """Every labeled item (both splits: production learns from all) plus attorney feedback."""
    return training_items(labeled_items(config), store.feedback.labels(), store.changes.matched_codes)


def build_app(config: Config, *, kinds: Mapping[str, type[Source]] | None = None,
              environ: Mapping[str, str] = os.environ, console: TextIO | None = None,
              now=utcnow, create: bool = True, isolate_matcher: bool = False) -> App:
    """`create`: make the database if it is missing (only `run` asks for that on the command line).
    `isolate_matcher`: the model in a worker process, as the service runs it (matching/worker.py)."""
    sources = build_sources(config, kinds)
    targets = build_targets({t.name: resolve_secret(t, environ) for t in config.targets},
                            {t.name: t.format for t in config.targets})
    store = Store(config.storage_path, create=create)
    http = HttpClient(config.http, now=now)
    matcher = build_matcher(config, store, isolate=isolate_matcher)
    feedback = None
    if config.web.public_url:  # one-click feedback links in alerts, signed with the web page's key
        from .web.links import link_maker

        feedback = link_maker(config.web.public_url, store.web.secret_key())
    context = Context(store=store, http=http, matcher=matcher, routes=config.routes,
                      targets=config.targets, now=now, ops_targets=config.ops_targets(),
                      due_days=config.training.due_days, host_peers=host_peers(config), feedback_link=feedback)
    # Delivery runs on a thread of its own (scheduler.py), so it gets a connection of its own: SQLite serialises
    # the two writers, and neither ever sees the other's half-done transaction.
    dispatcher = Dispatcher(Store(config.storage_path, create=False), targets, now=now, console=console,
                            ops=config.ops_targets())
    return App(config=config, store=store, sources=sources, context=context, dispatcher=dispatcher)
