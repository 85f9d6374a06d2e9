"""Scheduler wiring: triggers, explicit job defaults, one job per enabled source plus the dispatcher."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from watcher import app as app_module
from watcher.config import Schedule
from watcher.scheduler import Service, misfire_grace, trigger_for
from watcher.sources.rss import RssSource

from .conftest import Reply
from .feeds import rss, uscis_items


def test_interval_and_cron_triggers():
    interval = trigger_for(Schedule(every=timedelta(minutes=30), jitter_seconds=60))
    assert isinstance(interval, IntervalTrigger) and interval.interval == timedelta(minutes=30) and interval.jitter == 60
    cron = trigger_for(Schedule(cron=("0 12 * * mon-fri",), jitter_seconds=0))
    assert isinstance(cron, CronTrigger)
    saturday = datetime(2026, 11, 28, 13, tzinfo=timezone.utc)
    assert cron.get_next_fire_time(None, saturday) == datetime(2026, 11, 30, 12, tzinfo=timezone.utc)


def test_misfire_grace_is_half_the_interval():
    assert misfire_grace(Schedule(every=timedelta(minutes=30))) == 900
    assert misfire_grace(Schedule(cron=("0 12 * * *",))) == 3600


def test_several_cron_lines_fire_as_one_trigger():
    both = trigger_for(Schedule(cron=("0 13 * * *", "0 */3 8-20 * *"), jitter_seconds=0))
    on_the_10th = datetime(2026, 12, 10, 13, 30, tzinfo=timezone.utc)
    assert both.get_next_fire_time(None, on_the_10th) == datetime(2026, 12, 10, 15, tzinfo=timezone.utc)
    on_the_25th = datetime(2026, 12, 25, 13, 30, tzinfo=timezone.utc)
    assert both.get_next_fire_time(None, on_the_25th) == datetime(2026, 12, 26, 13, tzinfo=timezone.utc)


def test_jobs_have_explicit_defaults_and_poll_records(make_config, server):
    server.routes["/f"] = Reply(200, rss(uscis_items()))
    directory = make_config([("a", server.url("/f")), ("b", server.url("/f"))])
    (directory / "sources.toml").write_text((directory / "sources.toml").read_text() + "enabled = false\n")
    app = app_module.build_app(app_module.load_config(directory), kinds={"rss": RssSource}, environ={})
    cycles = []
    service = Service(app, on_cycle=lambda: cycles.append(1))
    service.add_jobs()
    service.scheduler.start(paused=True)  # jobs get their resolved defaults once added to a started scheduler
    jobs = {job.id: job for job in service.scheduler.get_jobs()}
    assert set(jobs) == {"source:a", "dispatch", "tick", "heartbeat"}  # b is disabled; no [agenda] schedule
    assert jobs["dispatch"].executor == "delivery" and jobs["source:a"].executor == "default"
    assert jobs["source:a"].coalesce is True and jobs["source:a"].max_instances == 1
    assert jobs["source:a"].misfire_grace_time == 900
    service.poll(app.sources[0])
    assert cycles == [1] and app.store.sources.get("a").item_count == 12
    service.stop.set()
    service.poll(app.sources[0])  # after stop: does nothing
    assert cycles == [1]
    service.scheduler.shutdown(wait=False)
    app.close()
