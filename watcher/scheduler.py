"""apscheduler 3.x: one job per source from its schedule, plus the outbox dispatcher every minute.

Two worker threads. Polls (and the heartbeat and agenda, which write the store) run one at a time on the
"default" executor: one source at a time is the polite way to poll a handful of agency hosts. Delivery runs on
the "delivery" executor with a store connection of its own, so a slow SMTP server never holds up polling, and a
long poll never holds up an alert. Defaults are explicit (coalesce, max_instances=1, a misfire grace of half the
interval) and passed through `job_defaults`, where apscheduler actually reads them. Job state is in memory only;
what must survive a restart (validators, backoff, last success) lives in our own tables.

The systemd watchdog is fed only while both workers are alive: each is either idle and still getting its
minute tick, or busy with one job for less than that job's bound.
"""

from __future__ import annotations

import logging
import os
import random
import signal
import threading
import time
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from typing import Callable, Iterator

from apscheduler.jobstores.base import JobLookupError

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_MAX_INSTANCES, EVENT_JOB_MISSED, JobEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.combining import OrTrigger
from apscheduler.triggers.interval import IntervalTrigger

from .app import App
from .config import Schedule, crontab_fields
from .notify.health import compose_heartbeat
from .notify.escalation import escalate
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
    triggers = [_cron(line, schedule.jitter_seconds, schedule.timezone) for line in schedule.cron]
    return triggers[0] if len(triggers) == 1 else OrTrigger(triggers)


def _cron(line: str, jitter: int, zone: str = "UTC") -> CronTrigger:
    # Not from_crontab: it takes no jitter, and it reads day-of-week numbers the apscheduler way (0 = Monday).
    return CronTrigger(**crontab_fields(line), jitter=jitter, timezone=zone)


def misfire_grace(schedule: Schedule) -> int:
    if schedule.every:
        return max(int(schedule.every.total_seconds() // 2), 60)
    return 3600


HEARTBEAT = "0 7 * * *"  # UTC, daily
ESCALATE = "0 13 * * *"  # UTC, daily: mid-morning in the United States
PROGRESS_WINDOW = 3 * DISPATCH_EVERY.total_seconds()  # an idle worker missed its ticks for this long: wedged
DISPATCH_BUDGET = 45.0  # seconds of sending per dispatch run; the rest goes out on the next tick
DELIVERY_BOUND = 5 * 60.0  # one dispatch run: its budget plus one slow send (apprise's own timeouts)


class Worker:
    """One executor thread's liveness, as the watchdog reads it."""

    def __init__(self, name: str, bound: float, clock: Callable[[], float]):
        self.name, self.bound, self.clock = name, bound, clock
        self.busy_since: float | None = None
        self.last_done = clock()

    @contextmanager
    def job(self) -> Iterator[None]:
        self.busy_since = self.clock()
        try:
            yield
        finally:
            self.busy_since, self.last_done = None, self.clock()

    def problem(self) -> str | None:
        now = self.clock()
        if self.busy_since is not None:
            busy = now - self.busy_since
            return f"{self.name} worker busy with one job for {busy:.0f}s" if busy > self.bound else None
        idle = now - self.last_done
        return f"{self.name} worker completed nothing for {idle:.0f}s" if idle > PROGRESS_WINDOW else None


class Service:
    def __init__(self, app: App, *, on_cycle: Callable[[], None] = lambda: None,
                 clock: Callable[[], float] = time.monotonic, environ=os.environ):
        self.app = app
        self.stop = threading.Event()
        self.on_cycle = on_cycle
        self.clock = clock
        self.environ = environ
        # A poll is bounded by its fetches: ten deadlines cover the longest source (a Federal Register query and
        # its pages) with room; a poll running longer than that is hung.
        self.polling = Worker("polling", 10 * app.config.http.deadline + 60, clock)
        self.delivery = Worker("delivery", DELIVERY_BOUND, clock)
        self.scheduler = BackgroundScheduler(
            executors={"default": ThreadPoolExecutor(max_workers=1), "delivery": ThreadPoolExecutor(max_workers=1)},
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
        every = IntervalTrigger(seconds=DISPATCH_EVERY.total_seconds())
        self.scheduler.add_job(self.dispatch, every, id="dispatch", replace_existing=True, executor="delivery")
        self.scheduler.add_job(self.tick, every, id="tick", replace_existing=True)
        self.scheduler.add_job(self.heartbeat, _cron(HEARTBEAT, 0), id="heartbeat", replace_existing=True,
                               misfire_grace_time=6 * 3600)
        if any(t.lead_for for t in self.app.config.targets):
            self.scheduler.add_job(self.escalate, _cron(ESCALATE, 0), id="escalate", replace_existing=True,
                                   misfire_grace_time=6 * 3600)
        if self.app.config.agenda.schedule:
            self.scheduler.add_job(self.weekly_agenda, _cron(self.app.config.agenda.schedule, 0), id="agenda",
                                   replace_existing=True, misfire_grace_time=6 * 3600)

    def tick(self) -> None:
        """Proof that the polling worker still takes jobs between polls; and, on the worker that classifies (so
        never mid-item), the matcher's upkeep: a background retrain when feedback changed its inputs, and its worker
        process stopped once idle for [matching] release_after minutes."""
        with self.polling.job():
            matcher = self.app.context.matcher
            refresh = getattr(matcher, "refresh", None)
            said = refresh() if refresh else None
            if said:
                log.info("matcher: %s", said)
            release = getattr(matcher, "release_idle", None)
            if release and release(self.app.config.matching.release_after * 60):
                log.info("matcher: released after %g idle minutes", self.app.config.matching.release_after)

    def heartbeat(self) -> None:
        """The daily sign of life to the ops targets (G3)."""
        if self.stop.is_set():
            return
        with self.polling.job():
            store, context = self.app.store, self.app.context
            message = compose_heartbeat(store.sources.all(), store.outbox.counts(), context.now(),
                                        ops_targets(context))
            if message:
                with store.transaction():
                    store.outbox.enqueue(message, None, context.now())
        self.wake_delivery()

    def escalate(self) -> None:
        """Once a day: urgent tasks nobody acknowledged before their change takes effect go to the team's lead."""
        if self.stop.is_set():
            return
        with self.polling.job():
            escalate(self.app.store, self.app.config, self.app.context.now())
        self.wake_delivery()

    def weekly_agenda(self) -> None:
        if not self.stop.is_set():
            with self.polling.job():
                queue_weekly_agenda(self.app.store, self.app.config, self.app.context.now())
            self.wake_delivery()

    def poll(self, source: Source) -> None:
        if self.stop.is_set():
            return
        with self.polling.job():
            run = run_source(self.app.context, source)
        log.info("source %s: %s new=%d updated=%d messages=%d%s", run.source_id, run.outcome, run.new,
                 run.updated, run.messages, f" error={run.error_class}: {run.error_message}" if run.error_class else "")
        if run.messages:
            self.wake_delivery()
        self.on_cycle()

    def wake_delivery(self) -> None:
        """Run the dispatcher now on its own worker rather than at the next minute; never wait for it."""
        if self.delivery.busy_since is not None:
            return  # it is sending now, and takes what is due when that run ends
        try:
            self.scheduler.modify_job("dispatch", next_run_time=datetime.now(timezone.utc))
        except JobLookupError:  # jobs not added (a test driving one method)
            pass

    def dispatch(self) -> None:
        if not self.stop.is_set():
            with self.delivery.job():
                result = self.app.dispatcher.run(budget=DISPATCH_BUDGET)
            if result.sent or result.failed or result.dead:
                log.info("dispatch: sent=%d failed=%d dead=%d", result.sent, result.failed, result.dead)

    def feed_watchdog(self) -> bool:
        """WATCHDOG=1 only while both workers are alive: a wedged worker or a hung job starves it."""
        problems = [p for p in (self.polling.problem(), self.delivery.problem()) if p]
        if problems:
            log.error("not feeding the watchdog: %s", "; ".join(problems))
            return False
        return notify("WATCHDOG=1", self.environ)

    def _watchdog_loop(self, interval: float) -> None:
        while not self.stop.wait(interval):
            self.feed_watchdog()

    def serve(self) -> None:
        """Block until SIGTERM or Ctrl-C, then let the running jobs finish and stop."""
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: self.stop.set())
        self.add_jobs()
        self.scheduler.start()
        self.polling.last_done = self.delivery.last_done = self.clock()
        sources = len([s for s in self.app.sources if s.config.enabled])
        notify(f"READY=1\nSTATUS=polling {sources} sources", self.environ)
        watchdog = watchdog_seconds(self.environ)
        if watchdog:
            threading.Thread(target=self._watchdog_loop, args=(watchdog / 3,), daemon=True).start()
        log.info("watcher running: %d sources scheduled", sources)
        self.stop.wait()
        log.info("stopping: waiting for the running jobs to finish")
        notify("STOPPING=1", self.environ)
        self.scheduler.shutdown(wait=True)

    def _on_event(self, event: JobEvent) -> None:
        if event.code == EVENT_JOB_ERROR:
            log.error("job %s raised: %s", event.job_id, getattr(event, "exception", ""))
        elif event.code == EVENT_JOB_MISSED:
            log.warning("job %s missed its run time", event.job_id)
        elif event.job_id != "dispatch":  # a long delivery run simply continues on the next tick
            log.warning("job %s still running; this run was skipped", event.job_id)
