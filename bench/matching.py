"""Classify throughput on the real corpus, its ratio to the raw encoder on the same texts, and peak memory.

The goal is a matcher within 80% of the encoder's own speed: everything around the model (signals,
classifiers, thresholds) should cost little next to the embedding itself.
"""

from __future__ import annotations

import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from watcher import config as config_module
from watcher.matching.citations import SignalExtractor
from watcher.matching.encoder import Encoder
from watcher.matching.labels import DEFAULT_LABELS, load_labeled
from watcher.matching.learned import LearnedMatcher, read_texts
from watcher.matching.relations import Relations
from watcher.store import Store

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "corpus" / "federal_register_immigration.jsonl"
FEEDS = REPO.parent / "shared" / "corpus" / "agency_feed_items.json"


def corpus_items() -> list[tuple[str, str]]:
    if CORPUS.exists():
        rows = [json.loads(l) for l in CORPUS.read_text().splitlines()]
        return [(r["title"], r.get("summary") or "") for r in rows]
    return [(i.title, i.summary) for i in load_labeled(DEFAULT_LABELS)]  # the labeled items are corpus items too


def timed(run) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def measure() -> list[tuple[str, str]]:
    cfg = config_module.load(REPO / "config")
    items = corpus_items()
    titles, summaries = [t for t, _ in items], [s for _, s in items]
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "bench.db")
        start = time.perf_counter()
        learned = LearnedMatcher(Encoder(cache=store.embeddings), SignalExtractor(cfg.case_types),
                                 Relations(cfg.relations))
        learned.encoder.model  # noqa: B018  (load)
        load_s = time.perf_counter() - start
        start = time.perf_counter()
        learned.train(load_labeled(DEFAULT_LABELS))
        train_s = time.perf_counter() - start

        raw = Encoder()  # no cache: the model's own speed on the same texts
        texts = read_texts(titles, summaries)  # what classify reads of each item
        # uncached: classify embeds everything
        fresh = LearnedMatcher(Encoder(), SignalExtractor(cfg.case_types), Relations(cfg.relations))
        fresh.model = learned.model
        fresh.encoder._model = raw.model
        # Best of two, alternated: one run of either moves by 10% on a 2-core machine, and the ratio is the figure.
        encode_s = classify_s = float("inf")
        for _ in range(2):
            encode_s = min(encode_s, timed(lambda: raw.model.encode(texts, batch_size=64, normalize_embeddings=True,
                                                                    show_progress_bar=False)))
            classify_s = min(classify_s, timed(lambda: fresh.scores(titles, summaries)))
        store.close()
        cold_s = classify_cold(thousand(items), Path(tmp))
    n = len(items)
    return [
        ("watcher classify, 1,000 items, empty database (load, train, embed; wall)", f"{cold_s:.1f} s (goal < 120)"),
        ("model load (hash check + sentence-transformers)", f"{load_s:.1f} s"),
        ("train on labeled items (first run: embeds them)", f"{train_s:.1f} s"),
        (f"raw encode throughput ({n} corpus texts; best of 2)", f"{n / encode_s:.1f} items/s"),
        ("classify throughput (same texts, uncached; best of 2)", f"{n / classify_s:.1f} items/s"),
        ("classify / raw encode", f"{encode_s / classify_s:.2f} (goal >= 0.8)"),
        ("peak RSS with the model", f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB"),
    ]


def thousand(items: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """1,000 real items: the Federal Register corpus, then agency feed items (their HTML stripped) to make up the
    number, or the labeled items' titles when the shared corpus is not there."""
    more: list[tuple[str, str]] = []
    if FEEDS.exists():
        more = [(v.get("title") or "", re.sub(r"<[^>]+>", " ", v.get("description") or ""))
                for v in json.loads(FEEDS.read_text()).values()]
    more += [(f"{i.title} (again)", "") for i in load_labeled(DEFAULT_LABELS)]
    return (items + more)[:1000]


def classify_cold(items: list[tuple[str, str]], tmp: Path) -> float:
    """`watcher classify` as a user runs it, in its own process on a database that does not exist yet: model load,
    training on every labeled item (each embedded, nothing cached) and the items themselves."""
    source = tmp / "items.jsonl"
    source.write_text("".join(json.dumps({"id": str(k), "title": t, "summary": s}) + "\n"
                              for k, (t, s) in enumerate(items)))
    command = [sys.executable, "-m", "watcher.cli", "--config", str(REPO / "config"), "--db", str(tmp / "cold.db"),
               "classify", "--input", str(source), "--output", str(tmp / "preds.jsonl")]
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    return timed(lambda: subprocess.run(command, check=True, env=env, capture_output=True))
