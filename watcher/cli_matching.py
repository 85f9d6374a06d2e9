"""CLI commands for matching and the caseload: classify, eval, retrain, feedback, cases import."""

from __future__ import annotations

import json
import re
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

import click

from . import app as app_module
from .errors import InputError
from .matching.labels import held_out, load_labeled
from .cli_common import load_config, open_store
from .store import Store

if TYPE_CHECKING:  # the evaluation modules load scikit-learn: imported where they are used
    from .matching.evaluate import ShiftReport, TriggerWords
    from .matching.shifts import Split


@click.command()
@click.option("--input", "input_path", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="JSON lines with id, title, summary (source, date, url optional).")
@click.option("--output", "output_path", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.pass_context
def classify(ctx: click.Context, input_path: Path, output_path: Path) -> None:
    """Predict case types for items; writes {"id", "case_types", "scores"} per line. Offline."""
    config = load_config(ctx)
    codes = [c.code for c in config.case_types]
    items = load_labeled(input_path)
    start = time.perf_counter()
    store = open_store(ctx, config, create=True)  # the embedding cache lives here: a lab database may start empty
    learned = app_module.build_learned(config, store)
    learned.train(app_module.training_set(config, store))
    scores, chosen = learned.scores([i.title for i in items], [i.summary for i in items])
    tmp = output_path.with_name(output_path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as out:
        for item, row, picks in zip(items, scores, chosen):
            out.write(json.dumps({"id": item.id, "case_types": [c for c, p in zip(codes, picks) if p],
                                  "scores": {c: round(float(s), 4) for c, s in zip(codes, row)}}) + "\n")
    tmp.replace(output_path)
    click.echo(f"classified {len(items)} items in {time.perf_counter() - start:.1f}s -> {output_path}", err=True)


@click.command("eval")
@click.option("--labels", "labels_path", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Labeled JSON lines. Items with split=validation are evaluated (all items when none has a split).")
@click.option("--shift/--no-shift", default=True, show_default=True,
              help="Also score under shift: leave one source out, and a time split (a file with splits only).")
@click.option("--curve", is_flag=True,
              help="Under shift, the precision/recall trade-off: each split scored at several recall targets.")
@click.pass_context
def evaluate(ctx: click.Context, labels_path: Path, shift: bool, curve: bool) -> None:
    """Precision/recall/F1 per case type for the matcher and two baselines, trained on every bundled labeled item
    that is not evaluated (on the bundled file: the train split); then, on a file with splits, the same matcher
    and trigger words scored under shift (matching/shifts.py)."""
    from .matching.evaluate import TriggerWords, ZeroShot, bootstrap, render_curve, render_shifts, render_table, score
    from .matching.learned import TARGET_RECALL
    from .matching.shifts import shifted_splits

    config = load_config(ctx)
    codes = [c.code for c in config.case_types]
    items = load_labeled(labels_path, codes)
    evaluated = [i for i in items if i.split == "validation"] or [i for i in items if not i.split]
    if not evaluated:
        raise InputError(f"{labels_path}: no items to evaluate (no validation split, and every item is in training)")
    train = held_out(app_module.labeled_items(config), evaluated)
    if not train:
        raise InputError(f"{labels_path}: every bundled labeled item is in it; nothing is left to train on")
    learned = app_module.build_learned(config, open_store(ctx, config, create=True))  # an embedding cache
    learned.train(train)
    _, chosen = learned.scores([i.title for i in evaluated], [i.summary for i in evaluated])
    gold = [set(i.case_types) for i in evaluated]
    predictions = {
        "matcher": [{c for c, p in zip(codes, row) if p} for row in chosen],
        "trigger words": TriggerWords(config.case_types).predict(evaluated),
        "zero-shot": ZeroShot(config.case_types, learned.encoder).fit(train).predict(evaluated),
    }
    reports = [score(name, gold, predicted, codes) for name, predicted in predictions.items()]
    intervals = [bootstrap(gold, predicted, codes) for predicted in predictions.values()]
    support = {c: sum(1 for g in gold if c in g) for c in codes}
    click.echo(f"{len(evaluated)} items evaluated from {labels_path.name}; trained on {len(train)} labeled items\n")
    click.echo(render_table(reports, codes, support, intervals))
    click.echo("\n95% interval: bootstrap over the evaluated items (1,000 resamples)")
    splits = shifted_splits(items) if shift and any(i.split for i in items) else []
    if not splits:
        return
    targets = CURVE if curve else (TARGET_RECALL,)
    reports = [_shift_reports(learned, TriggerWords(config.case_types), split, codes, targets) for split in splits]
    click.echo("\nUnder shift (each item scored by a model that never saw it, its source or its years):\n")
    click.echo(render_shifts([by_target[TARGET_RECALL] for by_target in reports]))
    if curve:
        click.echo("\nThe trade-off: thresholds chosen for each out-of-fold recall target (shipped: "
                   f"{TARGET_RECALL:.2f}):\n")
        click.echo(render_curve({split.name: {t: r.matcher for t, r in by_target.items()}
                                 for split, by_target in zip(splits, reports)}))


CURVE = (0.80, 0.85, 0.90, 0.95, 0.98)


def _shift_reports(learned, trigger: TriggerWords, split: Split, codes: list[str],
                   targets: tuple[float, ...]) -> dict[float, ShiftReport]:
    """The matcher and trigger words on one split at each recall target: every fold trained once on its own
    items, its thresholds then moved (LearnedMatcher.retarget), the tested items pooled."""
    from .matching.learned import TARGET_RECALL

    predicted: dict[float, list[set[str]]] = {t: [] for t in targets}
    for fold in split.folds:
        learned.train(list(fold.train))
        for target in targets:
            learned.retarget(target)
            _, chosen = learned.scores([i.title for i in fold.test], [i.summary for i in fold.test])
            predicted[target] += [{c for c, p in zip(codes, row) if p} for row in chosen]
    learned.retarget(TARGET_RECALL)
    return {target: _shift_report(split, trigger, codes, found) for target, found in predicted.items()}


def _shift_report(split: Split, trigger: TriggerWords, codes: list[str], predicted: list[set[str]]) -> ShiftReport:
    from .matching.evaluate import ShiftReport, score

    tested = split.tested
    gold = [set(i.case_types) for i in tested]
    by_source = {}
    for source in sorted({i.source for i in tested}) if len(split.folds) > 1 else []:
        rows = [k for k, i in enumerate(tested) if i.source == source]
        by_source[source] = score("matcher", [gold[k] for k in rows], [predicted[k] for k in rows], codes)
    return ShiftReport(split.name, len(tested), score("matcher", gold, predicted, codes),
                       score("trigger words", gold, trigger.predict(tested), codes), by_source)


@click.command()
@click.pass_context
def retrain(ctx: click.Context) -> None:
    """Train the matcher now on the labeled items and all feedback, and show what it learned."""

    config = load_config(ctx)
    store = open_store(ctx, config)
    learned = app_module.build_learned(config, store)
    items = app_module.training_set(config, store)
    effect = _feedback_effect(learned, items, [c.code for c in config.case_types])
    model = learned.train(items)
    # Stored under its key: the running service's worker matches with it from its next item (no restart).
    store.trained.put(app_module.matcher_key(config, store, items), model, datetime.now(timezone.utc).isoformat())
    feedback = sum(1 for i in items if i.source == "feedback")
    click.echo(f"trained on {len(items)} items ({feedback} from feedback); stored for the service")
    if effect:
        click.echo(f"  validation micro-F1 without the feedback {effect['before']:.3f}, with it {effect['after']:.3f}")
        with store.transaction():  # the web page's health shows the last retrain's effect
            store.web.set_setting("last_retrain", json.dumps(
                {**effect, "at": datetime.now(timezone.utc).isoformat(timespec="minutes"), "feedback": feedback}))
    for code in model.codes:
        kind = "signals only" if model.classifiers[code] is None else f"threshold {model.thresholds[code]:.2f}"
        click.echo(f"  {code:<18} {model.positives[code]:>4} positives  {kind}")
    relevant = sum(1 for labels in model.train_labels if labels)
    gate = f"none below {model.relevance_floor:.2f}" if model.relevance is not None else "no gate (too few examples)"
    click.echo(f"  {'any case type':<18} {relevant:>4} positives  {gate}")


@click.command()
@click.pass_context
def prepare(ctx: click.Context) -> None:
    """Train the matcher on the bundled labels and this configuration and keep it with the installation (`make
    install` runs this), so that a first start on an empty database is ready in seconds."""
    import tempfile

    config = load_config(ctx)
    if config.matching.method != "embedding":
        click.echo("matching.method is not 'embedding': nothing to prepare")
        return
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="watcher-prepare-") as tmp:
        store = Store(Path(tmp) / "prepare.db")  # an empty database: the model a first start will look for
        try:
            path = app_module.build_matcher(config, store).prepare()
        finally:
            store.close()
    click.echo(f"matcher prepared in {time.perf_counter() - started:.0f}s: {path}")


def _feedback_effect(learned, items, codes) -> dict | None:
    """What the attorneys' feedback changed: micro-F1 on the bundled validation split, trained on the train split
    without and then with the feedback. None when there is no feedback or no validation split to measure on."""
    from .matching.evaluate import score

    feedback = [i for i in items if i.source == "feedback"]
    train = [i for i in items if i.split == "train" and i.source != "feedback"]
    validation = [i for i in items if i.split == "validation"]
    if not (feedback and validation and train):
        return None
    gold = [set(i.case_types) for i in validation]
    figures = {}
    for name, training in (("before", train), ("after", train + feedback)):
        learned.train(training)
        _, chosen = learned.scores([i.title for i in validation], [i.summary for i in validation])
        predicted = [{c for c, p in zip(codes, row) if p} for row in chosen]
        figures[name] = round(score(name, gold, predicted, codes).micro.f1, 4)
    return figures


@click.command()
@click.argument("change")
@click.argument("code")
@click.option("--relevant/--not-relevant", required=True, help="The attorney's judgement.")
@click.pass_context
def feedback(ctx: click.Context, change: str, code: str, relevant: bool) -> None:
    """Record whether CHANGE (an alert's Ref, W-..., or an id from `watcher changes`) matters to case type CODE;
    the next training folds it in."""
    config = load_config(ctx)
    if code not in {c.code for c in config.case_types}:
        raise InputError(f"feedback: unknown case type '{code}'")
    store = open_store(ctx, config)
    change_id = resolve_change(store, change)
    with store.transaction():
        store.feedback.record(change_id, code, relevant, datetime.now(timezone.utc))
    click.echo(f"recorded: change {change_id} is {'relevant' if relevant else 'not relevant'} to {code}")


# An attorney has the alert in hand, not the database: the Ref at its foot names the change (a team's copy adds
# a suffix, which is stored too).
_REF = re.compile(r"W-[0-9A-F]{10}(-[0-9A-F]{4})?")


def resolve_change(store: Store, given: str) -> int:
    """The change id an attorney names by an alert's Ref or by the id `watcher changes` lists."""
    text = given.strip()
    if text.isdigit():
        if not store.changes.exists(int(text)):
            raise InputError(f"feedback: no change with id {text} (see `watcher changes`)")
        return int(text)
    if _REF.fullmatch(text.upper()):
        change_id = store.outbox.change_for_ref(text.upper())
        if change_id is None:
            raise InputError(f"feedback: no alert with Ref {text.upper()} in this database")
        return change_id
    raise InputError(f"feedback: '{given}' is neither an alert's Ref (W-...) nor a change id")


@click.group()
def cases() -> None:
    """The firm's open matters (references and case facts only)."""


@cases.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.pass_context
def cases_import(ctx: click.Context, file: Path) -> None:
    """Replace the caseload with FILE.csv (matter_ref, case_type, team, status, ...)."""
    from .matching.caseload import parse_caseload

    config = load_config(ctx)
    try:
        text = file.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(f"{file.name}: not UTF-8 text") from None
    matters = parse_caseload(text, file.name, [c.code for c in config.case_types], config.matching.aliases)
    store = open_store(ctx, config, create=True)  # the caseload may come before the service's first start
    with store.transaction():
        store.matters.replace_all(matters, datetime.now(timezone.utc))
    counts = store.matters.open_counts()
    click.echo(f"imported {len(matters)} matters; open: " + (", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "none"))


def register(group: click.Group) -> None:
    for command in (classify, evaluate, retrain, feedback, cases, prepare):
        group.add_command(command)
