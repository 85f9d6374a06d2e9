"""The hardened unit (systemd-analyze where it exists), the notify protocol, the watchdog and the heartbeat."""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

from watcher import app as app_module
from watcher.models import SourceState
from watcher.notify.health import compose_heartbeat
from watcher.scheduler import DELIVERY_BOUND, PROGRESS_WINDOW, Service
from watcher.sources.rss import RssSource
from watcher.systemd import notify, watchdog_seconds

from .conftest import REPO

UNIT = REPO / "systemd" / "watcher.service"
ANALYZE = shutil.which("systemd-analyze")
needs_analyze = pytest.mark.skipif(ANALYZE is None, reason="systemd-analyze not installed")


@needs_analyze
def test_unit_exposure_is_ok():
    result = subprocess.run([ANALYZE, "security", "--offline=true", str(UNIT)], capture_output=True, text=True)
    score = float(re.search(r"Overall exposure level for watcher.service: ([\d.]+)", result.stdout).group(1))
    assert score < 2.0, result.stdout[-2000:]


@needs_analyze
def test_unit_verifies_cleanly(tmp_path):
    # verify checks that ExecStart exists: point it at this checkout's installed entry point.
    unit = tmp_path / "watcher.service"
    unit.write_text(UNIT.read_text().replace("/opt/watcher/.venv/bin/watcher", str(Path(sys.executable).parent / "watcher")))
    result = subprocess.run([ANALYZE, "verify", str(unit)], capture_output=True, text=True)
    assert result.returncode == 0 and result.stderr.strip() == "", result.stderr


def test_unit_keeps_the_settings_that_matter():
    text = UNIT.read_text()
    for setting in ("Type=notify", "WatchdogSec=", "DynamicUser=yes", "StateDirectoryMode=0700", "UMask=0077",
                    "LoadCredential=", "HF_HUB_OFFLINE=1", "NoNewPrivileges=yes", "ProtectSystem=strict"):
        assert setting in text, setting
    assert "MemoryDenyWriteExecute=yes" not in text  # breaks PyTorch's JIT (RELIABILITY c)


@pytest.fixture
def notify_socket(tmp_path):
    path = tmp_path / "notify"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.settimeout(5)
    yield str(path), sock
    sock.close()


def test_notify_protocol(notify_socket):
    path, sock = notify_socket
    assert notify("READY=1\nSTATUS=polling 3 sources", {"NOTIFY_SOCKET": path})
    assert sock.recv(1024) == b"READY=1\nSTATUS=polling 3 sources"
    assert notify("READY=1", {}) is False  # outside systemd: nothing happens
    assert watchdog_seconds({"WATCHDOG_USEC": "300000000"}) == 300
    assert watchdog_seconds({"WATCHDOG_USEC": "300000000", "WATCHDOG_PID": "1"}) is None  # meant for another pid


def test_watchdog_is_fed_only_while_both_workers_are_alive(notify_socket, make_config, server):
    path, sock = notify_socket
    from .conftest import Reply
    from .feeds import rss, uscis_items
    server.routes["/f"] = Reply(200, rss(uscis_items()))
    app = app_module.build_app(app_module.load_config(make_config([("a", server.url("/f"))])), kinds={"rss": RssSource},
                               environ={})
    ticks = [1000.0]
    service = Service(app, clock=lambda: ticks[0], environ={"NOTIFY_SOCKET": path})
    service.poll(app.sources[0])                 # a completed job on each worker
    service.dispatch()
    ticks[0] += PROGRESS_WINDOW - 1
    assert service.feed_watchdog() and sock.recv(64) == b"WATCHDOG=1"
    ticks[0] += 2                                # neither worker completed anything for longer than the window
    assert service.feed_watchdog() is False
    service.dispatch()                           # delivery alive again, polling still silent: still starved
    assert service.feed_watchdog() is False
    service.tick()
    assert service.feed_watchdog()
    with service.delivery.job():                 # a send in progress is alive within its bound...
        ticks[0] += DELIVERY_BOUND - 1
        service.tick()
        assert service.feed_watchdog()
        ticks[0] += 2                            # ...and hung past it
        service.tick()
        assert service.feed_watchdog() is False
    app.close()


def test_heartbeat_summarises_health_backlog_and_dead_letters():
    states = [SourceState("a"), SourceState("b", health="failing", last_error_class="dns"),
              SourceState("c", health="silent")]
    now = datetime(2026, 11, 27, 7, tzinfo=timezone.utc)
    message = compose_heartbeat(states, {"pending": 3, "sending": 1, "dead": 2}, now, ("ops",))
    assert message.subject == "[watcher ops] Daily heartbeat 2026-11-27: 2 need attention"
    for expected in ("1 ok, 1 failing, 1 silent, 0 parser broken", "4 waiting, 2 dead letters", "b (failing: dns)"):
        assert expected in message.text
    assert compose_heartbeat(states, {}, now, ("ops",)).ref == message.ref  # one a day, whatever reruns


def test_backup_command(make_config, server, tmp_path):
    from click.testing import CliRunner

    from watcher.cli import main
    from watcher.store import Store
    directory = make_config([("a", server.url("/f"))])
    copy_path = tmp_path / "b" / "copy.db"
    # No database yet: a backup of nothing is an error naming the file it looked for, and creates nothing.
    missing = CliRunner().invoke(main, ["--config", str(directory), "backup", str(copy_path)])
    assert missing.exit_code == 2 and f"no database at {tmp_path / 'watcher.db'}" in missing.output
    assert not (tmp_path / "watcher.db").exists() and not copy_path.exists()
    result = CliRunner().invoke(main, ["--config", str(directory), "backup", "--init", str(copy_path)])
    assert result.exit_code == 0 and f"backup of {tmp_path / 'watcher.db'} written" in result.output
    assert copy_path.stat().st_mode & 0o777 == 0o600
    copy = Store(copy_path)
    assert copy.integrity() == ["ok"]
    copy.close()
