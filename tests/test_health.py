"""Source health: failing, parser broken and silent, each alerted once to the ops target, and recovery."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from watcher import app as app_module
from watcher import decide
from watcher.models import SourceState
from watcher.pipeline import run_source
from watcher.sources.rss import RssSource

from .conftest import Reply
from .feeds import rss, uscis_items
from .clock import Clock

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=timezone.utc)
DAY = timedelta(days=1)


@pytest.mark.parametrize("state, silent_after, health", [
    (SourceState("s"), None, "ok"),
    (SourceState("s", consecutive_failures=2, last_error_class="timeout"), None, "ok"),
    (SourceState("s", consecutive_failures=3, last_error_class="timeout"), None, "failing"),
    (SourceState("s", consecutive_failures=1, last_error_class="parser_broken"), None, "ok"),
    (SourceState("s", consecutive_failures=2, last_error_class="parser_broken"), None, "parser_broken"),
    (SourceState("s", last_success_at=NOW, last_new_item_at=NOW - 36 * DAY), 35 * DAY, "silent"),
    (SourceState("s", last_success_at=NOW, last_new_item_at=NOW - 34 * DAY), 35 * DAY, "ok"),
    (SourceState("s", last_success_at=NOW, last_new_item_at=NOW - 400 * DAY), None, "ok"),
    (SourceState("s", consecutive_failures=3, last_error_class="dns", last_new_item_at=NOW - 99 * DAY), DAY, "failing"),
])
def test_source_health(state, silent_after, health):
    assert decide.source_health(state, NOW, silent_after) == health


OPS = """
[[target]]
name = "ops-hook"
url_env = "WATCHER_TEST_OPS"
tags = ["ops"]

[ops]
tags = ["ops"]
"""


def test_failing_is_alerted_once_and_recovery_once(server, make_config, webhook):
    server.routes["/f"] = Reply(503, b"")
    config = app_module.load_config(make_config([("uscis-alerts", server.url("/f"))], OPS))
    clock = Clock()
    app = app_module.build_app(config, kinds={"rss": RssSource}, environ={"WATCHER_TEST_OPS": webhook.url}, now=clock)
    source = app.sources[0]
    for _ in range(5):
        assert run_source(app.context, source, force=True).error_class == "server_error"
        app.dispatcher.run()
        clock.moment += timedelta(minutes=30)
    assert [p["title"] for p in webhook.payloads] == ["[watcher ops] FAILING: uscis-alerts"]
    assert "3 consecutive fetch errors" in webhook.payloads[0]["message"]
    assert app.store.sources.get("uscis-alerts").health == "failing"

    server.routes["/f"] = Reply(200, rss(uscis_items()))
    assert run_source(app.context, source, force=True).outcome == "baseline"
    run_source(app.context, source, force=True)
    app.dispatcher.run()
    assert [p["title"] for p in webhook.payloads][1:] == ["[watcher ops] RECOVERED: uscis-alerts"]

    server.routes["/f"] = Reply(200, b"<html><body>We are updating this page</body></html>")
    for _ in range(3):
        assert run_source(app.context, source, force=True).error_class == "parser_broken"
    app.dispatcher.run()
    assert [p["title"] for p in webhook.payloads][2:] == ["[watcher ops] PARSER BROKEN: uscis-alerts"]
    assert app.store.changes.count("uscis-alerts") == 12  # the last good state stays
    app.close()


def test_silent_source_is_reported(server, make_config, webhook):
    server.routes["/f"] = Reply(200, rss(uscis_items()))
    directory = make_config([("uscis-alerts", server.url("/f"))], OPS)
    (directory / "sources.toml").write_text((directory / "sources.toml").read_text() + 'silent_after = "3d"\n')
    clock = Clock()
    app = app_module.build_app(app_module.load_config(directory), kinds={"rss": RssSource},
                               environ={"WATCHER_TEST_OPS": webhook.url}, now=clock)
    run_source(app.context, app.sources[0])
    clock.moment += 4 * DAY
    run_source(app.context, app.sources[0], force=True)  # same items: nothing new for 4 days
    app.dispatcher.run()
    assert [p["title"] for p in webhook.payloads] == ["[watcher ops] SILENT: uscis-alerts"]
    app.close()


def test_html_fallback_polls_only_while_the_feed_is_down_and_never_repeats_an_alert(server, make_config, capsys):
    from watcher.sources.uscis_newsroom import UscisNewsroomSource

    from .conftest import SHARED

    newsroom = (SHARED / "fixtures" / "uscis_newsroom_all_news_fragment.html").read_bytes()
    server.routes["/feed"] = Reply(200, rss(uscis_items()))
    server.routes["/all-news"] = Reply(200, newsroom)
    directory = make_config([("uscis-alerts", server.url("/feed"))])
    (directory / "sources.toml").write_text((directory / "sources.toml").read_text() + f"""
[[source]]
id = "uscis-newsroom"
kind = "uscis_newsroom"
url = "{server.url('/all-news')}"
schedule = "30m"
fallback_for = ["uscis-alerts"]
""")
    clock = Clock()
    app = app_module.build_app(app_module.load_config(directory),
                               kinds={"rss": RssSource, "uscis_newsroom": UscisNewsroomSource}, environ={}, now=clock)
    feed, html = app.sources
    run_source(app.context, feed)
    assert run_source(app.context, html).outcome == "standby"
    assert server.hits("/all-news") == []

    server.routes["/feed"] = Reply(502, b"")
    for _ in range(3):
        run_source(app.context, feed, force=True)
    assert app.store.sources.get("uscis-alerts").health == "failing"
    assert run_source(app.context, html).outcome == "baseline"  # the fallback takes over, silently at first

    # The feed recovers carrying an item the fallback already stored (same URL): stored, not alerted again.
    seen = app.store.changes.listing(limit=1)[0]
    item = dict(uscis_items()[0], guid="new-guid", title=seen.title, link=seen.url)
    server.routes["/feed"] = Reply(200, rss([item] + uscis_items()))
    run = run_source(app.context, feed, force=True)
    assert (run.new, run.messages) == (1, 0)
    app.close()
