"""The splits `watcher eval` reports under shift, on real labeled items, and the command that prints them."""

from __future__ import annotations

import json
from datetime import date

from click.testing import CliRunner

from watcher.cli import main
from watcher.matching.labels import LabeledItem, load_labeled
from watcher.matching.shifts import item_date, shifted_splits, source_split, time_split

from .conftest import REPO

LABELED = load_labeled(REPO / "watcher" / "data" / "labeled.jsonl")


def item(n: int, source: str, when: str, split: str = "train") -> LabeledItem:
    return LabeledItem(str(n), f"title {n}", "", (), split, source, when)


def test_dates_as_the_sources_write_them():
    assert item_date(item(1, "fr", "2023-04-05")) == date(2023, 4, 5)
    # USCIS RSS: two-digit years (SOURCES.md).
    assert item_date(item(2, "rss", "Fri, 02 Sep 22 16:51:39 -0400")) == date(2022, 9, 2)
    assert item_date(item(3, "cbp", "Tue, 28 Jun 2016 14:40:19 -0400")) == date(2016, 6, 28)
    for bad in ("", "soon", "2026-02-30", "Mon, 99 Foo 2020"):
        assert item_date(item(4, "x", bad)) is None
    # Every bundled item has a readable date but the travel advisories, EOIR's memoranda lists (they date nothing),
    # the items of issue 28's listings whose day no stored copy states (5 of 21), and USCIS policy memoranda and
    # Policy Manual updates whose listing row was stored without its day (28 of 107).
    undated = [i.source for i in LABELED if item_date(i) is None]
    assert set(undated) == {"state-travel-advisories", "eoir-policy", "dol-oflc", "sevp", "state-visa-news",
                            "uscis-policy-memoranda", "uscis-policy-manual"}
    assert sum(s in ("dol-oflc", "sevp", "state-visa-news") for s in undated) == 5
    assert sum(s in ("uscis-policy-memoranda", "uscis-policy-manual") for s in undated) == 28


def test_leave_one_source_out_scores_each_item_once_with_a_model_that_never_saw_its_source():
    items = [item(n, "abc"[n % 3], "2021-01-01") for n in range(9)] + [item(9, "feedback", "2021-01-01")]
    split = source_split(items)
    assert [sorted({i.source for i in fold.test}) for fold in split.folds] == [["a"], ["b"], ["c"]]
    for fold in split.folds:
        assert not {i.source for i in fold.train} & {i.source for i in fold.test}
    assert sorted(i.id for i in split.tested) == [str(n) for n in range(9)]  # attorneys' feedback is no source


def test_the_time_split_trains_on_the_past_only():
    split = time_split(LABELED)
    [fold] = split.folds
    assert max(item_date(i) for i in fold.train) < date(2022, 1, 1) <= min(item_date(i) for i in fold.test)
    assert len(fold.train) > 300 and len(fold.test) > 1000
    assert time_split([item(1, "a", "2023-01-01")]) is None  # nothing before the cut: no split


def test_eval_prints_the_shifted_splits_beside_trigger_words(tmp_path, cache_store):
    # A small file with splits: two sources, both sides of 2022. Each split is trained and scored for real.
    chosen = [i for source in ("uscis-news-releases", "eoir-precedents") for split in ("train", "validation")
              for i in [i for i in LABELED if i.source == source and i.split == split][:20]]
    labels = tmp_path / "labels.jsonl"
    labels.write_text("".join(json.dumps({"id": i.id, "title": i.title, "summary": i.summary, "date": i.date,
                                          "source": i.source, "split": i.split, "case_types": list(i.case_types)})
                              + "\n" for i in chosen))
    result = CliRunner().invoke(main, ["--config", str(REPO / "config"), "--db", str(cache_store.path), "eval",
                                       "--labels", str(labels), "--curve"])
    assert result.exit_code == 0, result.output
    shifted = result.output.split("Under shift")[1]
    names = [s.name for s in shifted_splits(load_labeled(labels))]
    assert names[0] == "validation split" and names[1] == "leave one source out" and names[2].startswith("time")
    for name in names:
        assert name[:34] in shifted
    assert "  eoir-precedents" in shifted and "  uscis-news-releases" in shifted
    assert "trigger words" in shifted and "spare" in shifted
    curve = result.output.split("The trade-off")[1]
    assert all(f"{t:.2f}" in curve for t in (0.80, 0.85, 0.90, 0.95, 0.98))
