"""Cost of one `check --all` cycle on a quiet day: every source unchanged upstream.

A loopback HTTPS server serves each bundled source its recorded response (tests/data) with an ETag; one
priming cycle takes the baselines, then the measured cycles send If-None-Match and get 304s. The Federal
Register and CourtListener APIs send no validators, so they answer 200 with unchanged content every time.
"""

from __future__ import annotations

import json
import resource
import shutil
import tempfile
import time
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Iterator

import trustme

from tests.feeds import DATA, rss, uscis_items
from tests.loopback import Loopback, conditional_feed, tls_context
from watcher import app as app_module
from watcher import config as config_module
from watcher.pipeline import run_source
from watcher.sources.base import load_kinds
from watcher.sources.courts import term_of

REPO = Path(__file__).resolve().parents[1]
FIXTURES = DATA / "fixtures"
ROUNDS = 10
JULY = "/content/travel/en/legal/visa-law0/visa-bulletin/2026/visa-bulletin-for-july-2026.html"


def _single_page(path: Path) -> bytes:
    """The recorded API page without its next_page_url (which points at the real host)."""
    data = json.loads(path.read_text())
    data.pop("next_page_url", None)
    return json.dumps(data).encode()


def _body(kind: str) -> bytes:
    pages = {
        "rss": lambda: rss(uscis_items()),
        "visa_bulletin": lambda: (FIXTURES / "visa_bulletin_index.html").read_bytes(),
        "federal_register": lambda: _single_page(FIXTURES / "federalregister_uscis_documents_trimmed.json"),
        "eoir_precedents": lambda: (FIXTURES / "eoir_bia_volume_page.html").read_bytes(),
        "scotus": lambda: (FIXTURES / "scotus_slip_opinions.html").read_bytes(),
        "uscis_newsroom": lambda: (FIXTURES / "uscis_newsroom_all_news_fragment.html").read_bytes(),
        "uscis_policy_manual": lambda: (DATA / "uscis_policy_manual_updates_trimmed.html").read_bytes(),
        "courtlistener": lambda: json.dumps({"count": 0, "next": None, "results": []}).encode(),
        "uscis_chart_choice": lambda: (DATA / "uscis_chart_choice_quoted.html").read_bytes(),
        "presidential_actions": lambda: (DATA / "whitehouse_presidential_actions_feed.xml").read_bytes(),
        "dos_news": lambda: (DATA / "dos_visas_news_index.html").read_bytes(),
        "dol_oflc": lambda: (DATA / "dol_oflc_foreign_labor_2025.html").read_bytes(),
        "sevp": lambda: (DATA / "sevp_study_in_the_states_blog.html").read_bytes(),
        "sevp_broadcasts": lambda: (DATA / "ice_sevis_whats_new.html").read_bytes(),
        "eoir_policy": lambda: (DATA / "eoir_policy_memoranda_pm_list.html").read_bytes(),
        "eoir_court_status": lambda: (DATA / "eoir_operational_status_2022_02.html").read_bytes(),
    }
    return pages[kind]()


def _config(tmp: Path, server: Loopback, ca_path: Path) -> Path:
    directory = tmp / "config"
    shutil.copytree(REPO / "config", directory)
    bundled = config_module.load(REPO / "config")
    watcher_toml = (directory / "watcher.toml").read_text().replace(
        'allowed_hosts = [', f'ca_bundle = "{ca_path}"\nallow_loopback = true\nallowed_hosts = [\n    "127.0.0.1",', 1)
    watcher_toml = watcher_toml.replace('method = "embedding"', 'method = "keywords"')  # the cycle, not the model
    (directory / "watcher.toml").write_text(watcher_toml)
    sources = (directory / "sources.toml").read_text()
    for source in bundled.sources:
        path = f"/{source.id}"
        handler = conditional_feed(_body(source.kind), f'"{source.id}-1"')
        server.routes[path] = handler
        if source.kind == "scotus":  # the source appends the current term's two-digit year
            server.routes[f"{path}/{term_of(date.today()) % 100:02d}"] = handler
        sources = sources.replace(f'url = "{source.url}"', f'url = "{server.url(path)}"')
    server.routes[JULY] = conditional_feed((FIXTURES / "visa_bulletin_2026_07.html").read_bytes(), '"vb-1"')
    # The Federal Register's public inspection desk, beside its documents query (no validators either).
    server.routes["/public-inspection-documents/current.json"] = conditional_feed(
        (DATA / "federal_register_public_inspection.json").read_bytes(), '"pi-1"')
    (directory / "sources.toml").write_text(sources)
    return directory


@contextmanager
def loopback_sources(prefix: str) -> Iterator[tuple[Path, Path, Loopback]]:
    """A temporary config directory whose every source is served by a loopback HTTPS server; yields
    (tmp dir, config dir, server) and tears them down."""
    tmp = Path(tempfile.mkdtemp(prefix=prefix))
    authority = trustme.CA()
    ca_path = tmp / "ca.pem"
    authority.cert_pem.write_to_path(str(ca_path))
    server = Loopback(tls_context(authority))
    try:
        yield tmp, _config(tmp, server, ca_path), server
    finally:
        server.close()
        shutil.rmtree(tmp, ignore_errors=True)


def measure() -> list[tuple[str, str]]:
    with loopback_sources("watcher-bench-") as (tmp, directory, _):
        cfg = app_module.load_config(directory, tmp / "bench.db")
        app = app_module.build_app(cfg, kinds=load_kinds(), environ={})
        sources = [s for s in app.sources if s.config.enabled and not s.config.fallback_for]  # the HTML fallback stays on standby
        for source in sources:  # priming: baselines, unconditional
            run = run_source(app.context, source, force=True)
            assert run.outcome == "baseline", run
        writes, wall, cpu, received, outcomes = app.store.total_writes, time.perf_counter(), time.process_time(), 0, {}
        per_304 = []  # (CPU seconds, body bytes) of each run answered 304
        for _ in range(ROUNDS):
            for source in sources:
                before = time.process_time()
                run = run_source(app.context, source, force=True)
                assert run.outcome in ("not_modified", "ok") and not run.new and not run.messages, run
                if run.outcome == "not_modified":
                    per_304.append((time.process_time() - before, run.bytes_received))
                outcomes[run.outcome] = outcomes.get(run.outcome, 0) + 1
                received += run.bytes_received
            app.dispatcher.run()
        wall, cpu = (time.perf_counter() - wall) / ROUNDS, (time.process_time() - cpu) / ROUNDS
        writes = (app.store.total_writes - writes) / ROUNDS
        app.close()
        n = len(sources)
        return [
            (f"check --all, nothing changed ({n} sources): wall per cycle", f"{wall * 1000:.0f} ms"),
            ("  CPU per cycle", f"{cpu * 1000:.0f} ms"),
            ("  answers per cycle", ", ".join(f"{k} {v // ROUNDS}" for k, v in sorted(outcomes.items()))
             + " (the two APIs send no validators)"),
            ("  body bytes received per cycle", f"{received / ROUNDS:.0f}"),
            ("  one source answered 304: CPU mean / max, body bytes",
             f"{1000 * sum(c for c, _ in per_304) / len(per_304):.1f} / {1000 * max(c for c, _ in per_304):.1f} ms, "
             f"{sum(b for _, b in per_304)}"),
            ("  database rows written per cycle", f"{writes:.0f} ({writes / n:.1f} per source: state + run)"),
            ("process peak RSS so far (the bench process: cycles and loopback server)",
             f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB"),
        ]
