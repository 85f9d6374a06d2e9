"""Service-level figures, the service built as `watcher run` builds it (the matcher in its worker process): start-up
to READY and to the first cycle, 100 new items classified (peak memory of the worker and of the service beside it,
against a model-only process classifying the same items), memory at rest once the worker is stopped, and a 24-hour
run over every bundled source on an accelerated clock (each source fires at the times its own trigger gives).
"""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path


from watcher import app as app_module
from watcher.matching.labels import DEFAULT_LABELS, load_labeled
from watcher.models import Change
from watcher.config import Schedule
from watcher.pipeline import run_source
from watcher.scheduler import trigger_for
from watcher.sources.base import load_kinds

from .cycle import loopback_sources

START = datetime(2026, 12, 7, 0, 0, tzinfo=timezone.utc)  # a Monday; mid-month days come later in the run


def rss_mib() -> float:
    return status_kib("self", "VmRSS") / 1024


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


def status_kib(pid: int | str, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def hundred_items() -> list[Change]:
    """100 real items the service has not seen: the bundled validation split's first hundred."""
    items = [i for i in load_labeled(DEFAULT_LABELS) if i.split == "validation"][:100]
    return [Change("bench", f"item-{n}", "alert", i.title, i.summary, f"https://www.uscis.gov/bench/{n}")
            for n, i in enumerate(items)]


MODEL_ONLY = """
import os, sys, tempfile
os.environ["HF_HUB_OFFLINE"] = "1"
from bench.operations import hundred_items
from watcher import app as app_module
from watcher.matching.labels import DEFAULT_LABELS, load_labeled
from watcher.models import Change
from watcher.store import Store
config = app_module.load_config(sys.argv[1], os.path.join(tempfile.mkdtemp(), "model-only.db"))
store = Store(config.storage_path)
matcher = app_module.build_matcher(config, store)
for change in hundred_items():
    matcher.match(change)
print(open("/proc/self/status").read().split("VmHWM:")[1].split()[0])
"""


def model_only_peak(directory: Path) -> float:
    """Peak RSS (MiB) of a process that only loads the matcher and classifies the same 100 items."""
    out = subprocess.run([sys.executable, "-c", MODEL_ONLY, str(directory)], capture_output=True, text=True,
                         cwd=Path(__file__).resolve().parents[1], check=True)
    return int(out.stdout.strip().splitlines()[-1]) / 1024


def measure() -> list[tuple[str, str]]:
    with loopback_sources("watcher-ops-") as (tmp, directory, _):
        # Start-up as `watcher run` does it: config, migrations, the matcher in its worker process (not started).
        (directory / "watcher.toml").write_text((directory / "watcher.toml").read_text().replace(
            'method = "keywords"', 'method = "embedding"'))
        clock = {"now": START}
        started = time.perf_counter()
        cfg = app_module.load_config(directory, tmp / "ops.db")
        app = app_module.build_app(cfg, kinds=load_kinds(), environ={}, now=lambda: clock["now"],
                                   isolate_matcher=True)
        ready = time.perf_counter() - started
        ready_rss = rss_mib()
        sources = [s for s in app.sources if s.config.enabled and not s.config.fallback_for]
        run_source(app.context, sources[0], force=True)
        first_cycle = time.perf_counter() - started
        for source in sources[1:]:
            run_source(app.context, source, force=True)

        # 100 new items through the worker, as a busy morning would send them; the peak of both processes.
        matcher = app.context.matcher
        items = hundred_items()
        classify_started = time.perf_counter()
        for change in items:
            matcher.match(change)
        classify = time.perf_counter() - classify_started
        worker_peak = status_kib(matcher._process.pid, "VmHWM") / 1024
        service_during = rss_mib()
        model_only = model_only_peak(directory)
        matcher.release_idle(0)  # what ten idle minutes do
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
        # A second start on the same database, then a first item: the stored model is read in the worker.
        started = time.perf_counter()
        again = app_module.build_app(cfg, kinds=load_kinds(), environ={}, now=lambda: clock["now"],
                                     isolate_matcher=True)
        second = time.perf_counter() - started
        first_item = time.perf_counter()
        again.context.matcher.match(items[0])
        first_item = time.perf_counter() - first_item
        again.close()
        return [
            ("start-up to READY, empty database (`watcher run`: the model waits in its worker)",
             f"{ready:.1f} s ({ready_rss:.0f} MiB RSS)"),
            ("start-up to READY, second start (trained matcher stored)", f"{second:.1f} s"),
            ("start-up to the first completed cycle", f"{first_cycle:.1f} s"),
            ("first item after a start: worker started, stored model read, matched", f"{first_item:.1f} s"),
            ("classify 100 new items in the worker (model load included)", f"{classify:.1f} s"),
            ("  peak RSS: worker / service process beside it / both",
             f"{worker_peak:.0f} / {service_during:.0f} / {worker_peak + service_during:.0f} MiB"),
            ("  model-only process, same 100 items (peak RSS)", f"{model_only:.0f} MiB: worker "
             f"{worker_peak / model_only:.2f}x, both processes {(worker_peak + service_during) / model_only:.2f}x"),
            ("memory at rest after classifying, worker stopped (service RSS)", f"{at_rest:.0f} MiB"),
            (f"24 h simulated ({len(sources)} sources): cycles", f"{len(events)} ("
             + ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items())) + ")"),
            ("  24 h simulated: body bytes received", f"{received}"),
            ("  24 h simulated: CPU / wall", f"{cpu:.1f} s / {wall:.1f} s"),
        ]
