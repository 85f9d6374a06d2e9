"""The learned matcher: per case type, a logistic regression over the sentence embedding, the words of the
item (TF-IDF) and the explicit signals, with a threshold calibrated on out-of-fold predictions of the training
split.

Why this shape: plain similarity to a case-type description scores well below trigger words on real items,
but labeled examples teach the model what a firm cares about (a TPS extension that mentions EADs is I-765
too; a paperwork notice naming Form I-130 is nothing). Case types with too few labeled examples fall back to
the explicit signals alone rather than to a model that has seen two examples.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np
from joblib import Parallel, delayed
from scipy import sparse
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedGroupKFold, cross_val_predict

from .citations import (CodeSignals, SignalExtractor, is_paperwork, is_precedent, nonimmigrants_only,
                        precedent_reliefs, statistics_only, temporary_workers_only, title_rules)
from .encoder import Encoder
from .labels import LabeledItem, item_text
from .language import is_english
from .relations import Relations

MIN_POSITIVES = 3       # fewer labeled positives than this: explicit signals only
REGULARIZATION = 32.0   # C, chosen by grouped 5-fold cross-validation on the training split (4..64 tried)
WORD_WEIGHT = 3.0       # scale of the TF-IDF block beside the unit-length embedding (same cross-validation)
TRAIN_JOBS = 2          # threads fitting case types at once (the machine this ships for has 2 cores)
# Forms ("I-765", "H-1B") and cites ("214.2") stay one token.
TOKEN_PATTERN = r"(?u)\b\w[\w.-]*\w\b|\b\w\b"
THRESHOLDS = np.round(np.arange(0.05, 0.91, 0.05), 2)
# A missed alert costs an attorney more than a spare one: each case type's threshold is the one with the best
# out-of-fold precision among those that keep out-of-fold recall at this level (see recall_threshold). Chosen, with
# the floors below, on the shifted splits of `watcher eval`; docs/matching.md has each step's figures. 0.95 until
# the file held 2,520 items: since then 0.90 (issue 23's own target) keeps recall 0.88 and 0.92 under shift, and
# 0.95 bought 0.01 more of it for 0.04 of precision.
TARGET_RECALL = 0.90
# The relevance gate's floor keeps out-of-fold recall of relevant items at this level (relevance_floor). Higher than
# a type's: an item the gate drops reaches no team at all, while a type's threshold only decides one team.
GATE_RECALL = 0.95
TITLE_FORM_SCORE = 0.9  # an item titled by a type's form: the score a type without a classifier gives it too
# Below this chance that an item matters to any case type, it gets none (see fit_relevance). Grouped 5-fold
# cross-validation on the training split, 6 fold seeds: 0.25 to 0.40 tie; 0.3 has the best worst seed. 0.2 gained
# recall under shift but let 11 of 56 held-out look-alike factsheets through (2 at 0.3).
RELEVANCE_FLOOR = 0.3
# A relation's phrases, and a type without a classifier, count down to this lower relevance: a new kind of item (a
# Visa Bulletin note when none was labeled yet) scores low on a gate learned from other kinds, but its words say what
# it is about. (A title naming a type's form or phrase needs no relevance at all: _by_title.)
TITLE_FLOOR = 0.05


@dataclass
class Prediction:
    code: str
    score: float
    rationale: str


@dataclass
class TrainedModel:
    codes: list[str]
    classifiers: dict[str, LogisticRegression | None]
    thresholds: dict[str, float]
    train_labels: list[set[str]]
    words: TfidfVectorizer
    positives: dict[str, int] = field(default_factory=dict)
    relevance: LogisticRegression | None = None
    vocabulary: np.ndarray = field(default_factory=lambda: np.array([], dtype=object))  # the word block's terms
    # Per case type with a classifier: its out-of-fold scores and the labels, which thresholds are chosen on.
    calibration: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    relevance_floor: float = RELEVANCE_FLOOR  # see relevance_floor()


class LearnedMatcher:
    method = "embedding+signals"

    def __init__(self, encoder: Encoder, extractor: SignalExtractor, relations: Relations | None = None):
        self.encoder = encoder
        self.extractor = extractor
        self.relations = relations or Relations(())
        self.model: TrainedModel | None = None

    def features(self, titles: Sequence[str], summaries: Sequence[str],
                 words: TfidfVectorizer) -> tuple[np.ndarray, sparse.csr_matrix]:
        """The embedding (kept for neighbours and rationales) and the classifier's input: embedding, explicit
        signals and word weights side by side.

        Why words beside the embedding: a small sentence model blurs the terms an attorney keys on ("conditional
        residence", "fiancé", "prevailing wage"); cross-validation on the training split gains 0.03 micro-F1
        with them and nothing from a second, title-only embedding.
        """
        texts = read_texts(titles, summaries)
        embeddings = self.encoder.encode(texts)
        signals = np.stack([self.extractor.vector(t, s) for t, s in zip(titles, summaries)]) if texts else \
            np.zeros((0, 4 * len(self.extractor.codes) + 1), dtype=np.float32)
        dense = sparse.csr_matrix(np.hstack([embeddings, signals]))
        return embeddings, sparse.hstack([dense, WORD_WEIGHT * words.transform(texts)], format="csr")

    def train(self, items: Sequence[LabeledItem], seed: int = 0) -> TrainedModel:
        titles, summaries = [i.title for i in items], [i.summary for i in items]
        words = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True, max_features=20000,
                                token_pattern=TOKEN_PATTERN).fit(read_texts(titles, summaries))
        _, x = self.features(titles, summaries, words)
        labels = [set(i.case_types) for i in items]
        groups = [item_group(i.title) for i in items]
        targets = {code: np.array([code in l for l in labels], dtype=int) for code in self.extractor.codes}
        # One code's fit is independent of the others': spread them over the cores (the solver releases the GIL
        # in its matrix products), which keeps `classify` on a cold cache well inside its two minutes.
        fitted = Parallel(n_jobs=TRAIN_JOBS, prefer="threads")(
            delayed(fit_code)(x, y, groups, seed) for y in targets.values())
        classifiers = {code: clf for code, (clf, _) in zip(targets, fitted)}
        calibration = {code: (oof, targets[code]) for code, (_, oof) in zip(targets, fitted) if oof is not None}
        positives = {code: int(y.sum()) for code, y in targets.items()}
        # The gate only ever judges items that are no paperwork notice (those never match), so it learns from those
        # alone: with the Federal Register's hundreds of information collections among its negatives, it learned
        # "not paperwork" as "relevant" and let 9 of 56 held-out look-alike factsheets through.
        read = ~np.array([is_paperwork(t, s) for t, s in zip(titles, summaries)], dtype=bool)
        relevant = np.array([bool(l) for l in labels], dtype=int)[read]
        relevance = fit_relevance(x[read], relevant)
        floor = relevance_floor(x[read], relevant, [g for g, r in zip(groups, read) if r], seed) \
            if relevance is not None else RELEVANCE_FLOOR
        self.model = TrainedModel(self.extractor.codes, classifiers, {}, labels, words, positives, relevance,
                                  words.get_feature_names_out(), calibration, floor)
        self.retarget(TARGET_RECALL)
        return self.model

    def retarget(self, recall: float) -> None:
        """Set every case type's threshold for this out-of-fold recall (recall_threshold); a type without a
        classifier keeps 0.5, which its title signal's 0.9 clears. `watcher eval --curve` walks this."""
        self.model.thresholds = {code: recall_threshold(*self.model.calibration[code], recall)
                                 if code in self.model.calibration else 0.5 for code in self.model.codes}

    def scores(self, titles: Sequence[str], summaries: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Per item and code: the score, and whether it clears that code's threshold (low-signal: nothing)."""
        _, scores, chosen, _ = self._compute(titles, summaries)
        return scores, chosen

    def _compute(self, titles: Sequence[str], summaries: Sequence[str]) \
            -> tuple[sparse.csr_matrix, np.ndarray, np.ndarray, list[dict[str, str]]]:
        """The classifier's input, scores, chosen codes, and per item the labeling rules and relations that decided
        codes (with reasons)."""
        assert self.model is not None, "train() first"
        _, x = self.features(titles, summaries, self.model.words)
        in_title = [self.extractor.signals(t) for t in titles]
        scores = self._scores(x, in_title)
        paperwork, relevance, gate = self._gates(titles, summaries, x)
        chosen = (scores >= np.array([self.model.thresholds[c] for c in self.model.codes])) & gate
        by_title = self._by_title(in_title, paperwork)
        scores[by_title] = np.maximum(scores[by_title], TITLE_FORM_SCORE)
        chosen |= by_title
        # The whole text's signals, once per item: the exclusions, the precedent rules and the relations read them.
        texts = [f"{title}\n{summary}" for title, summary in zip(titles, summaries)]
        signals = [self.extractor.signals(text) for text in texts]
        outside = np.array([temporary_workers_only(text, found) or statistics_only(title, summary)
                            for text, found, title, summary in zip(texts, signals, titles, summaries)], dtype=bool)
        self._exclude(titles, chosen, outside)
        # Rules of the labeling, not guesses. The classifier already finds every precedent of the training split
        # (cross-validated, from the citation in the title), but it has never seen a court's caption ("Pugin v.
        # Garland (22-23)" is all a Supreme Court slip opinion says) nor a Visa Bulletin; the rules make these
        # certain and let the rationale say why. A precedent's relief type is such a rule too
        # (citations.precedent_reliefs).
        rules = [{} if paperwork[row] else self._rules(title, found)  # a paperwork notice reaches no one
                 for row, (title, found) in enumerate(zip(titles, signals))]
        for row, (title, decided) in enumerate(zip(titles, rules)):
            if is_precedent(title):
                chosen[row] = False  # a precedent's case types are the rules' alone (citations.precedent_reliefs)
            for code in decided:
                if code in self.model.codes:
                    column = self.model.codes.index(code)
                    scores[row, column], chosen[row, column] = 1.0, True
        # A relation is explicit evidence, as a title's form is: it needs the same lower relevance (a Visa Bulletin
        # note scores low on a gate that never saw one, yet "retrogress the final action date" says what it is).
        self._relate(titles, summaries, signals, scores, chosen, rules, ~paperwork & ~outside,
                     relevance >= TITLE_FLOOR)
        return x, scores, chosen, rules

    def _scores(self, x: sparse.csr_matrix, in_title: Sequence[Mapping[str, CodeSignals]]) -> np.ndarray:
        """Per item and code: the classifier's probability, or for a type without one its title signal."""
        scores = np.zeros((len(in_title), len(self.model.codes)), dtype=np.float32)
        for j, code in enumerate(self.model.codes):
            classifier = self.model.classifiers.get(code)
            scores[:, j] = classifier.predict_proba(x)[:, 1] if classifier is not None else \
                [self._fallback(found[code]) for found in in_title]
        return scores

    def _gates(self, titles: Sequence[str], summaries: Sequence[str], x: sparse.csr_matrix) \
            -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Which items are paperwork (LABELING.md: no code), each item's relevance, and per item and code whether
        the relevance gate lets a match through.

        A type with too few examples to learn from matches on its title alone (_fallback); the gate, learned from
        the other types' examples, has never seen one of its items, so it vetoes only down to TITLE_FLOOR. (Time
        split: family reunification parole notices, PAROLE's first items, scored 0.02 to 0.19 on the gate.)
        """
        paperwork = np.array([is_paperwork(t, s) for t, s in zip(titles, summaries)], dtype=bool)
        relevance = self.model.relevance.predict_proba(x)[:, 1] if self.model.relevance is not None \
            else np.ones(len(titles))
        kept = ~paperwork & (relevance >= self.model.relevance_floor)
        unlearned = np.array([self.model.classifiers.get(code) is None for code in self.model.codes])
        gate = np.where(unlearned[None, :], (~paperwork & (relevance >= TITLE_FLOOR))[:, None], kept[:, None])
        return paperwork, relevance, gate

    def _by_title(self, in_title: Sequence[Mapping[str, CodeSignals]], paperwork: np.ndarray) -> np.ndarray:
        """Per item and code: the title names the type's form or a defining phrase, and the item is no paperwork.

        Such an item ("USCIS Updates Receipts Process for Form I-129S", "USCIS Clarifies Guidance for EB-1
        Eligibility Criteria") is news about that filing, as it is for a type with too few examples to learn from
        (_fallback). The classifier misses it when its few examples say otherwise (L-1's never named the blanket
        petition) and, under shift, when its examples came from other sources or years; so does the relevance gate,
        learned from other kinds and years (time split: 2022's EB-5, EB-1 and national interest waiver alerts
        scored under 0.05 on it). What such a title's evidence must not reach is excluded by the labeling rules
        explicitly: paperwork notices (and ICE's bond interest-rate notices), statistics, the H-2 programs. Of the
        labeled items' title signals that no such rule excludes, 493 of 545 (90%) name a type the item is labeled
        with (docs/matching.md).
        """
        shape = (len(in_title), len(self.model.codes))
        named = np.array([[bool(found[c].forms or found[c].keywords) for c in self.model.codes] for found in in_title],
                         dtype=bool)
        return named.reshape(shape) & ~paperwork[:, None]

    def _relate(self, titles: Sequence[str], summaries: Sequence[str], signals: Sequence[Mapping[str, CodeSignals]],
                scores: np.ndarray, chosen: np.ndarray, rules: list[dict[str, str]], eligible: np.ndarray,
                relevant: np.ndarray) -> None:
        """The firm's cross-cutting relations (case_types.toml), after every learned and labeling decision: they
        are policy on who else a change reaches, not evidence of its topic. An item not `eligible` (a paperwork
        notice, or one outside the taxonomy: LABELING.md) reaches no one, whatever a relation's phrases say."""
        if not self.relations:
            return
        codes = self.model.codes
        for row, (title, summary, found_in_text) in enumerate(zip(titles, summaries, signals)):
            if not eligible[row]:
                continue
            named = {code: bool(found.forms or found.keywords) for code, found in found_in_text.items()}
            have = {code: float(scores[row, j]) for j, code in enumerate(codes) if chosen[row, j]}
            applied = self.relations.apply(have, title, summary, named, bool(relevant[row]))
            for code, (value, reason) in applied.added.items():
                j = codes.index(code)
                scores[row, j], chosen[row, j] = max(float(scores[row, j]), value), True
                rules[row][code] = reason
            for code, reason in applied.confirmed.items():
                rules[row].setdefault(code, reason)
            for code, reason in applied.dropped.items():
                chosen[row, codes.index(code)] = False
                rules[row].pop(code, None)

    def _exclude(self, titles: Sequence[str], chosen: np.ndarray, outside: np.ndarray) -> None:
        """What LABELING.md keeps out of the taxonomy: items `outside` it (the H-2 temporary worker programs,
        statistics), and nonimmigrant visas from CONSULAR."""
        consular = self.model.codes.index("CONSULAR") if "CONSULAR" in self.model.codes else None
        for row, title in enumerate(titles):
            if outside[row]:
                chosen[row] = False
            elif consular is not None and nonimmigrants_only(title):
                chosen[row, consular] = False

    def _rules(self, title: str, found: Mapping[str, CodeSignals]) -> dict[str, str]:
        """The case types the labeling rules give an item, each with its reason (see citations.title_rules and
        citations.precedent_reliefs)."""
        rules = title_rules(title)
        if is_precedent(title):
            rules = precedent_reliefs(title, found) | rules
        return rules

    def predict(self, titles: Sequence[str], summaries: Sequence[str]) -> list[list[Prediction]]:
        x, scores, chosen, rules = self._compute(titles, summaries)
        results = []
        for row, (title, summary) in enumerate(zip(titles, summaries)):
            signals = self.extractor.signals(f"{title}\n{summary}")
            results.append(sorted(
                (Prediction(code, round(float(scores[row, j]), 3),
                            self._rationale(code, signals[code], x[row], rules[row].get(code)))
                 for j, code in enumerate(self.model.codes) if chosen[row, j]),
                key=lambda p: -p.score))
        return results

    @staticmethod
    def _fallback(title_signals) -> float:
        # Too few labeled examples to learn from: the title naming the case type (its form or a defining
        # phrase) is the evidence; a mention deep in the text is not.
        return TITLE_FORM_SCORE if title_signals.forms or title_signals.keywords else 0.0

    def _rationale(self, code: str, signals, features: sparse.csr_matrix, rule: str | None) -> str:
        """What in the text decided, as an attorney would check it: the rule or relation, the forms, cites and
        terms the text names, and the item's own words that weighed most for the type."""
        parts = [rule] if rule else []
        parts += [signals.describe()] if signals.any else []
        # A rule is the whole reason: the words the classifier weighed would only blur it ("'11 2023', 'kj decided'").
        words = [] if rule else self._deciding_words(code, features)
        if words:
            parts.append("its words " + ", ".join(f"'{w}'" for w in words))
        return "; ".join(parts) or f"the {code} classifier, from the text as a whole"

    def _deciding_words(self, code: str, features: sparse.csr_matrix, most: int = 3) -> list[str]:
        """The item's words (and word pairs) that raised the type's score most: weight times presence in the word
        block of the classifier's input. Empty for a type without a classifier."""
        classifier = self.model.classifiers.get(code)
        if classifier is None:
            return []
        vocabulary = self.model.vocabulary
        start = features.shape[1] - len(vocabulary)
        row = features[:, start:].tocoo()
        weights = classifier.coef_[0, start + row.col] * row.data
        chosen: list[str] = []
        for k in np.argsort(-weights):
            if weights[k] <= 0 or len(chosen) == most:
                break
            term = str(vocabulary[row.col[k]])
            if set(term.split()) & ENGLISH_STOP_WORDS or len(term) < 3 or any(ch.isdigit() for ch in term):
                continue  # "fair and", the "L" of "blanket L" or a date weighs, but tells an attorney nothing
            # "public charge" and then "charge" says one thing twice.
            if not any(set(term.split()) <= set(other.split()) or set(other.split()) <= set(term.split())
                       for other in chosen):
                chosen.append(term)
        return chosen


def item_group(title: str) -> str:
    """Items that are one announcement in several languages, or one series, share a group."""
    if title.startswith("Eligible to Naturalize Factsheet"):
        return "eligible-to-naturalize"
    if title.startswith("Employment Authorization for") and "F-1" in title:
        return "f1-special-student-relief"
    title = re.sub(r"\s*\([^)]*\)\s*$", "", title)
    return re.sub(r"\s+-\s+\w+$", "", title).lower().strip()


def fit_code(x: sparse.csr_matrix, y: np.ndarray, groups: Sequence[str],
             seed: int) -> tuple[LogisticRegression | None, np.ndarray | None]:
    """One case type's classifier and its out-of-fold scores (what its threshold is chosen on), or (None, None)
    when it has too few labeled examples."""
    if y.sum() < MIN_POSITIVES:
        return None, None  # see LearnedMatcher._fallback: 0.9 when the title names the type
    model = classifier()
    # Threshold calibrated on folds that keep near-duplicates (translations, series) together, so it is set for
    # genuinely new items rather than for copies of training items.
    folds = list(StratifiedGroupKFold(n_splits=min(5, int(y.sum())), shuffle=True, random_state=seed)
                 .split(x, y, groups))
    if any(y[fit].sum() == 0 for fit, _ in folds):
        # Every positive is one announcement (its translations, or feedback on one series): one example, not
        # several, and nothing to calibrate on. Signals only, as for too few positives.
        return None, None
    oof = cross_val_predict(model, x, y, cv=folds, method="predict_proba")[:, 1]
    return model.fit(x, y), oof


def fit_relevance(x: sparse.csr_matrix, relevant: np.ndarray) -> LogisticRegression | None:
    """Whether an item matters to any case type at all, learned from every labeled item at once.

    Why, beside each case type's own classifier: a type sees its few dozen positives, and a new series of
    look-alike negatives fools it (in cross-validation, a statistics-factsheet series on naturalization held out
    of its fold drew 45 to 58 N-400 matches in 5 of 6 fold seeds). That such factsheets, office news or other
    agencies' programs concern no case type is learned from all the labeled items together. Grouped 5-fold
    cross-validation on the training split, 6 fold seeds: micro-F1 0.835 to 0.878, macro-F1 0.752 to 0.772;
    scored without that series, nearly neutral (+0.002 on both): it is a guard against floods, not a better model.
    """
    if relevant.sum() < MIN_POSITIVES or relevant.all():
        return None
    return classifier().fit(x, relevant)


def relevance_floor(x: sparse.csr_matrix, relevant: np.ndarray, groups: Sequence[str], seed: int) -> float:
    """The gate's floor: RELEVANCE_FLOOR, or lower where out-of-fold scores say relevant items score lower.

    Recall first here too: the floor keeps out-of-fold recall of relevant items at GATE_RECALL, but never rises
    above RELEVANCE_FLOOR, the flood guard. On the bundled training split that is 0.3 (0.4 would keep the target);
    a model trained on items before 2022 alone (390 items) needs 0.05, and there 0.3 lost one relevant item in ten.
    """
    if relevant.sum() < MIN_POSITIVES or relevant.all():
        return RELEVANCE_FLOOR
    folds = list(StratifiedGroupKFold(n_splits=5, shuffle=True, random_state=seed).split(x, relevant, groups))
    if any(relevant[fit].sum() == 0 or relevant[fit].all() for fit, _ in folds):
        return RELEVANCE_FLOOR
    oof = cross_val_predict(classifier(), x, relevant, cv=folds, method="predict_proba")[:, 1]
    return min(RELEVANCE_FLOOR, recall_threshold(oof, relevant, GATE_RECALL))


def classifier() -> LogisticRegression:
    """The settings every learned decision shares (a case type's, the relevance gate's); cross-validation chose
    them for both together."""
    return LogisticRegression(C=REGULARIZATION, class_weight="balanced", max_iter=2000)


def read_texts(titles: Sequence[str], summaries: Sequence[str]) -> list[str]:
    """What the model reads of each item, for the embedding and the word weights alike (see embedding_text).

    A translation's foreign summary would add words that only other items in that language share, pulling it
    toward their case types rather than its own. Grouped cross-validation on the training split: micro-F1 0.892
    to 0.893, macro-F1 0.857 to 0.858 against reading every summary's words; noise, but one text per item."""
    return [embedding_text(t, s) for t, s in zip(titles, summaries)]


def embedding_text(title: str, summary: str) -> str:
    return item_text(title, summary) if summary and is_english(summary) else title


def best_threshold(scores: np.ndarray, y: np.ndarray) -> float:
    """The lowest threshold reaching the best out-of-fold F1.

    With few positives many thresholds tie; the highest of them overfits the folds (it starves recall on new
    items). A lost alert costs an attorney more than a spare one, and of the tied thresholds the lowest
    also scores best in grouped cross-validation on the training split (macro-F1 0.754 against 0.746 for the
    middle of the plateau).
    """
    f1s = []
    for t in THRESHOLDS:
        predicted = scores >= t
        tp = int((predicted & (y == 1)).sum())
        fp = int((predicted & (y == 0)).sum())
        fn = int((~predicted & (y == 1)).sum())
        f1s.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    best = max(f1s)
    plateau = [t for t, f in zip(THRESHOLDS, f1s) if f >= best - 1e-9]
    return float(plateau[0])


def recall_threshold(scores: np.ndarray, y: np.ndarray, target: float | None = None) -> float:
    """The threshold with the best out-of-fold precision among those whose out-of-fold recall reaches `target`
    (TARGET_RECALL), the highest of them on a tie; the lowest threshold when none reaches it.

    Why not best F1: F1 weighs a missed alert and a spare one alike, and on items unlike the training split
    (another source, later years) the F1-best thresholds lost one affected team in four (leave-one-source-out
    recall 0.83, time split 0.73).
    """
    target = TARGET_RECALL if target is None else target
    positives = max(int(y.sum()), 1)
    best, best_precision = float(THRESHOLDS[0]), -1.0
    for t in THRESHOLDS:
        predicted = scores >= t
        tp = int((predicted & (y == 1)).sum())
        if tp / positives < target:
            break  # recall only falls as the threshold rises
        precision = tp / max(int(predicted.sum()), 1)
        if precision >= best_precision:
            best, best_precision = float(t), precision
    return best
