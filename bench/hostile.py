"""Hostile responses (issue 25): peak memory and time of each attack, each in a fresh process so one attack's
peak cannot hide another's; then the slowest parse of each source kind on a page ten times its recorded size.

`python -m bench.hostile ATTACK` runs one attack and prints one JSON line; `measure()` runs them all.
"""

from __future__ import annotations

import gzip
import json
import re
import resource
import subprocess
import sys
import tempfile
import time
import zlib
from dataclasses import replace
from pathlib import Path

from tests.feeds import DATA, feed_posts, rss, uscis_items
from watcher.config import HttpSettings, Schedule, SourceConfig
from watcher.errors import WatcherError
from watcher.models import Fetched, Validators
from watcher.sources.base import load_kinds

FIXTURES = DATA / "fixtures"
REPO = Path(__file__).resolve().parents[1]


def _gzip_zeros(size: int) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = b"\0" * (1 << 20)
    return b"".join(packer.compress(block) for _ in range(size >> 20)) + packer.flush()


def _serve_and_fetch(reply_or_handler, **settings) -> str:
    import trustme

    from tests.loopback import Loopback, Reply, tls_context
    from watcher.http import HttpClient
    authority = trustme.CA()
    with tempfile.TemporaryDirectory() as tmp:
        ca_path = Path(tmp) / "ca.pem"
        authority.cert_pem.write_to_path(str(ca_path))
        server = Loopback(tls_context(authority))
        server.routes["/x"] = reply_or_handler if callable(reply_or_handler) else Reply(*reply_or_handler)
        http = HttpSettings(user_agent="bench (it@firm.example)", connect_timeout=2, read_timeout=2, deadline=3,
                            max_bytes=15 * 1024 * 1024, allowed_hosts=("127.0.0.1",), ca_bundle=str(ca_path),
                            allow_loopback=True)
        try:
            HttpClient(replace(http, **settings)).get(server.url("/x"))
            return "accepted"
        except WatcherError as exc:
            return f"refused ({exc.error_class})"
        finally:
            server.close()


def _drip(request) -> None:
    request.wfile.write(b"HTTP/1.1 200 OK\r\n")
    for _ in range(600):
        request.wfile.write(b"X")
        request.wfile.flush()
        time.sleep(0.05)  # the attacker's pace: one header byte each 50 ms, for 30 s


def _entity_feed() -> bytes:
    entity = b'<!DOCTYPE rss [<!ENTITY big "' + b"x" * 100_000 + b'">]>'
    return b'<?xml version="1.0"?><!-- <a -->' + entity + b"<rss><channel><title>" + b"&big;" * 3_000_000 + \
        b"</title></channel></rss>"


def _parse(kind: str, body: bytes, url: str = "https://www.uscis.gov/x") -> str:
    source = load_kinds()[kind](SourceConfig(id=kind, kind=kind, url=url, schedule=Schedule()))
    try:
        changes = source.collect([Fetched(url=url, status=200, body=body, headers={"content-type": "text/xml"},
                                          validators=Validators())])
        return f"{len(changes)} items"
    except WatcherError as exc:
        return f"refused ({exc.error_class})"


ATTACKS = {
    "gzip, gzip (256 MiB of zeros)": lambda: _serve_and_fetch(
        (200, gzip.compress(_gzip_zeros(256 << 20)), {"Content-Encoding": "gzip, gzip"})),
    "gzip, gzip with max_encodings = 3": lambda: _serve_and_fetch(
        (200, gzip.compress(_gzip_zeros(256 << 20)), {"Content-Encoding": "gzip, gzip"}), max_encodings=3),
    "gzip bomb, one layer (1 GiB)": lambda: _serve_and_fetch(
        (200, _gzip_zeros(1 << 30), {"Content-Encoding": "gzip"})),
    "headers dripped, 3 s deadline": lambda: _serve_and_fetch(_drip),
    "15 MB entity blowup behind a comment": lambda: _parse("rss", _entity_feed()),
    "Visa Bulletin, 20,000 repeated headings": lambda: _parse("visa_bulletin", (FIXTURES / "visa_bulletin_2026_07.html")
                                                              .read_bytes().replace(b"<body", b"<body><div>" + (
        b"<p><b>A. FINAL ACTION DATES FOR FAMILY-SPONSORED PREFERENCE CASES</b></p><div>x</div>" * 20_000)
        + b"</div><i", 1), "https://travel.state.gov/x"),
    "20,000 nested <div>s with links (1 MB)": lambda: _parse("dos_news", (
        b"<div><a href='/content/travel/en/News/visas-news/a.html'>A</a>" * 20_000 + b"</div>" * 20_000),
        "https://travel.state.gov/x"),
}


def tenfold(kind: str) -> tuple[bytes, str]:
    """A recorded page of `kind` with its items repeated to ten times the page's size."""
    if kind == "rss":
        items = [dict(i, guid=f"{i['guid']}-{n}") for n in range(10) for i in uscis_items()]
        return rss(items), "https://www.uscis.gov/feed"
    if kind == "presidential_actions":  # the recorded feed's thirty posts, each ten times under its own post id
        head, posts, tail = feed_posts((DATA / "whitehouse_presidential_actions_feed.xml").read_text())
        copies = "".join(post.replace("?p=", f"?p={n}0") for n in range(1, 11) for post in posts)
        return (head + copies + tail).encode(), "https://www.whitehouse.gov/presidential-actions/feed/"
    if kind in ("federal_register",):
        data = json.loads((FIXTURES / "federalregister_uscis_documents_trimmed.json").read_text())
        data["results"] = [dict(d, document_number=f"{d['document_number']}-{n}") for n in range(10)
                           for d in data["results"]]
        return json.dumps(data).encode(), "https://www.federalregister.gov/api/v1/documents.json"
    recordings = {"visa_bulletin": FIXTURES / "visa_bulletin_2026_07.html",
                  "eoir_precedents": FIXTURES / "eoir_bia_volume_page.html",
                  "uscis_newsroom": FIXTURES / "uscis_newsroom_all_news_fragment.html",
                  "uscis_policy_manual": DATA / "uscis_policy_manual_updates_trimmed.html",
                  "scotus": FIXTURES / "scotus_slip_opinions.html",
                  "eoir_policy": DATA / "eoir_policy_memoranda_pm_list.html",
                  "dol_oflc": DATA / "dol_oflc_foreign_labor_2025.html",
                  "dos_news": DATA / "dos_visas_news_index.html",
                  "sevp": DATA / "sevp_study_in_the_states_blog.html",
                  "eoir_court_status": DATA / "eoir_operational_status_2022_02.html",
                  "sevp_broadcasts": DATA / "ice_sevis_whats_new.html"}
    page = recordings[kind].read_bytes()
    match = re.search(rb"<body[^>]*>(.*)</body>", page, re.S | re.I)
    inner = match.group(1) if match else page
    body = page.replace(inner, inner * 10, 1) if match else page * 10
    hosts = {"visa_bulletin": "https://travel.state.gov/x", "dos_news": "https://travel.state.gov/x",
             "sevp_broadcasts": "https://www.ice.gov/sevis/whats-new",
             "sevp": "https://studyinthestates.dhs.gov/blog", "dol_oflc": "https://www.dol.gov/x"}
    return body, hosts.get(kind, "https://www.justice.gov/x")


def one(name: str) -> dict:
    began = time.perf_counter()
    outcome = ATTACKS[name]()
    return {"outcome": outcome, "seconds": round(time.perf_counter() - began, 2), "peak_mib": _peak_mib()}


def _peak_mib() -> int:
    """This process's own high-water RSS: VmHWM belongs to the address space exec made; ru_maxrss can carry the
    peak of the process that spawned this one (the bench's, with the model loaded)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024)
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def measure() -> list[tuple[str, str]]:
    import logging
    logging.getLogger("watcher.sources.base").setLevel(logging.ERROR)  # ten copies repeat every key, on purpose
    rows = []
    for name in ATTACKS:
        done = subprocess.run([sys.executable, "-m", "bench.hostile", name], capture_output=True, text=True,
                              cwd=REPO, timeout=600)
        result = json.loads(done.stdout.strip().splitlines()[-1])
        rows.append((f"hostile: {name}",
                     f"{result['outcome']}, {result['seconds']} s, peak RSS {result['peak_mib']} MiB"))
    for kind in ("rss", "federal_register", "visa_bulletin", "eoir_precedents", "uscis_newsroom",
                 "uscis_policy_manual", "scotus", "presidential_actions", "eoir_policy", "dol_oflc", "dos_news", "sevp",
                 "eoir_court_status", "sevp_broadcasts"):
        body, url = tenfold(kind)
        times = []
        for _ in range(3):
            began = time.perf_counter()
            outcome = _parse(kind, body, url)
            times.append(time.perf_counter() - began)
        rows.append((f"parse, 10x page: {kind} ({len(body) // 1024} KB)",
                     f"worst of 3 {max(times) * 1000:.0f} ms ({outcome})"))
    return rows


if __name__ == "__main__":
    print(json.dumps(one(sys.argv[1])))
