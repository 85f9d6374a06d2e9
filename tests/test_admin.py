"""Hardening round two, the admin's day and the rest of the attack list (issue 25, classes 7-10 and 12-15): secrets
on screen, the backup's temporary file, delivery on its own worker, credentials outside systemd, which database
a command reads, crontab days, and what `status` says."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from datetime import datetime, timezone

import pytest
from aiosmtpd.controller import Controller
from click.testing import CliRunner

from watcher import app as app_module
from watcher.cli import main
from watcher.config import crontab_fields
from watcher.models import Message
from watcher.notify.dispatch import Dispatcher, build_targets
from watcher.redact import redact, redact_url
from watcher.scheduler import Service
from watcher.sources.rss import RssSource
from watcher.store import Store

from .conftest import REPO, Mailbox, Reply, free_port
from .feeds import rss, uscis_items

NOW = datetime(2026, 11, 27, 12, tzinfo=timezone.utc)


def invoke(*args, env=None):
    return CliRunner().invoke(main, list(args), env=env or {})


# -- class 8: secrets on screen ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("url, secrets", [
    ("slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ/#general", ["TIiajkdnlazkcOXrIdevi7FQ", "A1BRTD4JD"]),
    ("slack://T1JJ3T3L2/A1BRTD4JD", ["T1JJ3T3L2", "A1BRTD4JD"]),                         # malformed: a token short
    ("discord://4174216298/JHMHI8qBe7bk2ZwO5U711o3dV_js", ["JHMHI8qBe7bk2ZwO5U711o3dV_js", "4174216298"]),
    ("discord://onlyonepart-SECRET", ["onlyonepart-SECRET"]),                               # malformed
    ("tgram://123456789:AAHsecretTOKENvalue/12345", ["AAHsecretTOKENvalue"]),
    ("tgram://not-a-bot-token-SECRET", ["not-a-bot-token-SECRET"]),                          # malformed
    ("mailtos://it-admin:hunter2@smtp.firm.example?to=a@firm.example", ["hunter2"]),
    ("mailtos://it-admin:hunter2@", ["hunter2"]),                                           # malformed
    ("workflows://prod-00.westus.logic.azure.com:443/wf1234abcd/SIGsecretSIG", ["wf1234abcd", "SIGsecretSIG"]),
    ("nosuchscheme://user:hunter2@host/tokenXYZ?apikey=K3Y", ["hunter2", "tokenXYZ", "K3Y"]),
    ("json://hooks.firm.example/path?token=abc123secret", ["abc123secret"]),
])
def test_every_secret_part_of_a_target_url_is_masked(url, secrets):
    shown = redact_url(url)
    assert shown.split("://")[0] in url  # the scheme stays: the admin can tell which target it is
    for secret in secrets:
        assert secret not in shown
        assert secret not in redact(f"apprise failed for {url}: timeout")


@pytest.mark.parametrize("url, secret", [("slack://T1JJ3T3L2/A1BRTD4JD", "A1BRTD4JD"),
                                         ("discord://onlyonepart-SECRET", "onlyonepart-SECRET"),
                                         ("mailtos://it-admin:hunter2@", "hunter2")])
def test_config_check_names_a_malformed_target_without_its_secret(make_config, server, url, secret):
    directory = make_config([("a", server.url("/f"))], '[[target]]\nname = "chat"\nurl_env = "T_URL"\ntags = ["x"]\n')
    result = invoke("--config", str(directory), "config", "check", env={"T_URL": url})
    assert result.exit_code == 2 and "target 'chat': apprise cannot use this URL" in result.output
    assert secret not in result.output


# -- class 7, the markup half -------------------------------------------------------------------------------------------

def test_the_dead_letter_escapes_the_failed_alerts_subject(tmp_path):
    from datetime import timedelta
    store = Store(tmp_path / "w.db")
    message = Message("W-1", "k", 1, '<img src=x onerror=alert(1)> Rule', "t", "<p>h</p>", ("slack",))
    with store.transaction():
        store.outbox.enqueue(message, None, NOW - timedelta(hours=25))
    targets = build_targets({"slack": "json://127.0.0.1:9/hook", "mail": "json://127.0.0.1:9/other"})
    dispatcher = Dispatcher(store, targets, now=lambda: NOW, ops=("mail",))
    dispatcher.run()
    letters = [d for d in store.outbox.due(NOW + timedelta(days=1), 10) if d.kind == "dead-letter"]
    assert letters and "<img" not in letters[0].html and "&lt;img src=x onerror=alert(1)&gt;" in letters[0].html
    store.close()


@pytest.mark.parametrize("hostile, live", [
    ('[USCIS](https://evil.example "Official USCIS")', "](https://evil.example"),
    ("[USCIS][1]\n\n[1]: https://evil.example", "[USCIS][1]"),
    ("[USCIS]\n\n[USCIS]: https://evil.example", "[USCIS]:"),
    ("[USCIS](<https://evil.example>)", "](<"),
])
def test_markdown_links_of_every_form_are_defused_for_chat(hostile, live):
    from watcher.notify.render import safe_text
    text = safe_text(hostile, 1000)
    assert live not in text and "https://evil.example" in text  # the target is shown, never hidden behind a name


def test_a_link_in_chat_text_reaches_the_target_byte_identical():
    from watcher.notify.render import safe_text
    url = "https://www.supremecourt.gov/opinions/22pdf/22-58_3e04.pdf?x=a_b*c~d"
    assert url in safe_text(f"Opinion *today*: {url} _read_", 1000)


# -- class 9: the backup's temporary file -----------------------------------------------------------------------------

def test_a_backup_killed_midway_leaves_nothing_readable_by_others(make_config, server, tmp_path):
    server.routes["/f"] = Reply(200, rss(uscis_items()))
    directory = make_config([("a", server.url("/f"))])
    assert invoke("--config", str(directory), "check", "--all").exit_code == 0
    destination = tmp_path / "backups" / "watcher.db"
    env = {**os.environ, "PYTHONPATH": str(REPO / "tests"), "WATCHER_KILL_AT": "mid_backup", "HF_HUB_OFFLINE": "1"}
    killed = subprocess.run([sys.executable, "-c", "import os; os.umask(0o022); import killhook; "
                             "from watcher.cli import main; main()", "--config", str(directory), "backup",
                             str(destination)], env=env, capture_output=True, text=True, timeout=120)
    assert killed.returncode == -9, killed.stderr
    partial = destination.with_name(".watcher.db.tmp")
    assert partial.exists() and partial.stat().st_mode & 0o777 == 0o600
    assert not destination.exists()
    # The next backup replaces the leftover and completes.
    assert invoke("--config", str(directory), "backup", str(destination)).exit_code == 0
    assert destination.stat().st_mode & 0o777 == 0o600 and not partial.exists()


# -- class 10: delivery never starves polling or the watchdog ----------------------------------------------------------

class SlowMailbox(Mailbox):
    """Holds the first message until released; counts every message after that."""

    def __init__(self, expected: int):
        super().__init__()
        self.gate, self.holding, self.all_in = threading.Event(), threading.Event(), threading.Event()
        self.expected = expected

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        import asyncio
        self.holding.set()
        while not self.gate.is_set():
            await asyncio.get_running_loop().run_in_executor(None, self.gate.wait, 0.5)
        result = await super().handle_DATA(server, session, envelope)
        if len(self.messages) >= self.expected:
            self.all_in.set()
        return result


def test_a_hundred_slow_deliveries_never_hold_up_a_poll_or_the_watchdog(make_config, server, tmp_path):
    import socket as socketlib
    mailbox = SlowMailbox(100)
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    notify_path = str(tmp_path / "notify.sock")
    notify_socket = socketlib.socket(socketlib.AF_UNIX, socketlib.SOCK_DGRAM)
    notify_socket.bind(notify_path)
    notify_socket.settimeout(10)
    server.routes["/f"] = Reply(200, rss(uscis_items()))
    target = '[[target]]\nname = "mail"\nurl_env = "M"\ntags = ["x"]\n'
    directory = make_config([("a", server.url("/f"))], target)
    url = f"mailto://127.0.0.1:{controller.port}?from=w@firm.example&to=a@firm.example"
    app = app_module.build_app(app_module.load_config(directory), kinds={"rss": RssSource}, environ={"M": url})
    for target in app.dispatcher.targets.values():
        for plugin in target.apprise:
            plugin.request_rate_per_sec = 0  # apprise waits 5.5 s between two e-mails; the sink is the slow part here
    with app.store.transaction():
        for i in range(100):
            app.store.outbox.enqueue(Message(f"W-{i:04d}", f"k{i}", 1, f"alert {i}", "text", "<p>html</p>",
                                             ("mail",)), None, datetime.now(timezone.utc))
    polled = threading.Event()
    service = Service(app, on_cycle=polled.set, environ={"NOTIFY_SOCKET": notify_path})
    service.add_jobs()
    service.scheduler.start()
    try:
        service.wake_delivery()
        assert mailbox.holding.wait(30)            # the delivery worker is inside an SMTP conversation
        service.scheduler.modify_job("source:a", next_run_time=datetime.now(timezone.utc))
        assert polled.wait(30)                     # a source cycle completed meanwhile, on the other worker
        assert app.store.sources.get("a").item_count == 12
        assert service.feed_watchdog()             # both workers alive: the watchdog is fed while mail drains
        assert notify_socket.recv(64) == b"WATCHDOG=1"
        assert not mailbox.all_in.is_set()
        mailbox.gate.set()
        for _ in range(10):                        # each dispatch run sends what its budget allows, then re-arms
            if mailbox.all_in.wait(15):
                break
            service.wake_delivery()
        assert len(mailbox.messages) == 100
    finally:
        mailbox.gate.set()
        service.stop.set()
        service.scheduler.shutdown(wait=True)
        controller.stop()
        notify_socket.close()
        app.close()


def test_a_dispatch_run_stops_starting_sends_when_its_budget_is_spent(tmp_path):
    store = Store(tmp_path / "w.db")
    with store.transaction():
        for i in range(10):
            store.outbox.enqueue(Message(f"W-{i}", f"k{i}", 1, f"s{i}", "t", "h", ("console",)), None, NOW)
    ticks = iter(range(1000))
    import io
    result = Dispatcher(store, {}, now=lambda: NOW, console=io.StringIO()).run(budget=3,
                                                                              clock=lambda: float(next(ticks)))
    assert result.sent == 3 and store.outbox.counts()["pending"] == 7  # the rest waits for the next tick
    store.close()


# -- class 12: credentials outside systemd, and test-send -------------------------------------------------------------

def credential_config(make_config, server):
    return make_config([("a", server.url("/f"))],
                       '[[target]]\nname = "mail"\nurl_credential = "mail-url"\ntags = ["x"]\n')


def test_config_check_and_status_read_credentials_from_a_directory(make_config, server, tmp_path, smtp):
    directory = credential_config(make_config, server)
    without = invoke("--config", str(directory), "config", "check")
    assert without.exit_code == 2 and "needs $CREDENTIALS_DIRECTORY" in without.output
    credentials = tmp_path / "credentials"
    credentials.mkdir()
    (credentials / "mail-url").write_text(smtp.url + "\n")
    ok = invoke("--config", str(directory), "config", "check", "--credentials", str(credentials))
    assert ok.exit_code == 0 and "config OK" in ok.output
    Store(tmp_path / "watcher.db").close()
    status = invoke("--config", str(directory), "status")           # status needs no secret...
    assert status.exit_code == 0 and "target mail: credential 'mail-url' needs $CREDENTIALS_DIRECTORY" in status.output
    checked = invoke("--config", str(directory), "status", "--credentials", str(credentials))
    assert "target mail: credential readable" in checked.output     # ...and checks them when given
    assert invoke("--config", str(directory), "changes").exit_code == 0


def test_test_send_delivers_one_message_and_reports_a_refusal(make_config, server, tmp_path, smtp):
    directory = credential_config(make_config, server)
    credentials = tmp_path / "credentials"
    credentials.mkdir()
    (credentials / "mail-url").write_text(smtp.url)
    sent = invoke("--config", str(directory), "test-send", "mail", "--credentials", str(credentials))
    assert sent.exit_code == 0 and "accepted by target 'mail'" in sent.output
    assert [m["Subject"] for m in smtp.messages] == ["[watcher] Test message"]
    (credentials / "mail-url").write_text(f"mailto://it:hunter2@127.0.0.1:{free_port()}"
                                          "?from=w@firm.example&to=a@firm.example")  # nothing listens there
    refused = invoke("--config", str(directory), "test-send", "mail", "--credentials", str(credentials))
    assert refused.exit_code == 2 and "did not accept the message" in refused.output
    assert "hunter2" not in refused.output
    unknown = invoke("--config", str(directory), "test-send", "slack")
    assert unknown.exit_code == 2 and "unknown target 'slack' (targets: mail)" in unknown.output


# -- class 13: which database ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("command", [["status"], ["changes"], ["tasks", "list"], ["backup", "x.db"],
                                     ["agenda", "--from", "2026-11-01", "--to", "2026-11-07"], ["retrain"]])
def test_reading_commands_never_create_a_database(make_config, server, tmp_path, command):
    directory = make_config([("a", server.url("/f"))])
    result = invoke("--config", str(directory), *command)
    assert result.exit_code == 2 and f"no database at {tmp_path / 'watcher.db'}" in result.output
    assert not (tmp_path / "watcher.db").exists()


def test_the_database_path_comes_from_the_config_relative_to_it(tmp_path):
    import shutil
    shutil.copytree(REPO / "config", tmp_path / "config")
    config = app_module.load_config(tmp_path / "config")
    assert config.storage_path == (tmp_path / "var" / "watcher.db")  # "../var/watcher.db", wherever one runs from
    assert app_module.load_config(tmp_path / "config", tmp_path / "other.db").storage_path == tmp_path / "other.db"


# -- class 14: crontab days, and typos ---------------------------------------------------------------------------------

@pytest.mark.parametrize("line, weekdays", [
    ("0 8 * * 1-5", ["Mon", "Tue", "Wed", "Thu", "Fri"]),
    ("0 8 * * 0", ["Sun"]), ("0 8 * * 7", ["Sun"]), ("0 8 * * 5-7", ["Fri", "Sat", "Sun"]),
    ("0 8 * * */2", ["Sun", "Tue", "Thu", "Sat"]), ("0 8 * * 1,3", ["Mon", "Wed"]),
    ("0 8 * * mon-fri", ["Mon", "Tue", "Wed", "Thu", "Fri"]), ("0 8 * * SAT,sun", ["Sat", "Sun"]),
])
def test_crontab_days_mean_what_they_mean_in_crontab(line, weekdays):
    from datetime import timedelta

    from watcher.config import Schedule
    from watcher.scheduler import trigger_for
    trigger = trigger_for(Schedule(cron=(line,), jitter_seconds=0))
    moment, seen = datetime(2026, 12, 6, 9, tzinfo=timezone.utc), set()  # a Sunday, after 08:00
    for _ in range(14):
        moment = trigger.get_next_fire_time(None, moment + timedelta(minutes=1))
        seen.add(moment.strftime("%a"))
    assert sorted(seen) == sorted(weekdays)


@pytest.mark.parametrize("field", ["1-mon", "5-1", "8", "mon-7"])
def test_unreadable_day_of_week_is_refused(field):
    with pytest.raises(ValueError):
        from apscheduler.triggers.cron import CronTrigger
        CronTrigger(**crontab_fields(f"0 8 * * {field}"), timezone="UTC")


def test_a_typo_in_a_key_is_named_with_a_suggestion(make_config, server):
    directory = make_config([("a", server.url("/f"))])
    sources = directory / "sources.toml"
    sources.write_text(sources.read_text().replace("schedule =", "schedul ="))
    result = invoke("--config", str(directory), "config", "check")
    assert result.exit_code == 2 and "schedule: is required (is 'schedul' a typo of 'schedule'?)" in result.output
    watcher_toml = directory / "watcher.toml"
    watcher_toml.write_text(watcher_toml.read_text().replace("read_timeout", "read_timeot"))
    sources.write_text(sources.read_text().replace("schedul =", "schedule ="))
    typo = invoke("--config", str(directory), "config", "check")
    assert "http.read_timeot: unknown key (did you mean 'read_timeout'?)" in typo.output


# -- class 15: status --------------------------------------------------------------------------------------------------

def test_status_tells_never_succeeded_from_ok_and_wraps_long_errors(make_config, server, tmp_path):
    server.routes["/f"] = Reply(200, rss(uscis_items()))
    long_path = "/missing/" + "a-very-long-path-segment/" * 8
    directory = make_config([("good", server.url("/f")), ("bad", server.url(long_path)), ("later", server.url("/x"))])
    (directory / "sources.toml").write_text((directory / "sources.toml").read_text().replace(
        'id = "later"', 'id = "later"\nenabled = true', 1))
    assert invoke("--config", str(directory), "check", "good").exit_code == 0
    assert invoke("--config", str(directory), "check", "bad").exit_code == 1
    table = invoke("--config", str(directory), "status").output
    lines = {line.split()[0]: line for line in table.splitlines() if line.split()}
    assert f"database: {tmp_path / 'watcher.db'}" in table
    assert " ok " in lines["good"] and "never succeeded" in lines["bad"] and "not polled yet" in lines["later"]
    error_lines = [line for line in table.splitlines() if line.startswith("    ")]
    assert "".join(line.strip() for line in error_lines).replace(" ", "").endswith("answered404")
    assert all(len(line) <= 104 for line in error_lines)
    by_id = {s["id"]: s for s in json.loads(invoke("--config", str(directory), "status", "--json").output)["sources"]}
    assert (by_id["good"]["state"], by_id["bad"]["state"]) == ("ok", "never succeeded")


def test_a_credential_loaded_as_a_directory_by_the_unit_is_found_by_its_file_name(tmp_path):
    """LoadCredential=watcher:/etc/watcher/credentials names the file attorneys_mailto watcher_attorneys_mailto."""
    from watcher.credentials import read_secret
    unit_view = tmp_path / "unit"
    unit_view.mkdir()
    (unit_view / "watcher_attorneys_mailto").write_text("mailtos://x@y\n")
    environ = {"CREDENTIALS_DIRECTORY": str(unit_view)}
    assert read_secret("t", env=None, credential="attorneys_mailto", environ=environ) == "mailtos://x@y"
    (unit_view / "attorneys_mailto").write_text("mailtos://bare@y")
    assert read_secret("t", env=None, credential="attorneys_mailto", environ=environ) == "mailtos://bare@y"


def test_a_schedule_in_a_named_time_zone_keeps_its_local_hour_all_year():
    from watcher.config import Schedule
    from watcher.scheduler import trigger_for
    trigger = trigger_for(Schedule(cron=("0 10 * * mon-fri",), jitter_seconds=0, timezone="America/New_York"))
    winter = trigger.get_next_fire_time(None, datetime(2026, 1, 5, 12, tzinfo=timezone.utc))   # a Monday
    summer = trigger.get_next_fire_time(None, datetime(2026, 7, 6, 12, tzinfo=timezone.utc))
    assert (winter.astimezone(timezone.utc).hour, summer.astimezone(timezone.utc).hour) == (15, 14)
    assert winter.hour == summer.hour == 10


def test_an_unknown_time_zone_is_named(make_config, server):
    directory = make_config([("a", server.url("/f"))])
    sources = directory / "sources.toml"
    sources.write_text(sources.read_text() + 'timezone = "America/Gotham"\n')
    result = invoke("--config", str(directory), "config", "check")
    assert result.exit_code == 2 and "source[0].timezone: unknown time zone 'America/Gotham'" in result.output
