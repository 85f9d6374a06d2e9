"""Issue 2 acceptance: the whole pipeline on real USCIS items, a loopback HTTPS server and a real SMTP server."""

from __future__ import annotations

from datetime import timedelta

from watcher import app as app_module
from watcher.pipeline import run_source
from watcher.sources.rss import RssSource

from .feeds import rss, uscis_items
from .loopback import conditional_feed
from .clock import Clock

KINDS = {"rss": RssSource}
TARGET = """
[[target]]
name = "attorneys-email"
url_env = "WATCHER_TEST_SMTP"
tags = ["attorneys"]

[[route]]
case_types = ["*"]
tags = ["attorneys"]
"""


def row_counts(app) -> dict[str, int]:
    return {t: app.store.db[t].count for t in ("changes", "change_versions", "matches", "messages", "deliveries")}


def test_baseline_then_one_alert_then_nothing_more(server, smtp, make_config, capsys):
    items = uscis_items()
    added, older = items[0], items[1:]
    assert "H-1B" in added["title"]
    server.routes["/rss-feed/22984"] = conditional_feed(rss(older), '"v1"')
    config = app_module.load_config(make_config([("uscis-alerts", server.url("/rss-feed/22984"))], TARGET))
    clock = Clock()
    environ = {"WATCHER_TEST_SMTP": smtp.url}
    app = app_module.build_app(config, kinds=KINDS, environ=environ, now=clock)
    source = app.sources[0]

    first = run_source(app.context, source)
    assert (first.outcome, first.new, first.messages) == ("baseline", len(older), 0)
    assert app.dispatcher.run().sent == 0
    assert smtp.messages == []

    server.routes["/rss-feed/22984"] = conditional_feed(rss(items), '"v2"')
    clock.advance(minutes=30)
    second = run_source(app.context, source)
    assert (second.outcome, second.new, second.updated, second.messages) == ("ok", 1, 0, 1)
    assert server.hits("/rss-feed/22984")[-1]["if-none-match"] == '"v1"'  # validator echoed verbatim
    assert app.dispatcher.run().sent == 1
    assert len(smtp.messages) == 1
    mail = smtp.messages[0]
    assert added["title"][:40] in mail["Subject"] and "H-1B" in mail["Subject"]
    text = mail.get_payload()[0].get_payload(decode=True).decode()
    assert added["link"] in text and "Ref: W-" in text

    counts = row_counts(app)
    clock.advance(minutes=30)
    third = run_source(app.context, source)
    assert third.outcome == "not_modified"
    assert row_counts(app) == counts
    assert app.dispatcher.run().sent == 0
    app.close()

    restarted = app_module.build_app(config, kinds=KINDS, environ=environ, now=clock)
    clock.advance(minutes=30)
    assert run_source(restarted.context, restarted.sources[0]).outcome == "not_modified"
    assert restarted.dispatcher.run().sent == 0
    assert len(smtp.messages) == 1
    assert row_counts(restarted) == counts
    restarted.close()


def test_identical_body_without_validators_creates_nothing(server, make_config):
    """T4: a server that ignores validators and repeats itself produces no change, no message."""
    server.routes["/feed"] = lambda r: conditional_feed(rss(uscis_items()), '"fresh-%d"' % len(server.requests))(r)
    config = app_module.load_config(make_config([("uscis-alerts", server.url("/feed"))]))
    clock = Clock()
    app = app_module.build_app(config, kinds=KINDS, environ={}, now=clock)
    run_source(app.context, app.sources[0])
    counts = row_counts(app)
    clock.advance(minutes=30)
    again = run_source(app.context, app.sources[0])
    assert (again.outcome, again.new, again.updated, again.messages) == ("ok", 0, 0, 0)
    assert row_counts(app) == counts
    app.close()


def test_edited_item_becomes_version_two_not_a_second_new_alert(server, make_config, capsys):
    """Invariant 4: same guid, new title -> version 2 and an UPDATED alert (console target)."""
    items = uscis_items()
    server.routes["/feed"] = conditional_feed(rss(items), '"a"')
    config = app_module.load_config(make_config([("uscis-alerts", server.url("/feed"))]))
    clock = Clock()
    app = app_module.build_app(config, kinds=KINDS, environ={}, now=clock)
    run_source(app.context, app.sources[0])
    edited = [dict(items[0], title=items[0]["title"] + " (Corrected)")] + items[1:]
    server.routes["/feed"] = conditional_feed(rss(edited), '"b"')
    clock.advance(minutes=30)
    run = run_source(app.context, app.sources[0])
    assert (run.new, run.updated, run.messages) == (0, 1, 1)
    assert app.dispatcher.run().sent == 1
    out = capsys.readouterr().out
    assert "(update 2)" in out and "What changed:\n- Title: " + items[0]["title"] + " -> " in out
    versions = list(app.store.db.query("SELECT version FROM change_versions ORDER BY version"))
    assert [v["version"] for v in versions].count(2) == 1
    app.close()


def test_failing_source_is_recorded_and_does_not_stop_the_next(server, make_config):
    server.routes["/ok"] = conditional_feed(rss(uscis_items()), '"x"')
    server.routes["/broken"] = lambda r: (r.send_response(503), r.send_header("Content-Length", "0"), r.end_headers())
    config = app_module.load_config(make_config([("broken", server.url("/broken")), ("ok", server.url("/ok"))]))
    clock = Clock()
    app = app_module.build_app(config, kinds=KINDS, environ={}, now=clock)
    runs = [run_source(app.context, s) for s in app.sources]
    assert [(r.outcome, r.error_class) for r in runs] == [("error", "server_error"), ("baseline", None)]
    state = app.store.sources.get("broken")
    assert state.consecutive_failures == 1 and state.last_error_class == "server_error"
    assert state.backoff_until == clock() + timedelta(minutes=15)
    assert run_source(app.context, app.sources[0]).outcome == "skipped"  # backing off
    app.close()
