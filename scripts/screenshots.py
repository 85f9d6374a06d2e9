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
from watcher.meaning import lawyer_changes
from watcher.models import Change, Decision, Match, Matter, Status, StoredVersion
from watcher.notify.agenda import build_agenda, meeting_start, render_html
from watcher.notify.alerts import compose
from watcher.notify.training import compose_tasks, task_key
from watcher.store.tasks import AlertedChange, StoredTask
from watcher.urgency import Urgency

NOW = datetime(2026, 11, 27, 12, tzinfo=timezone.utc)


def sample_pages() -> dict[str, str]:
    """An update of a real Federal Register rule (2021-02665, its dates moved to the sample's clock) as the business
    team's e-mail shows it, and a week's agenda."""
    facts = {"document_number": "2021-02665", "type": "Rule", "action": "Final rule; delay of effective date.",
             "effective_on": "2027-02-15", "agencies": ["Homeland Security Department",
                                                        "U.S. Citizenship and Immigration Services"]}
    change = Change("federal-register", "2021-02665", "rule",
                    "Modification of Registration Requirement for Petitioners Seeking To File Cap-Subject H-1B "
                    "Petitions; Delay of Effective Date",
                    "On January 8, 2021, DHS published a final rule amending regulations governing the process by "
                    "which USCIS selects H-1B registrations. <!channel> [click](https://evil.example) This rule "
                    "delays the effective date of the H-1B Selection Final Rule.",
                    "https://www.federalregister.gov/documents/2021/02/08/2021-02665/modification-of-registration",
                    published=NOW, facts=facts)
    previous = StoredVersion(7, 1, "x", change.title, change.summary, change.url, {**facts, "effective_on": "2026-12-20"})
    decision = Decision(change, Status.UPDATED, 2, previous,
                        lawyer_changes("rule", previous.fields(), change.fields()))
    matches = [Match("H-1B", 0.97, "embedding+signals", "cites 8 CFR 214.2(h); names Form I-129; its words 'h-1b', "
                                                        "'registration'")]
    matters = [Matter("B-2041", "H-1B", "business"), Matter("B-2077", "H-1B", "business")]
    tasks = compose_tasks(decision, matches, Urgency.ACTION, matters, NOW, 7, "W-SAMPLE",
                          existing={task_key(change, "business"): "2026-12-18"})
    [message] = compose(decision, matches, [RouteConfig(("*",), ("t",))],
                        [TargetConfig("t", ("t",), url_env="X", team="business", include_matter_refs=True)],
                        {"H-1B": 14}, Urgency.ACTION, tasks, matters, NOW.date())
    alerted = [AlertedChange(1, change.title, change.summary, change.url, "federal-register", "rule", "ACTION",
                             "2026-11-20", ("H-1B", "F-1-OPT"), matches[0].rationale, facts,
                             (("business", "open", "2027-02-13"),)),
               AlertedChange(2, "Extension and Redesignation of Haiti for Temporary Protected Status",
                             "USCIS announced the extension and redesignation of Haiti for TPS. Current beneficiaries "
                             "must re-register during the 60-day re-registration period.",
                             "https://www.uscis.gov/tps", "uscis-alerts", "alert", "ACTION", "2026-11-22", ("TPS",),
                             "mentions 'Temporary Protected Status'", {}, (("humanitarian", "acknowledged", "2026-12-04"),))]
    agenda = build_agenda(alerted, [StoredTask(7, tasks[0], "open", "2026-11-20")], {"H-1B": 14, "TPS": 22},
                          date(2026, 11, 21), date(2026, 11, 27))
    email = f"<html><body style='font-family:sans-serif;max-width:48em;margin:2em'>{message.html}</body></html>"
    meeting = meeting_start("mon 15:00", agenda.start, agenda.end, "America/New_York")
    return {"email": email, "agenda": render_html(agenda, meeting)}


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
