"""Service-level figures: start-up to the first cycle, memory at rest with the model loaded, and a 24-hour
run over every bundled source on an accelerated clock (each source fires at the times its own trigger gives).
"""

from __future__ import annotations

import resource
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path


from watcher import app as app_module
from watcher.config import Schedule
from watcher.pipeline import run_source
from watcher.scheduler import trigger_for
from watcher.sources.base import load_kinds

from .cycle import loopback_sources

START = datetime(2026, 12, 7, 0, 0, tzinfo=timezone.utc)  # a Monday; mid-month days come later in the run


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def fire_times(schedule: Schedule, start: datetime, end: datetime) -> list[datetime]:
    trigger = trigger_for(Schedule(every=schedule.every, cron=schedule.cron, jitter_seconds=0,
                                   timezone=schedule.timezone))
    times, previous, now = [], None, start
    while True:
        nxt = trigger.get_next_fire_time(previous, now)
        if nxt is None or nxt >= end:
            return times
        times.append(nxt)
        previous, now = nxt, nxt + timedelta(seconds=1)


def measure() -> list[tuple[str, str]]:
    with loopback_sources("watcher-ops-") as (tmp, directory):
        # Start-up as `watcher run` does it: config, migrations, model load and training, then the first cycle.
        (directory / "watcher.toml").write_text((directory / "watcher.toml").read_text().replace(
            'method = "keywords"', 'method = "embedding"'))
        clock = {"now": START}
        started = time.perf_counter()
        cfg = app_module.load_config(directory, tmp / "ops.db")
        app = app_module.build_app(cfg, kinds=load_kinds(), environ={}, now=lambda: clock["now"])
        app.context.matcher.train()
        ready = time.perf_counter() - started
        sources = [s for s in app.sources if not s.config.fallback_for]
        run_source(app.context, sources[0], force=True)
        first_cycle = time.perf_counter() - started
        for source in sources[1:]:
            run_source(app.context, source, force=True)
        at_rest = rss_mib()

        events = sorted((t, i) for i, s in enumerate(sources)
                        for t in fire_times(s.config.schedule, START, START + timedelta(hours=24)))
        cpu, wall, received, outcomes = time.process_time(), time.perf_counter(), 0, {}
        for moment, index in events:
            clock["now"] = moment
            run = run_source(app.context, sources[index])
            outcomes[run.outcome] = outcomes.get(run.outcome, 0) + 1
            received += run.bytes_received
            app.dispatcher.run()
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        app.close()
        # A second start on the same database: the trained matcher is read back, the encoder stays unloaded.
        started = time.perf_counter()
        again = app_module.build_app(cfg, kinds=load_kinds(), environ={}, now=lambda: clock["now"])
        again.context.matcher.train()
        second = time.perf_counter() - started
        second_rss = rss_mib()
        again.close()
        return [
            ("start-up to READY, second start (trained matcher stored)", f"{second:.1f} s ({second_rss:.0f} MiB "
                                                                         "RSS in this process, model still mapped)"),
            ("start-up to READY, empty database (the matcher `make install` prepared, or training)",
             f"{ready:.1f} s"),
            ("start-up to the first completed cycle", f"{first_cycle:.1f} s"),
            ("memory at rest with the model loaded (RSS)", f"{at_rest:.0f} MiB"),
            (f"24 h simulated ({len(sources)} sources): cycles", f"{len(events)} ("
             + ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items())) + ")"),
            ("  24 h simulated: body bytes received", f"{received}"),
            ("  24 h simulated: CPU / wall", f"{cpu:.1f} s / {wall:.1f} s"),
        ]
