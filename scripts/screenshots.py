"""Render a sample alert e-mail and briefing agenda, and photograph them with headless Chromium.

`make screenshots` writes var/screenshots/{email,agenda}.{html,png}; look at the PNGs to check the layout.
Needs Debian's chromium (apt-get install chromium).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from datetime import date, datetime, timezone
from pathlib import Path

from watcher.config import RouteConfig, TargetConfig
from watcher.models import Change, Decision, Match, Matter, Status
from watcher.notify.agenda import build_agenda, render_html
from watcher.notify.alerts import compose
from watcher.notify.training import compose_tasks
from watcher.store.tasks import AlertedChange, StoredTask
from watcher.urgency import Urgency

NOW = datetime(2026, 11, 27, 12, tzinfo=timezone.utc)


def sample_pages() -> dict[str, str]:
    change = Change("federal-register", "2026-24001", "rule", "Modernizing H-1B Requirements and Program Improvements",
                    "DHS is amending its regulations governing H-1B specialty occupation workers. <!channel> "
                    "[click](https://evil.example) The rule adds integrity measures.",
                    "https://www.federalregister.gov/documents/2026/11/20/2026-24001/modernizing-h-1b", published=NOW,
                    facts={"effective_on": "2026-12-18", "type": "Rule"})
    decision = Decision(change, Status.NEW, 1)
    matches = [Match("H-1B", 0.97, "embedding+signals", "cites 8 CFR 214.2(h); names Form I-129; its words 'h-1b', 'cap'")]
    matters = [Matter("B-2041", "H-1B", "business")]
    tasks = compose_tasks(decision, matches, Urgency.URGENT, matters, NOW, 7, "W-SAMPLE")
    [message] = compose(decision, matches, [RouteConfig(("*",), ("t",))],
                        [TargetConfig("t", ("t",), url_env="X", team="business", include_matter_refs=True)],
                        {"H-1B": 14}, Urgency.URGENT, tasks, matters)
    alerted = [AlertedChange(1, change.title, "", change.url, "federal-register", "rule", "URGENT", "2026-11-20",
                             ("H-1B", "F-1-OPT"), matches[0].rationale),
               AlertedChange(2, "Extension and Redesignation of Haiti for Temporary Protected Status", "",
                             "https://www.uscis.gov/tps", "uscis-alerts", "alert", "ACTION", "2026-11-22", ("TPS",),
                             "mentions 'Temporary Protected Status'")]
    agenda = build_agenda(alerted, [StoredTask(7, tasks[0], "open", "2026-11-20")], {"H-1B": 14, "TPS": 22},
                          date(2026, 11, 20), date(2026, 11, 26))
    email = f"<html><body style='font-family:sans-serif;max-width:48em;margin:2em'>{message.html}</body></html>"
    return {"email": email, "agenda": render_html(agenda)}


def main(out: Path) -> int:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if not browser:
        print("chromium not found: apt-get install chromium", file=sys.stderr)
        return 1
    out.mkdir(parents=True, exist_ok=True)
    for name, html in sample_pages().items():
        (out / f"{name}.html").write_text(html)
        subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                        "--disable-component-update", "--disable-sync", "--no-first-run",
                        f"--user-data-dir={out / ('.profile-' + name)}", "--window-size=1000,900",
                        f"--screenshot={out / (name + '.png')}", (out / f"{name}.html").resolve().as_uri()],
                       check=True, capture_output=True, timeout=60)
        print(out / f"{name}.png")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("var/screenshots")))
