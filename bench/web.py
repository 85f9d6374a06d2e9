"""The web page under load: p95 time to render the change list (unfiltered, filtered by case type, and a full-text
search) with 10,000 changes in the database, through the real Flask app (its test client: no network in the way).
Goal (issue 26): p95 <= 150 ms on this machine."""

from __future__ import annotations

import statistics
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from watcher import config as config_module
from watcher.store import Store
from watcher.store.timefmt import to_text

REPO = Path(__file__).resolve().parents[1]
CHANGES = 10_000
ROUNDS = 60
WORDS = ["registration", "asylum", "parole", "fee", "visa", "bulletin", "rule", "policy", "citizenship", "petition"]
CODES = ["H-1B", "I-485", "TPS", "ASYLUM", "REMOVAL", "FEES", "I-765", "N-400"]


def _fill(store: Store) -> None:
    start = datetime(2024, 1, 1, tzinfo=timezone.utc)
    with store.transaction():
        store.db["changes"].insert_all(
            ({"id": i, "source_id": f"source-{i % 9}", "item_key": f"k{i}", "kind": "alert", "version": 1,
              "title": f"USCIS {WORDS[i % 10]} update {i} on {WORDS[(i * 7) % 10]}",
              "summary": f"Summary {i}: {' '.join(WORDS[(i + k) % 10] for k in range(30))}",
              "url": f"https://www.uscis.gov/n/{i}", "facts": "{}", "content_hash": str(i), "published": None,
              "first_seen_at": to_text(start + timedelta(minutes=i)), "updated_at": to_text(start + timedelta(minutes=i))}
             for i in range(1, CHANGES + 1)), batch_size=1000)
        store.db["matches"].insert_all(
            ({"change_id": i, "version": 1, "case_type": CODES[i % len(CODES)], "score": 0.9, "method": "m",
              "rationale": "r"} for i in range(1, CHANGES + 1)), batch_size=1000)
        store.db["messages"].insert_all(
            ({"ref": f"W-{i:010d}", "change_id": i, "version": 1, "subject": "s", "text": "t", "html": "h",
              "created_at": to_text(start), "kind": "alert", "urgency": ("INFO", "ACTION", "URGENT")[i % 3]}
             for i in range(1, CHANGES + 1, 3)), batch_size=1000)
        store.web.add_user("bench", "attorney", "bench password 123", start)


def _p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[-1] * 1000


def measure() -> list[tuple[str, str]]:
    from watcher.web import create_app

    with tempfile.TemporaryDirectory(prefix="watcher-web-bench-") as tmp:
        store = Store(Path(tmp) / "web.db")
        _fill(store)
        config = config_module.load(REPO / "config", db_override=Path(tmp) / "web.db")
        app = create_app(config, store)
        client = app.test_client()
        login = client.get("/login", base_url="https://bench.local")
        token = login.get_data(as_text=True).split('name="csrf" value="')[1].split('"')[0]
        client.post("/login", data={"name": "bench", "password": "bench password 123", "csrf": token},
                    base_url="https://bench.local")
        rows = []
        for label, query in (("change list", {}), ("change list, one case type", {"type": "TPS"}),
                             ("change list, full-text search", {"q": "asylum parole"}),
                             ("change list, page 50", {"page": "50"})):
            samples = []
            for _ in range(ROUNDS):
                began = time.perf_counter()
                response = client.get("/changes", query_string=query, base_url="https://bench.local")
                samples.append(time.perf_counter() - began)
                assert response.status_code == 200
            rows.append((f"web: {label}, {CHANGES:,} changes", f"p95 {_p95(samples):.0f} ms, median "
                                                                 f"{statistics.median(samples) * 1000:.0f} ms"))
        store.close()
    return rows


if __name__ == "__main__":
    for row in measure():
        print(row)
