"""Grouped 5-fold cross-validation of the learned matcher on the training split only.

This is how the matcher's settings (REGULARIZATION, WORD_WEIGHT, MIN_POSITIVES, the threshold rule) are
chosen, so the validation split stays a test those settings never saw (README says which labeling rules it did
inform). Folds keep an item's title group (translations, series) together, as new items arrive in the service.

    HF_HUB_OFFLINE=1 .venv/bin/python scripts/crossval.py [--seeds 6] [--db var/cv.db] [--fraction 1.0]

--fraction F trains each fold on a random F of its title groups: the learning curve, which says what more
labeled items (or attorneys' feedback) would buy.
"""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path

import numpy as np
from sklearn.model_selection import StratifiedGroupKFold

from watcher import config
from watcher.matching.citations import SignalExtractor
from watcher.matching.encoder import Encoder
from watcher.matching.evaluate import score
from watcher.matching.labels import DEFAULT_LABELS, load_labeled
from watcher.matching.learned import LearnedMatcher, item_group
from watcher.store import Store

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    # Six fold seeds, not two: one seed's folds can hold out a whole series (56 factsheets) and swing micro-F1
    # by 0.05 on their own; about a minute a seed once the embeddings are cached.
    parser.add_argument("--seeds", type=int, default=6)
    parser.add_argument("--db", default=str(REPO / "var" / "cv.db"), help="embedding cache (reused between runs)")
    parser.add_argument("--fraction", type=float, default=1.0, help="share of each fold's training groups kept")
    args = parser.parse_args()
    if not 0 < args.fraction <= 1:
        parser.error(f"--fraction: {args.fraction} is not in (0, 1]")
    # Rare types make strata of one item; the grouped splitter says so each fold, and it changes nothing.
    warnings.filterwarnings("ignore", message="The least populated class")
    case_types = config.load(REPO / "config").case_types
    codes = [c.code for c in case_types]
    train = [i for i in load_labeled(DEFAULT_LABELS, codes) if i.split == "train"]
    Path(args.db).parent.mkdir(parents=True, exist_ok=True)
    store = Store(args.db)
    matcher = LearnedMatcher(Encoder(cache=store.embeddings), SignalExtractor(case_types))
    # Stratify on each item's first code in taxonomy order (or "none") so every fold sees the common types.
    strata = [next((c for c in codes if c in i.case_types), "none") for i in train]
    groups = [item_group(i.title) for i in train]
    micro, macro = [], []
    for seed in range(args.seeds):
        predicted: list[set[str]] = [set() for _ in train]
        folds = StratifiedGroupKFold(n_splits=5, shuffle=True, random_state=100 + seed)
        rng = np.random.default_rng(seed)
        for fit, held in folds.split(train, strata, groups):
            fit_groups = sorted({groups[k] for k in fit})
            kept = set(rng.permutation(fit_groups)[:round(args.fraction * len(fit_groups))])
            matcher.train([train[k] for k in fit if groups[k] in kept])
            _, chosen = matcher.scores([train[k].title for k in held], [train[k].summary for k in held])
            for k, row in zip(held, chosen):
                predicted[k] = {c for c, on in zip(codes, row) if on}
        report = score("matcher", [set(i.case_types) for i in train], predicted, codes)
        micro.append(report.micro.f1)
        macro.append(report.macro_f1)
        print(f"seed {seed}: micro-F1 {report.micro.f1:.3f}  macro-F1 {report.macro_f1:.3f}", flush=True)
    print(f"grouped 5-fold CV on {len(train)} training items ({args.fraction:.0%} of each fold's groups), "
          f"{args.seeds} seeds: "
          f"micro-F1 {np.mean(micro):.3f}  macro-F1 {np.mean(macro):.3f}")
    store.close()


if __name__ == "__main__":
    main()
