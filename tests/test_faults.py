"""Fault injection (RELIABILITY.md tables). Each test is named after its row and asserts the contract: the
service keeps running, the error is classified and visible, nothing stored is lost, no alert is duplicated
beyond the bounded case. Loopback servers, a real SQLite file, a real SMTP server; no sleeps."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
from datetime import datetime, timedelta, timezone

import pytest

from watcher import app as app_module
from watcher.errors import ConfigError, StorageError
from watcher.pipeline import Context, run_source
from watcher.sources.rss import RssSource
from watcher.store import Store

from .conftest import REPO, Reply
from .feeds import rss, uscis_items
from .loopback import Loopback, conditional_feed
from .clock import Clock

KINDS = {"rss": RssSource}
NOW = datetime(2026, 11, 27, 12, tzinfo=timezone.utc)
MAIL_TARGET = """
[[target]]
name = "mail"
url_env = "WATCHER_TEST_SMTP"
tags = ["attorneys", "ops"]

[[route]]
tags = ["attorneys"]

[ops]
tags = ["ops"]
"""


def make_app(make_config, server, path="/feed", extra="", environ=None, clock=None):
    config = app_module.load_config(make_config([("uscis-alerts", server.url(path))], extra))
    return app_module.build_app(config, kinds=KINDS, environ=environ or {}, now=clock or Clock())


def counts(app):
    return {t: app.store.db[t].count for t in ("changes", "change_versions", "messages", "deliveries")}


# ---------------------------------------------------------------- transport


@pytest.mark.parametrize("status", [500, 502, 503, 504])
@pytest.mark.parametrize("body", [b"", b"<html>Service Unavailable</html>"])
def test_T1_server_errors_keep_state_and_back_off(server, make_config, status, body):
    server.routes["/feed"] = conditional_feed(rss(uscis_items()), '"v1"')
    clock = Clock()
    app = make_app(make_config, server, clock=clock)
    run_source(app.context, app.sources[0])
    before, state = counts(app), app.store.sources.get("uscis-alerts")
    server.routes["/feed"] = Reply(status, body)
    clock.advance(days=2)  # past the daily unconditional fetch too
    run = run_source(app.context, app.sources[0], force=True)
    after = app.store.sources.get("uscis-alerts")
    assert (run.outcome, run.error_class) == ("error", "server_error")
    assert counts(app) == before and after.validators == state.validators
    assert after.consecutive_failures == 1 and after.backoff_until == clock() + timedelta(minutes=15)
    app.close()


def test_T2_retry_after_defers_the_source(server, make_config):
    server.routes["/feed"] = Reply(429, b"", {"Retry-After": "7200"})
    clock = Clock()
    app = make_app(make_config, server, clock=clock)
    run = run_source(app.context, app.sources[0])
    assert run.error_class == "rate_limited"
    assert app.store.sources.get("uscis-alerts").backoff_until == NOW + timedelta(hours=2)
    clock.advance(hours=1)
    assert run_source(app.context, app.sources[0]).outcome == "skipped"
    app.close()


def test_T3_304_refreshes_success_not_news(server, make_config):
    server.routes["/feed"] = Reply(200, rss(uscis_items()), {"ETag": '"e1"', "Last-Modified": "Wed, 25 Nov 2026 10:00:00 GMT"})
    clock = Clock()
    app = make_app(make_config, server, clock=clock)
    run_source(app.context, app.sources[0])
    first = app.store.sources.get("uscis-alerts")
    server.routes["/feed"] = Reply(304, b"", {"Last-Modified": "Thu, 26 Nov 2026 10:00:00 GMT"})
    clock.advance(minutes=30)
    assert run_source(app.context, app.sources[0]).outcome == "not_modified"
    state = app.store.sources.get("uscis-alerts")
    assert state.last_success_at == clock() and state.last_new_item_at == first.last_new_item_at
    assert state.validators.last_modified == "Thu, 26 Nov 2026 10:00:00 GMT" and state.validators.etag == '"e1"'
    app.close()


def test_T5_a_server_stuck_on_304_is_bypassed_daily(server, smtp, make_config):
    items = uscis_items()
    served = {"body": rss(items[1:])}

    def stuck(request):  # answers 304 to any validator, 200 only to an unconditional GET
        if request.headers.get("If-None-Match") or request.headers.get("If-Modified-Since"):
            request.send_response(304)
            request.send_header("Content-Length", "0")
            request.end_headers()
            return
        request.send_response(200)
        request.send_header("ETag", '"bogus"')
        request.send_header("Content-Length", str(len(served["body"])))
        request.end_headers()
        request.wfile.write(served["body"])
    server.routes["/feed"] = stuck
    clock = Clock()
    app = make_app(make_config, server, extra=MAIL_TARGET, environ={"WATCHER_TEST_SMTP": smtp.url}, clock=clock)
    run_source(app.context, app.sources[0])
    served["body"] = rss(items)  # new item, but the server keeps saying 304
    clock.advance(hours=2)
    assert run_source(app.context, app.sources[0]).outcome == "not_modified"
    clock.advance(hours=23)
    run = run_source(app.context, app.sources[0])
    assert (run.outcome, run.new, run.messages) == ("ok", 1, 1)
    app.dispatcher.run()
    assert len(smtp.messages) == 1
    app.close()


def test_T6_dns_failure_and_refused_connection_are_classified(make_config, server, http_settings):
    from dataclasses import replace

    from watcher.errors import FetchError
    from watcher.http import HttpClient
    from .conftest import free_port
    client = HttpClient(replace(http_settings, allowed_hosts=("no-such-host.invalid", "127.0.0.1")))
    with pytest.raises(FetchError) as dns:
        client.get("https://no-such-host.invalid/feed")
    assert dns.value.error_class == "dns"
    with pytest.raises(FetchError) as refused:
        client.get(f"https://127.0.0.1:{free_port()}/feed")
    assert refused.value.error_class == "connect"


def _raw(status_line: bytes, headers: bytes, body: bytes, close=True):
    def handler(request):
        request.wfile.write(status_line + b"\r\n" + headers + b"\r\n" + body)
        request.wfile.flush()
        if close:
            request.close_connection = True
    return handler


def test_T8_truncated_body_is_a_transport_error_and_stores_nothing(server, make_config):
    server.routes["/feed"] = _raw(b"HTTP/1.1 200 OK", b"Content-Length: 1000\r\nConnection: close\r\n", rss(uscis_items())[:41])
    app = make_app(make_config, server)
    run = run_source(app.context, app.sources[0])
    assert (run.outcome, run.error_class) == ("error", "transport")
    assert app.store.db["changes"].count == 0
    app.close()


def test_T10_endless_chunked_body_stops_at_the_cap(server, http_settings):
    from dataclasses import replace

    from watcher.errors import FetchError
    from watcher.http import HttpClient

    def endless(request):
        request.send_response(200)
        request.send_header("Transfer-Encoding", "chunked")
        request.end_headers()
        chunk = b"x" * 65536
        try:
            for _ in range(2000):  # 128 MiB if nobody stops reading
                request.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        except (BrokenPipeError, ConnectionResetError):
            pass
    server.routes["/big"] = endless
    with pytest.raises(FetchError) as info:
        HttpClient(replace(http_settings, max_bytes=2_000_000)).get(server.url("/big"))
    assert info.value.error_class == "too_large"


@pytest.mark.parametrize("location", ["https://169.254.169.254/latest/meta-data/", "https://10.0.0.5/",
                                      "https://100.64.0.1/", "https://[::ffff:10.0.0.5]/", "https://192.168.1.1/"])
def test_T13_redirects_to_private_addresses_are_refused(server, http_settings, location):
    from dataclasses import replace

    from watcher.errors import FetchError
    from watcher.http import HttpClient
    server.routes["/r"] = Reply(302, b"", {"Location": location})
    hosts = ("127.0.0.1", "169.254.169.254", "10.0.0.5", "100.64.0.1", "::ffff:10.0.0.5", "192.168.1.1")
    client = HttpClient(replace(http_settings, allowed_hosts=hosts, allow_loopback=True))
    with pytest.raises(FetchError) as info:
        client.get(server.url("/r"))
    assert info.value.error_class == "refused_url"


@pytest.mark.parametrize("address, allow_loopback, allowed", [
    ("127.0.0.1", False, False), ("127.0.0.1", True, True), ("::ffff:127.0.0.1", False, False), ("::1", False, False),
    ("169.254.169.254", True, False), ("100.64.0.1", True, False), ("10.0.0.5", True, False), ("fd00::1", True, False),
    ("224.0.0.1", True, False), ("8.8.8.8", False, True), ("2606:4700::1111", False, True),
])
def test_T13_address_rules(address, allow_loopback, allowed):
    import ipaddress

    from watcher.http import address_allowed
    assert address_allowed(ipaddress.ip_address(address), allow_loopback) is allowed


def test_T13_a_hostname_resolving_to_loopback_is_refused_at_connect(server, http_settings):
    from dataclasses import replace

    from watcher.errors import FetchError
    from watcher.http import HttpClient
    server.routes["/f"] = Reply(200, b"ok")
    url = f"https://localhost:{server.port}/f"
    with pytest.raises(FetchError) as info:
        HttpClient(replace(http_settings, allowed_hosts=("localhost",), allow_loopback=False)).get(url)
    assert info.value.error_class == "refused_url" and "SSRF blocked" in str(info.value)
    assert server.requests == []
    allowed = HttpClient(replace(http_settings, allowed_hosts=("localhost",), allow_loopback=True)).get(url)
    assert allowed.body == b"ok"  # the same name passes only where a test config allows loopback


@pytest.mark.parametrize("problem", ["wrong-hostname", "expired"])
def test_T14_bad_certificates_are_tls_errors(ca, http_settings, problem):
    from watcher.errors import FetchError
    from watcher.http import HttpClient
    authority = ca[0]
    import ssl
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    if problem == "wrong-hostname":
        authority.issue_cert("other.example").configure_cert(context)
    else:
        authority.issue_cert("127.0.0.1", not_after=datetime(2020, 1, 1, tzinfo=timezone.utc)).configure_cert(context)
    bad = Loopback(context)
    bad.routes["/f"] = Reply(200, b"ok")
    try:
        with pytest.raises(FetchError) as info:
            HttpClient(http_settings).get(bad.url("/f"))
        assert info.value.error_class == "tls"
    finally:
        bad.close()


@pytest.mark.parametrize("encode", [lambda b: b"\xef\xbb\xbf" + b, lambda b: b.decode().replace('encoding="utf-8"', 'encoding="utf-16"').encode("utf-16")],
                         ids=["utf8-bom", "utf16"])
def test_T16_bom_and_utf16_feeds_parse(server, make_config, encode):
    server.routes["/feed"] = Reply(200, encode(rss(uscis_items())), {"Content-Type": "application/rss+xml"})
    app = make_app(make_config, server)
    assert run_source(app.context, app.sources[0]).new == 12
    app.close()


# ---------------------------------------------------------------- parser and input


def test_P6_mass_guid_change_holds_client_alerts_and_tells_ops_once(server, smtp, make_config):
    items = uscis_items()
    server.routes["/feed"] = conditional_feed(rss(items), '"1"')
    clock = Clock()
    app = make_app(make_config, server, extra=MAIL_TARGET, environ={"WATCHER_TEST_SMTP": smtp.url}, clock=clock)
    run_source(app.context, app.sources[0])
    reissued = [dict(i, guid="new-scheme-" + i["guid"]) for i in items]
    server.routes["/feed"] = conditional_feed(rss(reissued), '"2"')
    clock.advance(minutes=30)
    run = run_source(app.context, app.sources[0])
    assert (run.new, run.messages) == (12, 1)
    app.dispatcher.run()
    assert [m["Subject"] for m in smtp.messages] == ["[watcher ops] uscis-alerts: 12 items looked new at once; alerts held"]
    app.close()


def test_P7_deleted_and_readded_item_does_not_alert_again(server, smtp, make_config):
    items = uscis_items()
    server.routes["/feed"] = conditional_feed(rss(items[1:]), '"1"')
    clock = Clock()
    app = make_app(make_config, server, extra=MAIL_TARGET, environ={"WATCHER_TEST_SMTP": smtp.url}, clock=clock)
    run_source(app.context, app.sources[0])
    for body, etag in [(rss(items), '"2"'), (rss(items[1:]), '"3"'), (rss(items), '"4"')]:
        server.routes["/feed"] = conditional_feed(body, etag)
        clock.advance(minutes=30)
        run_source(app.context, app.sources[0])
    app.dispatcher.run()
    assert len(smtp.messages) == 1  # announced when it first appeared, not when it came back
    app.close()


def test_P9_huge_json_array_is_refused():
    from watcher.config import Schedule, SourceConfig
    from watcher.errors import ParseError
    from watcher.models import Fetched, Validators
    from watcher.sources.federal_register import FederalRegisterSource
    doc = '{"document_number": "x", "title": "t", "type": "Notice", "publication_date": "2026-01-01", "html_url": "u"}'
    body = ('{"count": 6000, "results": [' + ",".join([doc] * 6000) + "]}").encode()
    source = FederalRegisterSource(SourceConfig(id="fr", kind="federal_register", url="https://x", schedule=Schedule()))
    with pytest.raises(ParseError, match="sanity limit"):
        source.parse(Fetched("https://x", 200, body, {}, Validators()))


def test_P10_odd_dates_are_kept_without_breaking_anything(server, make_config):
    items = uscis_items()[:3]
    items[0] = dict(items[0], pub_date="Tue, 30 Jul 41 09:54:18 -0400")   # 2041
    items[1] = dict(items[1], pub_date="")                                # missing
    items[2] = dict(items[2], pub_date="sometime last week")              # garbage
    server.routes["/feed"] = Reply(200, rss(items))
    app = make_app(make_config, server)
    assert run_source(app.context, app.sources[0]).new == 3
    published = [c.published for c in app.store.changes.listing()]
    assert None in published and any(p and p.startswith("2041") for p in published)
    app.close()


# ---------------------------------------------------------------- storage, delivery, crash and restart


def _subprocess_check(directory, environ, kill_at=None):
    env = {**os.environ, **environ, "PYTHONPATH": str(REPO / "tests"), "HF_HUB_OFFLINE": "1"}
    if kill_at:
        env["WATCHER_KILL_AT"] = kill_at
    code = "import killhook; from watcher.cli import main; main()" if kill_at else "from watcher.cli import main; main()"
    return subprocess.run([sys.executable, "-c", code, "--config", str(directory), "check", "--all"],
                          env=env, capture_output=True, text=True, timeout=120)


def _mailed_feed(server, smtp, make_config):
    """A USCIS feed serving all but its newest item, and a config mailing alerts to the local SMTP server."""
    items = uscis_items()
    server.routes["/feed"] = conditional_feed(rss(items[1:]), '"1"')
    directory = make_config([("uscis-alerts", server.url("/feed"))], MAIL_TARGET)
    return items, directory, {"WATCHER_TEST_SMTP": smtp.url}


def test_S1_kill_before_commit_redetects_and_alerts_once(server, smtp, make_config):
    items, directory, environ = _mailed_feed(server, smtp, make_config)
    assert _subprocess_check(directory, environ).returncode == 0  # baseline
    server.routes["/feed"] = conditional_feed(rss(items), '"2"')
    killed = _subprocess_check(directory, environ, kill_at="before_commit")
    assert killed.returncode == -9 and smtp.messages == []
    assert _subprocess_check(directory, environ).returncode == 0  # validators were not committed: re-detected
    assert len(smtp.messages) == 1


def test_S1_kill_after_send_before_mark_resends_once_with_the_same_ref(server, smtp, make_config):
    items, directory, environ = _mailed_feed(server, smtp, make_config)
    _subprocess_check(directory, environ)
    server.routes["/feed"] = conditional_feed(rss(items), '"2"')
    assert _subprocess_check(directory, environ, kill_at="after_send").returncode == -9
    assert len(smtp.messages) == 1
    # The lease (5 min) must run out before the row is due again; age it rather than wait.
    db = sqlite3.connect(directory.parent / "watcher.db")
    db.execute("UPDATE deliveries SET lease_until = '2000-01-01T00:00:00+00:00' WHERE status = 'sending'")
    db.commit()
    db.close()
    assert _subprocess_check(directory, environ).returncode == 0
    assert _subprocess_check(directory, environ).returncode == 0
    refs = [m.get_payload()[0].get_payload(decode=True).decode().split("Ref: ")[1].split()[0] for m in smtp.messages]
    assert len(refs) == 2 and refs[0] == refs[1]  # exactly one repeat, recognisable by its Ref


def test_S2_a_change_made_while_down_alerts_exactly_once(server, smtp, make_config):
    items, directory, environ = _mailed_feed(server, smtp, make_config)
    _subprocess_check(directory, environ)
    _subprocess_check(directory, environ)  # restart, nothing changed
    assert smtp.messages == []
    server.routes["/feed"] = conditional_feed(rss(items), '"2"')  # changed while "down"
    _subprocess_check(directory, environ)
    _subprocess_check(directory, environ)
    assert len(smtp.messages) == 1


def test_S3_unreachable_target_is_a_failure_not_a_success(tmp_path):
    from watcher.models import Message
    from watcher.notify.dispatch import Dispatcher, build_targets
    from .conftest import free_port
    store = Store(tmp_path / "w.db")
    clock = Clock()
    targets = build_targets({"down": f"json://127.0.0.1:{free_port()}/hook", "missing": "json://127.0.0.1:1/404"})
    with store.transaction():
        store.outbox.enqueue(Message("W-1", "k", 1, "s", "t", "h", ("down",)), None, clock())
    result = Dispatcher(store, targets, now=clock).run()
    assert (result.sent, result.failed) == (0, 1)
    assert store.outbox.counts() == {"pending": 1}
    store.close()


def test_S6_locked_database_is_a_storage_error_and_retried(server, make_config, tmp_path):
    server.routes["/feed"] = Reply(200, rss(uscis_items()))
    config = app_module.load_config(make_config([("uscis-alerts", server.url("/feed"))]))
    app = app_module.build_app(config, kinds=KINDS, environ={}, now=Clock())
    quick = Store(config.storage_path, busy_timeout_ms=100)
    context = Context(store=quick, http=app.context.http, matcher=app.context.matcher, routes=(), targets=(), now=Clock())
    locker = sqlite3.connect(config.storage_path, timeout=1)
    locker.execute("BEGIN EXCLUSIVE")
    run = run_source(context, app.sources[0])
    assert (run.outcome, run.error_class) == ("error", "storage")
    locker.rollback()
    locker.close()
    assert run_source(context, app.sources[0]).outcome == "baseline"  # the next tick just works
    quick.close()
    app.close()


def test_S8_corrupted_database_is_refused_and_left_as_it_is(tmp_path, server, make_config):
    server.routes["/feed"] = Reply(200, rss(uscis_items()))
    app = make_app(make_config, server)
    run_source(app.context, app.sources[0])
    path = app.store.path
    app.close()
    data = bytearray(path.read_bytes())
    for offset in range(4096 + 200, len(data) - 4096, 4096):  # scribble over every page but the header
        data[offset:offset + 64] = b"\xff" * 64
    path.write_bytes(bytes(data))
    with pytest.raises(StorageError, match="restore"):
        Store(path)
    assert path.read_bytes() == bytes(data)


def test_S9_backup_while_writing_then_restore_resumes_without_duplicates(server, smtp, make_config, tmp_path):
    items = uscis_items()
    server.routes["/feed"] = conditional_feed(rss(items[1:]), '"1"')
    clock = Clock()
    app = make_app(make_config, server, extra=MAIL_TARGET, environ={"WATCHER_TEST_SMTP": smtp.url}, clock=clock)
    run_source(app.context, app.sources[0])
    server.routes["/feed"] = conditional_feed(rss(items), '"2"')
    writer = threading.Thread(target=lambda: (run_source(app.context, app.sources[0]), app.dispatcher.run()))
    writer.start()
    during = app.store.backup(tmp_path / "backups" / "during.db")  # taken while the cycle writes
    writer.join()
    assert oct(during.stat().st_mode & 0o777) == "0o600"
    consistent = Store(during)
    assert consistent.integrity() == ["ok"]
    consistent.close()
    copy = app.store.backup(tmp_path / "backups" / "watcher.db")  # the latest backup, after the send
    app.close()
    assert len(smtp.messages) == 1
    # Restore: the copy replaces the database; the service resumes.
    os.replace(copy, app.store.path)
    for suffix in ("-wal", "-shm"):
        (app.store.path.parent / (app.store.path.name + suffix)).unlink(missing_ok=True)
    resumed = make_app(make_config, server, extra=MAIL_TARGET, environ={"WATCHER_TEST_SMTP": smtp.url}, clock=clock)
    clock.advance(minutes=30)
    run_source(resumed.context, resumed.sources[0])
    resumed.dispatcher.run()
    assert len(smtp.messages) == 1
    resumed.close()


def test_S10_sigterm_during_a_hung_poll_stops_cleanly(server, make_config):
    started = threading.Event()

    def hang(request):
        started.set()
        server.release.wait(30)
    server.routes["/feed"] = hang
    directory = make_config([("uscis-alerts", server.url("/feed"))])
    (directory / "sources.toml").write_text((directory / "sources.toml").read_text().replace(
        'schedule = "30m"', 'schedule = "30m"\njitter_seconds = 0'))
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    process = subprocess.Popen([sys.executable, "-m", "watcher.cli", "--config", str(directory), "run"],
                               stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert started.wait(60), "the first poll never reached the server"
        process.send_signal(__import__("signal").SIGTERM)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
    store = Store(directory.parent / "watcher.db")
    assert store.db["changes"].count == 0  # no half-written cycle
    assert [r["outcome"] for r in store.db["runs"].rows] == ["error"]  # the read timeout ended the poll
    store.close()


# ---------------------------------------------------------------- security


def test_X1_secrets_never_reach_the_database(tmp_path):
    from watcher.models import Message
    from watcher.notify.dispatch import Dispatcher, build_targets
    from .conftest import free_port
    store = Store(tmp_path / "w.db")
    targets = build_targets({"mail": f"mailto://watcher:hunter2secret@127.0.0.1:{free_port()}?from=watcher@firm.example&to=a@firm.example"})
    with store.transaction():
        store.outbox.enqueue(Message("W-1", "k", 1, "s", "t", "h", ("mail",)), None, NOW)
    Dispatcher(store, targets, now=lambda: NOW).run()
    store.close()
    assert b"hunter2secret" not in (tmp_path / "w.db").read_bytes()


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://www.uscis.gov/feed", "http://localhost:8080/admin"])
def test_X2_dangerous_source_urls_are_config_errors(tmp_path, url):
    import shutil
    from watcher import config
    directory = tmp_path / "config"
    shutil.copytree(REPO / "config", directory)
    text = (directory / "sources.toml").read_text().replace("https://www.uscis.gov/news/rss-feed/22984", url, 1)
    (directory / "sources.toml").write_text(text)
    with pytest.raises(ConfigError, match="source\\[0\\].url: must be https"):
        config.load(directory)


def test_X3_no_client_name_can_reach_an_alert(server, smtp, make_config, tmp_path):
    from click.testing import CliRunner

    from watcher.cli import main
    canary = "Canary Clientname"
    directory = make_config([("uscis-alerts", server.url("/feed"))], MAIL_TARGET)
    csv = tmp_path / "cases.csv"
    csv.write_text(f"matter_ref,case_type,team,status,client_name\nM-1,H-1B,biz,open,{canary}\n")
    refused = CliRunner().invoke(main, ["--config", str(directory), "cases", "import", str(csv)],
                                 env={"WATCHER_TEST_SMTP": smtp.url})
    assert refused.exit_code == 2
    csv.write_text("matter_ref,case_type,team,status\nM-1,H-1B,biz,open\n")
    assert CliRunner().invoke(main, ["--config", str(directory), "cases", "import", str(csv)],
                              env={"WATCHER_TEST_SMTP": smtp.url}).exit_code == 0
    items = uscis_items()
    server.routes["/feed"] = conditional_feed(rss(items[1:]), '"1"')
    CliRunner().invoke(main, ["--config", str(directory), "check", "--all"], env={"WATCHER_TEST_SMTP": smtp.url})
    server.routes["/feed"] = conditional_feed(rss(items), '"2"')
    CliRunner().invoke(main, ["--config", str(directory), "check", "--all"], env={"WATCHER_TEST_SMTP": smtp.url})
    assert len(smtp.messages) == 1
    assert canary not in smtp.messages[0].as_string()
    assert canary.encode() not in (directory.parent / "watcher.db").read_bytes()


def test_T2_a_429_defers_every_source_on_the_same_host(server, make_config):
    server.routes["/a"] = Reply(429, b"", {"Retry-After": "3600"})
    server.routes["/b"] = Reply(200, rss(uscis_items()))
    config = app_module.load_config(make_config([("a", server.url("/a")), ("b", server.url("/b"))]))
    clock = Clock()
    app = app_module.build_app(config, kinds=KINDS, environ={}, now=clock)
    assert run_source(app.context, app.sources[0]).error_class == "rate_limited"
    assert app.store.sources.get("b").backoff_until == NOW + timedelta(hours=1)
    clock.advance(minutes=30)
    assert run_source(app.context, app.sources[1]).outcome == "skipped"  # same host: it waits too
    assert server.hits("/b") == []
    app.close()


def test_S1_kill_during_migration_rolls_back_and_the_next_start_migrates(make_config, server):
    directory = make_config([("a", server.url("/f"))])
    env = {**os.environ, "PYTHONPATH": str(REPO / "tests"), "WATCHER_KILL_AT": "mid_migration"}
    killed = subprocess.run([sys.executable, "-c", "import killhook; from watcher.cli import main; main()",
                             "--config", str(directory), "check", "--all"], env=env, capture_output=True, timeout=60)
    assert killed.returncode == -9  # `check` creates the database (status never would)
    db = sqlite3.connect(directory.parent / "watcher.db")
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    db.close()
    assert "changes" not in tables and "source_state" not in tables  # the half-run migration left nothing
    store = Store(directory.parent / "watcher.db")                    # the next start applies it whole
    assert [m["name"] for m in store.db["_sqlite_migrations"].rows][0] == "0001_initial"
    assert store.integrity() == ["ok"]
    store.close()


@pytest.fixture
def tiny_disk(tmp_path):
    mount = tmp_path / "tiny"
    mount.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)],
                                           capture_output=True).returncode != 0:
        pytest.skip("needs root and tmpfs mounts to simulate a full or read-only disk")
    # 4 MiB: room for the schema and a checkpoint at close (at 512 KiB the WAL stayed behind once the schema grew,
    # and a read-only remount then opened the database read-only instead of refusing it).
    yield mount
    subprocess.run(["umount", "-l", str(mount)], capture_output=True)


def test_S7_full_disk_fails_the_cycle_cleanly(tiny_disk, server, make_config):
    server.routes["/feed"] = conditional_feed(rss(uscis_items()[:2]), '"1"')
    config = app_module.load_config(make_config([("uscis-alerts", server.url("/feed"))]), tiny_disk / "watcher.db")
    app = app_module.build_app(config, kinds=KINDS, environ={}, now=Clock())
    assert run_source(app.context, app.sources[0]).outcome == "baseline"
    filler = tiny_disk / "filler"
    with open(filler, "wb") as handle:  # fill what is left
        try:
            while True:
                handle.write(b"\0" * 65536)
                handle.flush()
        except OSError:
            pass
    big = [dict(i, guid=f"g{n}", description=i["description"] * 50) for n, i in enumerate(uscis_items() * 3)]
    server.routes["/feed"] = conditional_feed(rss(big), '"2"')
    run = run_source(app.context, app.sources[0], force=True)
    assert (run.outcome, run.error_class) == ("error", "storage")
    filler.unlink()
    assert app.store.integrity() == ["ok"] and app.store.changes.count("uscis-alerts") == 2  # nothing lost
    app.close()


def test_S7_read_only_disk_is_a_clear_storage_error(tiny_disk, server, make_config):
    config = app_module.load_config(make_config([("a", server.url("/f"))]), tiny_disk / "watcher.db")
    app_module.build_app(config, kinds=KINDS, environ={}).close()
    assert subprocess.run(["mount", "-o", "remount,ro", str(tiny_disk)], capture_output=True).returncode == 0
    with pytest.raises(StorageError, match="watcher.db"):
        Store(tiny_disk / "watcher.db")
    subprocess.run(["mount", "-o", "remount,rw", str(tiny_disk)], capture_output=True)
