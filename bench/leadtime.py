"""Lead time: from an item appearing upstream to the attorney's e-mail, over two simulated days.

A loopback HTTPS server serves every bundled source; items appear on it at known (simulated) times: ten real USCIS
alerts through both business days, the H-1B rule filed on the Federal Register's public inspection desk on Monday at
8:45 Eastern and published on Tuesday, a Supreme Court opinion at 10:00 Eastern, the next Visa Bulletin on Tuesday
afternoon. Each source is polled at the times its bundled schedule gives (its jitter drawn), the service's matcher
runs in its worker process (started on demand, stopped after 10 idle simulated minutes), and the outbox is
delivered to a real SMTP server (aiosmtpd) right after each poll, as the service wakes delivery. An e-mail's arrival
is the poll's simulated time plus the real seconds the poll, the matching and the delivery took.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import statistics
import time
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from aiosmtpd.controller import Controller

from tests.conftest import Mailbox, free_port
from tests.feeds import DATA, rss, uscis_items
from tests.loopback import Reply, conditional_feed
from tests.test_alerts_e2e import H1B_RULE, subject, without_row
from watcher import app as app_module
from watcher.sources.base import load_kinds

from .cycle import FIXTURES, JULY, loopback_sources
from .operations import fire_times

EASTERN = ZoneInfo("America/New_York")
START = datetime(2026, 12, 7, 0, 0, tzinfo=EASTERN).astimezone(timezone.utc)  # Monday 00:00 Eastern
END = START + timedelta(days=2)
TARGET = """
[[target]]
name = "attorneys"
url_env = "MAIL_URL"
tags = ["attorneys"]

[[route]]
case_types = ["*"]
tags = ["attorneys"]
"""


def eastern(day: int, hour: int, minute: int) -> datetime:
    return (START.astimezone(EASTERN) + timedelta(days=day)).replace(hour=hour, minute=minute).astimezone(timezone.utc)


def _feed(body: bytes, content_type: str = "application/rss+xml; charset=utf-8"):
    """Serve `body` with an ETag of its content: 304 to a client that has it."""
    return conditional_feed(body, f'"{hashlib.sha256(body).hexdigest()[:16]}"', content_type)


def _json(body: bytes) -> Reply:
    return Reply(200, body, {"Content-Type": "application/json"})


def _fr_page(*docs) -> bytes:
    return json.dumps({"count": len(docs), "results": list(docs)}).encode()


def measure() -> list[tuple[str, str]]:
    rng = random.Random(27)
    items = uscis_items()
    # The appearances: (kind, what the e-mail subject shows, when it appears upstream).
    alert_times = sorted(eastern(day, rng.randint(8, 17), rng.randint(0, 59)) for day in (0, 1) for _ in range(5))
    appear = [("rss", items[k]["title"], when) for k, when in enumerate(alert_times)]
    filed, published_at = eastern(0, 8, 45), eastern(1, 6, 0)
    appear += [("federal_register", "Cap-Subject H-1B", filed), ("scotus", "Santos-Zacaria", eastern(0, 10, 0)),
               ("visa_bulletin", "Visa Bulletin for July 2026", eastern(1, 14, 20))]
    pi_page = json.loads((DATA / "federal_register_public_inspection.json").read_text())
    on_desk = dict(pi_page["results"][0], filed_at=filed.isoformat(),
                   publication_date=published_at.astimezone(EASTERN).date().isoformat())
    rule = dict(H1B_RULE, publication_date=on_desk["publication_date"], citation="86 FR 8543")
    slip = (FIXTURES / "scotus_slip_opinions.html").read_bytes()

    sink = Mailbox()
    smtp = Controller(sink, hostname="127.0.0.1", port=free_port())
    smtp.start()
    with loopback_sources("watcher-lead-") as (tmp, directory, server):
        toml = directory / "watcher.toml"
        toml.write_text(toml.read_text().replace('method = "keywords"', 'method = "embedding"') + TARGET)
        cfg = app_module.load_config(directory, tmp / "lead.db")
        clock = {"now": START}
        app = app_module.build_app(cfg, kinds=load_kinds(), now=lambda: clock["now"], isolate_matcher=True,
                                   environ={"MAIL_URL": f"mailto://127.0.0.1:{smtp.port}?from=watcher@firm.example"
                                                        "&to=attorneys@firm.example"})
        matcher = app.context.matcher
        matcher.clock = lambda: (clock["now"] - START).total_seconds()  # idle release on the simulated clock
        sources = [s for s in app.sources if s.config.enabled and not s.config.fallback_for]
        by_id = {s.config.id: s for s in sources}

        def publish(now: datetime) -> None:
            """The upstream as it stands at `now`."""
            shown = [items[k] for k, (_, _, when) in enumerate(appear[:10]) if when <= now] + items[10:]
            for source in sources:  # the alerts appear in the alerts feed; the other feeds stay as they were
                if source.config.kind == "rss":
                    server.routes[_path(source)] = _feed(rss(shown if source is by_id["uscis-alerts"] else items[10:]))
            server.routes["/public-inspection-documents/current.json"] = _json(
                _fr_page(on_desk) if filed <= now < published_at else _fr_page())
            server.routes[_path(by_id["federal-register"])] = _json(
                _fr_page(rule) if now >= published_at else _fr_page())
            scotus = slip if now >= appear[11][2] else without_row(slip, b"21-1436")
            for path in [p for p in server.routes if p.startswith(_path(by_id["scotus"]))]:
                server.routes[path] = _feed(scotus, "text/html")
            bulletin = "visa_bulletin_2026_07.html" if now >= appear[12][2] else "visa_bulletin_2024_11.html"
            server.routes[JULY] = _feed((FIXTURES / bulletin).read_bytes(), "text/html")
            # The index changes when a bulletin is published (its "current" and "upcoming" entries move).
            index = (FIXTURES / "visa_bulletin_index.html").read_bytes()
            server.routes[_path(by_id["visa-bulletin"])] = _feed(
                index + (b"<!-- July published -->" if now >= appear[12][2] else b""), "text/html")

        from watcher.pipeline import run_source

        publish(START)
        for source in sources:  # the baseline, before the two days
            run_source(app.context, source, force=True)
        app.dispatcher.run()
        assert sink.messages == [], [subject(m) for m in sink.messages]

        events = sorted((t + timedelta(seconds=rng.uniform(0, s.config.schedule.jitter_seconds)), s.config.id)
                        for s in sources for t in fire_times(s.config.schedule, START, END))
        arrivals: dict[str, datetime] = {}
        worker_starts = 0
        for moment, source_id in events:
            clock["now"] = moment
            publish(moment)
            was_running = matcher.running
            started = time.perf_counter()
            run_source(app.context, by_id[source_id])
            app.dispatcher.run()
            arrived = moment + timedelta(seconds=time.perf_counter() - started)
            worker_starts += matcher.running and not was_running
            for mail in sink.messages:
                arrivals.setdefault(subject(mail), arrived)
            matcher.release_idle(cfg.matching.release_after * 60)
        app.close()
    smtp.stop()

    leads: dict[str, list[float]] = {}
    missed = []
    for kind, shown, when in appear:
        first = min((at for said, at in arrivals.items() if shown[:40] in said and "UPDATE" not in said),
                    default=None)
        if first is None:
            missed.append(shown)
            continue
        leads.setdefault(kind, []).append((first - when).total_seconds() / 60)
    rows = [(f"lead time, simulated 2 days ({len(events)} polls, {worker_starts} matcher worker starts): "
             "appearance to e-mail, p50 / p95 / max", "")]
    for kind, values in sorted(leads.items()):
        values.sort()
        p95 = values[min(len(values) - 1, round(0.95 * (len(values) - 1)))]
        rows.append((f"  {kind} ({len(values)} items)",
                     f"{statistics.median(values):.1f} / {p95:.1f} / {values[-1]:.1f} min"))
    desk = next((at for said, at in arrivals.items() if "Cap-Subject H-1B" in said and "UPDATE" not in said),
                None)
    update = next((at for said, at in arrivals.items() if "Cap-Subject H-1B" in said and "UPDATE" in said),
                  None)
    if desk:
        rows.append(("  Federal Register: alert from public inspection before publication (06:00 Eastern)",
                     f"{(published_at - desk).total_seconds() / 3600:.1f} h"
                     + (f"; published version as an update {(update - published_at).total_seconds() / 60:.0f} min "
                        "after publication" if update else "; no update e-mail")))
    if missed:
        rows.append(("  appeared but never e-mailed (no case type)", "; ".join(m[:50] for m in missed)))
    return rows


def _path(source) -> str:
    return re.sub(r"^https://[^/]+", "", source.config.url)
