"""The matcher's worker process (matching/worker.py): the service's own process never loads the model, a worker
answers as the in-process matcher would, goes away when idle or broken, and new feedback is trained in the
background and swapped in. Real processes, a real model, a real SQLite file; a small label file keeps training
short."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
from click.testing import CliRunner

from watcher import app as app_module
from watcher.cli import main
from watcher.errors import MatcherError
from watcher.matching.worker import serve
from watcher.models import Change
from watcher.store import Store

from .conftest import REPO, Reply
from .feeds import rss, uscis_items

HAITI = Change("uscis-alerts", "haiti", "alert", "USCIS Extends Temporary Protected Status for Haiti",
               "Employment authorization documents for TPS Haiti beneficiaries are automatically extended.",
               "https://www.uscis.gov/newsroom/alerts/haiti")
CAP = Change("uscis-alerts", "cap", "alert", "H-1B Cap Season: registration period opens in March",
             "Prospective petitioners for H-1B cap-subject petitions must register electronically.",
             "https://www.uscis.gov/newsroom/alerts/h1b-cap")


@pytest.fixture
def small_config(tmp_path, make_config, server):
    """A config whose matcher learns from 250 bundled items (seconds to train) and a feed of real USCIS items."""
    labeled = (REPO / "watcher" / "data" / "labeled.jsonl").read_text().splitlines()
    (tmp_path / "small.jsonl").write_text("\n".join(labeled[:250]) + "\n")
    server.routes["/f"] = Reply(200, rss(uscis_items()))
    directory = make_config([("uscis-alerts", server.url("/f"))],
                            extra=f'\n[matching]\nmethod = "embedding"\nlabels = "{tmp_path / "small.jsonl"}"\n')
    return app_module.load_config(directory)


def _process(config, store, **kwargs):
    from watcher.matching.worker import MatcherProcess

    return MatcherProcess(config, lambda: app_module.matcher_key(config, store), store.trained.has,
                          store.feedback.mark, **kwargs)


def test_the_service_process_imports_neither_torch_nor_scikit_learn():
    # What `watcher run` imports. Were the learned matcher imported here, the service would carry 100 MB of
    # scikit-learn and scipy (and torch, 400 MB more) all day.
    code = ("import sys, watcher.cli, watcher.scheduler, watcher.app, watcher.matching.worker; "
            "print(sorted(m for m in ('torch', 'sklearn', 'scipy', 'sentence_transformers') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True)
    assert result.stdout.strip() == "[]"


def test_the_worker_matches_as_the_in_process_matcher_and_exits_when_idle(small_config):
    store = Store(small_config.storage_path)
    in_process = app_module.build_matcher(small_config, store)
    expected = [in_process.match(HAITI), in_process.match(CAP)]
    assert any(m.case_type == "TPS" for m in expected[0])
    now = {"t": 1000.0}
    worker = _process(small_config, store, clock=lambda: now["t"])
    assert not worker.running  # nothing to classify yet: no process
    assert [worker.match(HAITI), worker.match(CAP)] == expected
    pid = worker._process.pid
    assert worker.model_in_use() == app_module.matcher_key(small_config, store)
    now["t"] += 599
    assert not worker.release_idle(600)
    now["t"] += 2
    assert worker.release_idle(600) and not worker.running
    assert not os.path.exists(f"/proc/{pid}") or "zombie" in open(f"/proc/{pid}/status").read().lower()
    assert worker.match(HAITI) == expected[0] and worker._process.pid != pid  # the next item starts a new one
    worker.close()
    assert not worker.running
    store.close()


def test_a_bulletin_or_a_paperwork_notice_never_starts_the_worker(small_config):
    store = Store(small_config.storage_path)
    worker = _process(small_config, store)
    paperwork = Change("federal-register", "pra", "federal_register", "Agency Information Collection Activities",
                       "", "https://www.federalregister.gov/d/x", facts={"paperwork": True})
    assert worker.match(paperwork) == [] and not worker.running
    store.close()


def hangs(conn, config):
    """A worker that takes requests and never answers."""
    while True:
        conn.recv()


def dies(conn, config):
    """A worker that exits on its first request, as one killed by the kernel's OOM killer would."""
    conn.recv()
    os._exit(9)


@pytest.mark.parametrize("target, said", [(hangs, "gave no answer in 1s"), (dies, "exited (exit code 9)")])
def test_a_hung_or_dead_worker_is_a_matcher_error_and_the_next_item_gets_a_new_one(small_config, target, said):
    store = Store(small_config.storage_path)
    worker = _process(small_config, store, answer_seconds=1, target=target)
    with pytest.raises(MatcherError, match=re.escape(said)):
        worker.match(HAITI)
    assert not worker.running  # killed, not left behind
    worker.target, worker.answer_seconds = serve, 600
    assert any(m.case_type == "TPS" for m in worker.match(HAITI))
    worker.close()
    store.close()


def test_new_feedback_is_trained_in_the_background_and_swapped_in(small_config):
    config_dir = str(small_config.storage_path.parent / "config")
    assert CliRunner().invoke(main, ["--config", config_dir, "check", "--all"]).exit_code == 0
    store = Store(small_config.storage_path)
    worker = _process(small_config, store)
    before = worker.match(HAITI)
    first = worker.model_in_use()
    assert worker.refresh() is None  # the model for these inputs is stored: nothing to train

    ok = CliRunner().invoke(main, ["--config", config_dir, "feedback", "1", "H-1B", "--not-relevant"])
    assert ok.exit_code == 0, ok.output
    changed = app_module.matcher_key(small_config, store)
    assert changed != first and not store.trained.has(changed)
    # Until the new model is there, items are matched with the one in use: no alert waits for training.
    assert worker.match(HAITI) == before and worker.model_in_use() == first

    assert "retraining in the background" in worker.refresh()
    worker._retrainer.join(300)
    assert worker.refresh() == "background retraining done: the next classification uses the new model"
    assert store.trained.has(changed)
    worker.match(CAP)
    assert worker.model_in_use() == changed
    worker.close()
    store.close()


def test_a_failed_background_retrain_is_said_and_tried_again_an_hour_later(small_config, tmp_path):
    store = Store(small_config.storage_path)
    now = {"t": 0.0}
    worker = _process(small_config, store, clock=lambda: now["t"])
    worker.config = None  # the retraining process cannot even open the database: it exits non-zero
    assert "retraining in the background" in worker.refresh()
    worker._retrainer.join(120)
    assert worker.refresh().startswith("background retraining failed (exit code 1)")
    assert worker.refresh() is None  # not every minute
    now["t"] += 3601
    assert "retraining in the background" in worker.refresh()
    worker.close()
    store.close()


def test_retrain_from_the_command_line_is_what_the_running_service_reads(small_config):
    config_dir = str(small_config.storage_path.parent / "config")
    assert CliRunner().invoke(main, ["--config", config_dir, "check", "--all"]).exit_code == 0
    assert CliRunner().invoke(main, ["--config", config_dir, "feedback", "1", "TPS", "--relevant"]).exit_code == 0
    result = CliRunner().invoke(main, ["--config", config_dir, "retrain"])
    assert result.exit_code == 0, result.output
    store = Store(small_config.storage_path)
    worker = _process(small_config, store)
    assert worker.refresh() is None  # stored by the command: the service has nothing to retrain
    worker.match(HAITI)
    assert worker.model_in_use() == app_module.matcher_key(small_config, store)
    worker.close()
    store.close()
