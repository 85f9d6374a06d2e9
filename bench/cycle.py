"""Cost of one `check --all` cycle when every source answers 304 (the steady state of a quiet day).

A loopback HTTPS server serves the bundled sources (real USCIS items, ETag validators); one priming cycle
takes the baseline, then the measured cycles send If-None-Match and get 304s.
"""

from __future__ import annotations

import resource
import shutil
import tempfile
import time
from pathlib import Path

import trustme

from tests.feeds import rss, uscis_items
from tests.loopback import Loopback, conditional_feed, tls_context
from watcher import app as app_module
from watcher import config as config_module
from watcher.pipeline import run_source
from watcher.sources.base import load_kinds

REPO = Path(__file__).resolve().parents[1]
ROUNDS = 20


def _config(tmp: Path, server: Loopback, ca_path: Path) -> Path:
    directory = tmp / "config"
    shutil.copytree(REPO / "config", directory)
    bundled = config_module.load(REPO / "config")
    watcher_toml = (directory / "watcher.toml").read_text().replace(
        'allowed_hosts = [', f'ca_bundle = "{ca_path}"\nallow_loopback = true\nallowed_hosts = [\n    "127.0.0.1",', 1)
    (directory / "watcher.toml").write_text(watcher_toml)
    sources = (directory / "sources.toml").read_text()
    for source in bundled.sources:
        path = f"/{source.id}"
        server.routes[path] = conditional_feed(rss(uscis_items()), f'"{source.id}-1"')
        sources = sources.replace(f'url = "{source.url}"', f'url = "{server.url(path)}"')
    (directory / "sources.toml").write_text(sources)
    return directory


def measure() -> list[tuple[str, str]]:
    tmp = Path(tempfile.mkdtemp(prefix="watcher-bench-"))
    authority = trustme.CA()
    ca_path = tmp / "ca.pem"
    authority.cert_pem.write_to_path(str(ca_path))
    server = Loopback(tls_context(authority))
    try:
        cfg = app_module.load_config(_config(tmp, server, ca_path), tmp / "bench.db")
        app = app_module.build_app(cfg, kinds=load_kinds(), environ={})
        for source in app.sources:  # priming: baseline, unconditional
            run_source(app.context, source, force=True)
        writes, wall, cpu, received = app.store.total_writes, time.perf_counter(), time.process_time(), 0
        for _ in range(ROUNDS):
            for source in app.sources:
                run = run_source(app.context, source, force=True)
                assert run.outcome == "not_modified", run
                received += run.bytes_received
            app.dispatcher.run()
        wall, cpu = (time.perf_counter() - wall) / ROUNDS, (time.process_time() - cpu) / ROUNDS
        writes = (app.store.total_writes - writes) / ROUNDS
        app.close()
        n = len(cfg.sources)
        return [
            (f"check --all, all 304 ({n} sources): wall per cycle", f"{wall * 1000:.1f} ms"),
            ("  CPU per cycle", f"{cpu * 1000:.1f} ms"),
            ("  body bytes received per cycle", f"{received / ROUNDS:.0f}"),
            ("  database rows written per cycle", f"{writes:.0f} ({writes / n:.0f} per source: state + run)"),
            ("process peak RSS so far", f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB"),
        ]
    finally:
        server.close()
        shutil.rmtree(tmp, ignore_errors=True)
