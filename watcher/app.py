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
from .matching.learned import DEFAULT_LABELS, LabeledItem, LearnedMatcher, load_labeled
from .matching.matcher import EmbeddingMatcher, KeywordMatcher, training_items
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


def build_matcher(config: Config, store: Store):
    if config.matching.method == "keywords":
        return KeywordMatcher(config.case_types, config.matching.min_score, Relations(config.relations))
    learned = build_learned(config, store)
    config_key = repr((config.case_types, config.relations, learned.encoder.name, learned.encoder.sha256))
    from .matching.matcher import ARTIFACTS

    return EmbeddingMatcher(learned, lambda: training_set(config, store), config.case_types, models=store.trained,
                            config_key=config_key, now=lambda: utcnow().isoformat(), artifacts=ARTIFACTS)


def build_learned(config: Config, store: Store | None) -> LearnedMatcher:
    encoder = Encoder(config.matching.model_path, config.matching.model_sha256 or OFFICIAL_SHA256,
                      cache=store.embeddings if store else None)
    return LearnedMatcher(encoder, SignalExtractor(config.case_types), Relations(config.relations))


def labeled_items(config: Config) -> list[LabeledItem]:
    return load_labeled(config.matching.labels or DEFAULT_LABELS, [c.code for c in config.case_types])


def training_set(config: Config, store: Store) -> list[LabeledItem]:
    """Every labeled item (both splits: production learns from all) plus attorney feedback."""
    return training_items(labeled_items(config), store.feedback.labels(), store.changes.matched_codes)


def build_app(config: Config, *, kinds: Mapping[str, type[Source]] | None = None,
              environ: Mapping[str, str] = os.environ, console: TextIO | None = None,
              now=utcnow, create: bool = True) -> App:
    """`create`: make the database if it is missing (only `run` asks for that on the command line)."""
    sources = build_sources(config, kinds)
    targets = build_targets({t.name: resolve_secret(t, environ) for t in config.targets},
                            {t.name: t.format for t in config.targets})
    store = Store(config.storage_path, create=create)
    http = HttpClient(config.http, now=now)
    matcher = build_matcher(config, store)
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
