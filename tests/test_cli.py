"""The `watcher` command as an admin uses it: parse, config check, check, status, changes, feedback by Ref, run +
SIGTERM."""

from __future__ import annotations

import json
import shutil
import os
import selectors
import signal
import subprocess
import sys
from datetime import datetime, timezone

from click.testing import CliRunner

from watcher.app import load_config
from watcher.cli import main
from watcher.models import Message
from watcher.store import Store

from .conftest import REPO, Reply
from .feeds import rss, uscis_items


def invoke(*args: str, env: dict | None = None):
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def test_parse_prints_json_lines(tmp_path):
    feed = tmp_path / "feed.xml"
    feed.write_bytes(rss(uscis_items()))
    result = invoke("parse", "rss", str(feed))
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.output.splitlines()]
    assert len(records) == 12
    assert {"id", "source", "kind", "title", "summary", "url", "published", "facts"} <= set(records[0])
    assert records[0]["published"] == "2024-07-30T13:54:18+00:00"


def test_parse_errors_are_one_line(tmp_path):
    page = tmp_path / "page.html"
    page.write_bytes(b"<html><body>Access denied</body></html>")
    result = CliRunner().invoke(main, ["parse", "rss", str(page)])
    assert result.exit_code == 2
    assert result.output.strip().startswith("error: ") and len(result.output.strip().splitlines()) == 1
    unknown = CliRunner().invoke(main, ["parse", "telegraph", str(page)])
    assert unknown.exit_code == 2 and "unknown kind 'telegraph'" in unknown.output


def test_config_check_ok_and_bad(tmp_path):
    ok = invoke("--config", str(REPO / "config"), "config", "check")
    assert ok.exit_code == 0 and "22 case types" in ok.output and "cross-cutting relations" in ok.output
    bad = CliRunner().invoke(main, ["--config", str(tmp_path), "config", "check"])
    assert bad.exit_code == 2 and "watcher.toml: file not found" in bad.output
    # A relation naming a code that does not exist is named by file and path, in one line.
    shutil.copytree(REPO / "config", tmp_path / "edited")
    types = tmp_path / "edited" / "case_types.toml"
    types.write_text(types.read_text().replace('reaches = ["I-485"]', 'reaches = ["I-458"]', 1))
    typo = CliRunner().invoke(main, ["--config", str(tmp_path / "edited"), "config", "check"])
    assert typo.exit_code == 2 and len(typo.output.strip().splitlines()) == 1
    assert "case_types.toml: relation[4].reaches: unknown case type 'I-458'" in typo.output


def test_config_check_resolves_targets(make_config, server):
    directory = make_config([("a", server.url("/f"))],
                            '[[target]]\nname = "mail"\nurl_env = "WATCHER_TEST_MAIL"\ntags = ["x"]\n')
    missing = CliRunner().invoke(main, ["--config", str(directory), "config", "check"], env={"WATCHER_TEST_MAIL": ""})
    assert missing.exit_code == 2 and "'WATCHER_TEST_MAIL' is not set" in missing.output
    nomatch = CliRunner().invoke(main, ["--config", str(directory), "config", "check"],
                                 env={"WATCHER_TEST_MAIL": "nosuchscheme://x"})
    assert nomatch.exit_code == 2 and "apprise cannot use this URL" in nomatch.output


def test_check_status_and_changes(make_config, server, tmp_path):
    server.routes["/f"] = Reply(200, rss(uscis_items()), {"Content-Type": "application/rss+xml"})
    directory = make_config([("uscis-alerts", server.url("/f")), ("down", server.url("/missing"))])
    result = CliRunner().invoke(main, ["--config", str(directory), "check", "--all"])
    assert result.exit_code == 1  # one source failed
    assert "uscis-alerts: baseline new=12" in result.output
    assert "down: error" in result.output and "[not_found]" in result.output
    status = invoke("--config", str(directory), "status", "--json")
    by_id = {s["id"]: s for s in json.loads(status.output)["sources"]}
    assert by_id["uscis-alerts"]["item_count"] == 12 and by_id["uscis-alerts"]["consecutive_failures"] == 0
    assert by_id["down"]["consecutive_failures"] == 1 and by_id["down"]["last_error_class"] == "not_found"
    table = invoke("--config", str(directory), "status").output
    assert "[not_found]" in table and "outbox: empty" in table
    listed = invoke("--config", str(directory), "changes", "--since", "2000-01-01").output.splitlines()
    assert len(listed) == 12 and "uscis-alerts" in listed[0]


def test_feedback_names_the_change_by_the_ref_on_its_alert(make_config, server):
    server.routes["/f"] = Reply(200, rss(uscis_items()))
    directory = make_config([("uscis-alerts", server.url("/f"))])
    assert CliRunner().invoke(main, ["--config", str(directory), "check", "--all"]).exit_code == 0
    cfg = load_config(directory)
    store = Store(cfg.storage_path)
    now = datetime.now(timezone.utc)
    with store.transaction():
        store.outbox.enqueue(Message("W-00AB12CD34-9F0E", "k", 1, "s", "t", "h", ("console",)), 3, now)
        store.outbox.enqueue(Message("W-1111111111", "agenda", 0, "s", "t", "h", ("console",), kind="agenda"),
                             None, now)
    store.close()

    def feedback(change: str):
        return CliRunner().invoke(main, ["--config", str(directory), "feedback", change, "TPS", "--relevant"])

    ok = feedback("w-00ab12cd34-9f0e")  # as copied from a team's alert, in any case
    assert ok.exit_code == 0 and "recorded: change 3 is relevant to TPS" in ok.output, ok.output
    assert "no alert with Ref W-1111111111" in feedback("W-1111111111").output  # an agenda's Ref: no change
    assert "no alert with Ref W-2222222222" in feedback("W-2222222222").output
    assert "'Ref: W-00AB' is neither an alert's Ref (W-...) nor a change id" in feedback("Ref: W-00AB").output
    store = Store(cfg.storage_path)
    assert [(f.change_id, f.case_type, f.relevant) for f in store.feedback.labels()] == [(3, "TPS", True)]
    listed = CliRunner().invoke(main, ["--config", str(directory), "changes"]).output.splitlines()
    assert sorted(int(line.split()[0]) for line in listed) == list(range(1, 13))  # the ids feedback takes
    store.close()


def test_bad_arguments_are_clear(make_config, server):
    directory = make_config([("a", server.url("/f"))])
    both = CliRunner().invoke(main, ["--config", str(directory), "check", "a", "--all"])
    assert both.exit_code == 2 and "not both or neither" in both.output
    unknown = CliRunner().invoke(main, ["--config", str(directory), "check", "zzz"])
    assert unknown.exit_code == 2 and "unknown source 'zzz' (configured: a)" in unknown.output
    date = CliRunner().invoke(main, ["--config", str(directory), "changes", "--since", "yesterday"])
    assert date.exit_code == 2 and "--since" in date.output


def test_run_stops_cleanly_on_sigterm(make_config, server, tmp_path):
    directory = make_config([("a", server.url("/f"))])
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    process = subprocess.Popen([sys.executable, "-m", "watcher.cli", "--config", str(directory), "run"],
                               stderr=subprocess.PIPE, text=True, env=env)
    try:
        selector = selectors.DefaultSelector()
        selector.register(process.stderr, selectors.EVENT_READ)
        lines = []
        while not any("watcher running" in line for line in lines):
            assert selector.select(timeout=60), "no start-up line within 60 s"
            line = process.stderr.readline()
            assert line, f"process exited early: {lines}"
            lines.append(line)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
        assert "stopping" in process.stderr.read()
    finally:
        if process.poll() is None:
            process.kill()


def _recording(name: str):
    from .conftest import SHARED
    from .feeds import DATA
    return SHARED / "fixtures" / name if (SHARED / "fixtures" / name).exists() else DATA / name


import pytest  # noqa: E402


@pytest.mark.parametrize("kind, recording, count", [
    ("visa_bulletin", "visa_bulletin_2026_07.html", 1),
    ("federal_register", "federalregister_uscis_documents_trimmed.json", 3),
    ("eoir_precedents", "eoir_bia_volume_page.html", 90),
    ("uscis_newsroom", "uscis_newsroom_all_news_fragment.html", 6),
    ("uscis_policy_manual", "uscis_policy_manual_updates_trimmed.html", 2),
    ("scotus", "scotus_slip_opinions.html", 58),
])
def test_parse_every_kind_on_its_recording(kind, recording, count):
    result = invoke("parse", kind, str(_recording(recording)))
    assert result.exit_code == 0, result.output
    assert len(result.output.splitlines()) == count


def test_cases_import_counts_open_matters_and_refuses_names(tmp_path, make_config, server):
    directory = make_config([("a", server.url("/f"))])
    good = tmp_path / "cases.csv"
    good.write_text("matter_ref,case_type,team,status\nM-1,H-1B,business,open\nM-2,H-1B,business,open\n"
                    "M-3,TPS,humanitarian,closed\n")
    result = invoke("--config", str(directory), "cases", "import", str(good))
    assert result.exit_code == 0 and "imported 3 matters; open: H-1B 2" in result.output
    bad = tmp_path / "bad.csv"
    bad.write_text("matter_ref,client_name,case_type,team\nM-9,Jane Roe,TPS,humanitarian\n")
    refused = CliRunner().invoke(main, ["--config", str(directory), "cases", "import", str(bad)])
    assert refused.exit_code == 2 and "refusing column 'client_name'" in refused.output
    from watcher.store import Store
    store = Store(directory.parent / "watcher.db")
    assert store.matters.open_counts() == {"H-1B": 2}  # the refused file changed nothing
    assert "Jane Roe" not in (directory.parent / "watcher.db").read_bytes().decode("latin-1")
    store.close()
