"""apscheduler 3.x: one job per source from its schedule, plus the outbox dispatcher every minute.

Jobs run on ONE worker thread: the store has a single writer, and one source at a time is also the polite
way to poll a handful of agency hosts. Defaults are explicit (coalesce, max_instances=1, a misfire grace of
half the interval) and passed through `job_defaults`, where apscheduler actually reads them. Job state is
in memory only; what must survive a restart (validators, backoff, last success) lives in our own tables.
"""

from __future__ import annotations

import logging
import os
import random
import signal
import threading
import time
from datetime import timedelta
from typing import Callable

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_MAX_INSTANCES, EVENT_JOB_MISSED, JobEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.combining import OrTrigger
from apscheduler.triggers.interval import IntervalTrigger

from .app import App
from .config import Schedule
from .notify.health import compose_heartbeat
from .notify.weekly import queue_weekly_agenda
from .pipeline import ops_targets, run_source
from .sources.base import Source
from .systemd import notify, watchdog_seconds

log = logging.getLogger(__name__)
DISPATCH_EVERY = timedelta(minutes=1)
FIRST_RUN_SPREAD = 20  # seconds: sources start polling soon after start-up, not all at once


def trigger_for(schedule: Schedule) -> BaseTrigger:
    if schedule.every:
        return IntervalTrigger(seconds=schedule.every.total_seconds(), jitter=schedule.jitter_seconds,
                               timezone="UTC")
    triggers = [_cron(line, schedule.jitter_seconds) for line in schedule.cron]
    return triggers[0] if len(triggers) == 1 else OrTrigger(triggers)


def _cron(line: str, jitter: int) -> CronTrigger:
    # from_crontab takes no jitter, so the five fields are passed one by one.
    minute, hour, day, month, day_of_week = line.split()
    return CronTrigger(minute=minute, hour=hour, day=day, month=month, day_of_week=day_of_week,
                       jitter=jitter, timezone="UTC")


def misfire_grace(schedule: Schedule) -> int:
    if schedule.every:
        return max(int(schedule.every.total_seconds() // 2), 60)
    return 3600


HEARTBEAT = "0 7 * * *"  # UTC, daily
PROGRESS_WINDOW = 3 * DISPATCH_EVERY.total_seconds()  # no job completed for this long: the watchdog starves


class Service:
    def __init__(self, app: App, *, on_cycle: Callable[[], None] = lambda: None,
                 clock: Callable[[], float] = time.monotonic, environ=os.environ):
        self.app = app
        self.stop = threading.Event()
        self.on_cycle = on_cycle
        self.clock = clock
        self.environ = environ
        self.last_progress = clock()
        self.scheduler = BackgroundScheduler(
            executors={"default": ThreadPoolExecutor(max_workers=1)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 300},
            timezone="UTC",
        )
        self.scheduler.add_listener(self._on_event, EVENT_JOB_ERROR | EVENT_JOB_MISSED | EVENT_JOB_MAX_INSTANCES)

    def add_jobs(self) -> None:
        now = self.app.context.now()
        for source in self.app.sources:
            if not source.config.enabled:
                continue
            self.scheduler.add_job(
                self.poll, trigger_for(source.config.schedule), args=[source], id=f"source:{source.config.id}",
                replace_existing=True, misfire_grace_time=misfire_grace(source.config.schedule),
                next_run_time=now + timedelta(seconds=random.uniform(1, FIRST_RUN_SPREAD)))
        self.scheduler.add_job(self.dispatch, IntervalTrigger(seconds=DISPATCH_EVERY.total_seconds()),
                               id="dispatch", replace_existing=True)
        self.scheduler.add_job(self.heartbeat, _cron(HEARTBEAT, 0), id="heartbeat", replace_existing=True,
                               misfire_grace_time=6 * 3600)
        if self.app.config.agenda.schedule:
            self.scheduler.add_job(self.weekly_agenda, _cron(self.app.config.agenda.schedule, 0), id="agenda",
                                   replace_existing=True, misfire_grace_time=6 * 3600)

    def heartbeat(self) -> None:
        """The daily sign of life to the ops targets (G3)."""
        if self.stop.is_set():
            return
        store, context = self.app.store, self.app.context
        message = compose_heartbeat(store.sources.all(), store.outbox.counts(), context.now(), ops_targets(context))
        if message:
            with store.transaction():
                store.outbox.enqueue(message, None, context.now())
        self.dispatch()

    def weekly_agenda(self) -> None:
        if not self.stop.is_set():
            queue_weekly_agenda(self.app.store, self.app.config, self.app.context.now())
            self.dispatch()

    def poll(self, source: Source) -> None:
        if self.stop.is_set():
            return
        run = run_source(self.app.context, source)
        self.last_progress = self.clock()
        log.info("source %s: %s new=%d updated=%d messages=%d%s", run.source_id, run.outcome, run.new,
                 run.updated, run.messages, f" error={run.error_class}: {run.error_message}" if run.error_class else "")
        self.dispatch()
        self.on_cycle()

    def dispatch(self) -> None:
        if not self.stop.is_set():
            result = self.app.dispatcher.run()
            self.last_progress = self.clock()  # the dispatcher runs every minute on the same worker
            if result.sent or result.failed or result.dead:
                log.info("dispatch: sent=%d failed=%d dead=%d", result.sent, result.failed, result.dead)

    def feed_watchdog(self) -> bool:
        """WATCHDOG=1 only while jobs keep completing: a wedged worker or a hung fetch starves it."""
        if self.clock() - self.last_progress > PROGRESS_WINDOW:
            log.error("no job completed for %.0fs: not feeding the watchdog", self.clock() - self.last_progress)
            return False
        return notify("WATCHDOG=1", self.environ)

    def _watchdog_loop(self, interval: float) -> None:
        while not self.stop.wait(interval):
            self.feed_watchdog()

    def serve(self) -> None:
        """Block until SIGTERM or Ctrl-C, then let the running job finish and stop."""
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: self.stop.set())
        self.add_jobs()
        self.scheduler.start()
        self.last_progress = self.clock()
        sources = len([s for s in self.app.sources if s.config.enabled])
        notify(f"READY=1\nSTATUS=polling {sources} sources", self.environ)
        watchdog = watchdog_seconds(self.environ)
        if watchdog:
            threading.Thread(target=self._watchdog_loop, args=(watchdog / 3,), daemon=True).start()
        log.info("watcher running: %d sources scheduled", sources)
        self.stop.wait()
        log.info("stopping: waiting for the running job to finish")
        notify("STOPPING=1", self.environ)
        self.scheduler.shutdown(wait=True)

    def _on_event(self, event: JobEvent) -> None:
        if event.code == EVENT_JOB_ERROR:
            log.error("job %s raised: %s", event.job_id, getattr(event, "exception", ""))
        elif event.code == EVENT_JOB_MISSED:
            log.warning("job %s missed its run time", event.job_id)
        else:
            log.warning("job %s still running; this run was skipped", event.job_id)
