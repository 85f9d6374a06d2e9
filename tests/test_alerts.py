"""Issue 5 with real parts: a local SMTP server and a loopback webhook as two targets, hostile upstream
text, digests, dead letters, urgency floors, training tasks, matter references and agendas."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import os

import pytest

from icalendar import Calendar

from watcher import app as app_module
from watcher.config import RouteConfig, TargetConfig
from watcher.models import Change, Decision, Match, Matter, Status
from watcher.notify.agenda import build_agenda, meeting_start, render_html, render_ics, render_markdown
from watcher.notify.alerts import compose, route_targets
from watcher.notify.bulletin import bulletin_impact
from watcher.notify.render import safe_text
from watcher.notify.weekly import make_agenda, queue_weekly_agenda
from watcher.pipeline import run_source
from watcher.sources.rss import RssSource
from watcher.urgency import Urgency

from .clock import Clock as _Clock
from .feeds import rss, uscis_items
from .conftest import REPO as REPO_ROOT
from .loopback import conditional_feed

KINDS = {"rss": RssSource}
NOW = datetime(2026, 11, 27, 12, 30, tzinfo=timezone.utc)
TWO_TARGETS = """
[[target]]
name = "attorneys-email"
url_env = "WATCHER_TEST_SMTP"
tags = ["attorneys", "ops"]
team = "business"
include_matter_refs = true

[[target]]
name = "attorneys-slack"
url_env = "WATCHER_TEST_HOOK"
tags = ["attorneys", "ops"]
format = "slack"

[[route]]
case_types = ["*"]
tags = ["attorneys"]

[ops]
tags = ["ops"]
"""
def Clock(moment=None):
    return _Clock(moment or NOW)


HOSTILE_TITLE = ("<!channel> H-1B Final Rule <@U123> see <https://evil.example|uscis.gov> and "
                 "[the form](https://evil.example/form) \u202egnp.exe ")


def hostile_item() -> dict:
    item = dict(uscis_items()[0])
    item.update(guid="hostile-1", title=HOSTILE_TITLE + "x" * 100_000,
                description="<p>*bold* ~strike~ @here <!everyone> Form I-129 changes for H-1B petitions.</p>")
    return item


def build(server, smtp, webhook, make_config, extra=TWO_TARGETS, clock=None):
    config = app_module.load_config(make_config([("uscis-alerts", server.url("/feed"))], extra))
    environ = {"WATCHER_TEST_SMTP": smtp.url, "WATCHER_TEST_HOOK": webhook.url}
    return app_module.build_app(config, kinds=KINDS, environ=environ, now=clock or Clock())


def test_hostile_upstream_text_reaches_both_targets_defused(server, smtp, webhook, make_config, tmp_path):
    server.routes["/feed"] = conditional_feed(rss(uscis_items()[1:]), '"1"')
    (tmp_path / "cases.csv").write_text("x")
    clock = Clock()
    app = build(server, smtp, webhook, make_config, clock=clock)
    with app.store.transaction():
        app.store.matters.replace_all([Matter("M-101", "H-1B", "business"), Matter("M-202", "H-1B", "family")], NOW)
    run_source(app.context, app.sources[0])
    server.routes["/feed"] = conditional_feed(rss([hostile_item()] + uscis_items()[1:]), '"2"')
    clock.moment += timedelta(minutes=30)
    run = run_source(app.context, app.sources[0])
    assert run.messages == 2  # the team e-mail with matter references, and the Slack message
    assert app.dispatcher.run().sent == 2

    [payload] = webhook.payloads
    slack = payload["title"] + "\n" + payload["message"]
    for live in ("<!channel>", "<@U123>", "<!everyone>", "<https://evil.example|", "](https://", "\u202e", "@here"):
        assert live not in slack, live
    assert "<" not in slack and ">" not in slack
    assert "uscis.gov (https://evil.example)" in slack          # the real destination is shown, not hidden
    assert "the form (https://evil.example/form)" in slack
    assert len(payload["message"]) <= 3500 and len(payload["title"]) <= 150
    assert "M-101" not in slack                                   # matter references never go to chat

    [mail] = smtp.messages
    html = next(p for p in mail.walk() if p.get_content_type() == "text/html").get_payload(decode=True).decode()
    assert "<!channel>" not in html and "&lt;!channel&gt;" in html
    assert '<a href="https://evil.example' not in html            # no link but the ones we build
    assert "M-101" in html and "M-202" not in html                # only the responsible team's matters
    from email.header import decode_header, make_header
    subject = str(make_header(decode_header(mail["Subject"])))
    assert "Ref: W-" in html and len(subject) <= 150 and subject.endswith("…")
    app.close()


def test_failed_target_goes_dead_and_ops_hear_on_the_other_channel(server, smtp, webhook, make_config):
    server.routes["/feed"] = conditional_feed(rss(uscis_items()[1:]), '"1"')
    clock = Clock()
    app = build(server, smtp, webhook, make_config, clock=clock)
    run_source(app.context, app.sources[0])
    server.routes["/feed"] = conditional_feed(rss(uscis_items()), '"2"')
    run_source(app.context, app.sources[0])
    webhook.fail = True
    assert app.dispatcher.run().sent == 1          # e-mail delivered, Slack failed
    clock.moment += timedelta(hours=25)
    result = app.dispatcher.run()
    assert result.dead == 1
    assert app.dispatcher.run().sent == 1          # the dead-letter report, by e-mail only
    subjects = [m["Subject"] for m in smtp.messages]
    assert subjects[-1] == "[watcher ops] DEAD LETTER to attorneys-slack"
    assert len(smtp.messages) == 2 and webhook.payloads == []
    app.close()


def test_daily_digest_batches_changes_into_one_message(server, smtp, webhook, make_config):
    digest = TWO_TARGETS.replace('case_types = ["*"]\ntags = ["attorneys"]',
                                 'case_types = ["*"]\ntags = ["attorneys"]\nmode = "daily"')
    items = uscis_items()
    assert "H-1B" in items[0]["title"] and "Temporary Protected Status" in items[7]["title"]
    server.routes["/feed"] = conditional_feed(rss([i for n, i in enumerate(items) if n not in (0, 7)]), '"1"')
    clock = Clock()
    app = build(server, smtp, webhook, make_config, extra=digest, clock=clock)
    run_source(app.context, app.sources[0])
    server.routes["/feed"] = conditional_feed(rss(items), '"2"')  # two new items that both match
    run_source(app.context, app.sources[0])
    assert app.dispatcher.run().sent == 0          # 12:30: the next digest is tomorrow at 12:00
    clock.moment = datetime(2026, 11, 28, 12, 0, tzinfo=timezone.utc)
    assert app.dispatcher.run().sent == 4        # 2 changes x 2 targets, as one digest message per target
    [payload] = webhook.payloads
    assert payload["title"] == "[watcher] Daily digest: 2 changes"
    assert payload["message"].count("Ref: W-") == 2
    assert len(smtp.messages) == 1
    app.close()


def change(kind="alert", title="USCIS Announces H-1B Final Rule", **facts) -> Decision:
    return Decision(Change("uscis", "k1", kind, title, "summary", "https://www.uscis.gov/x", facts=facts), Status.NEW, 1)


def test_urgency_floor_and_mode_routing():
    targets = [TargetConfig("a", ("all",), url_env="X"), TargetConfig("b", ("urgent",), url_env="Y")]
    routes = [RouteConfig(("*",), ("all",), "INFO", "weekly"), RouteConfig(("H-1B",), ("urgent",), "ACTION"),
              RouteConfig(("H-1B",), ("all",), "URGENT", "immediate")]
    h1b = [Match("H-1B", 0.9, "m", "r")]
    assert route_targets(h1b, Urgency.INFO, routes, targets) == {"a": "weekly"}
    assert route_targets(h1b, Urgency.ACTION, routes, targets) == {"a": "weekly", "b": "immediate"}
    assert route_targets(h1b, Urgency.URGENT, routes, targets) == {"a": "immediate", "b": "immediate"}
    assert route_targets([], Urgency.URGENT, routes, targets) == {}


def test_alert_says_what_why_urgency_dates_and_task():
    from watcher.notify.training import compose_tasks

    decision = change(kind="rule", effective_on="2026-12-15", title="H-1B Modernization Final Rule")
    matches = [Match("H-1B", 0.93, "embedding+signals", "cites 8 CFR 214.2(h); names Form I-129; its words 'h-1b', 'specialty occupation'")]
    matters = [Matter("M-1", "H-1B", "business"), Matter("M-2", "H-1B", "business"), Matter("M-3", "H-1B", "tech")]
    tasks = compose_tasks(decision, matches, Urgency.URGENT, matters, NOW, 7, "W-REF")
    assert [(t.team, t.due) for t in tasks] == [("business", "2026-12-13"), ("tech", "2026-12-13")]
    assert tasks[0].checklist == ("Read the rule and its effective-date provisions",
                                  "List the firm's pending and planned H-1B filings it affects",
                                  "Update templates, checklists and client letters by 2026-12-15")
    [message] = compose(decision, matches, [RouteConfig(("*",), ("t",))], [TargetConfig("t", ("t",), url_env="X")],
                        {"H-1B": 3}, Urgency.URGENT, tasks, matters)
    assert message.urgency == "URGENT" and message.subject.startswith("[watcher] URGENT: H-1B Modernization")
    for expected in ("Effective: 2026-12-15", "cites 8 CFR 214.2(h)", "3 open matters",
                     "Training task for business", "due 2026-12-13", "Link: https://www.uscis.gov/x"):
        assert expected in message.text, expected
    assert compose_tasks(decision, matches, Urgency.INFO, matters, NOW, 7, "W") == []


def test_bulletin_impact_on_open_matters():
    facts = {"movement": [
        {"chart": "employment_final_action", "category": "EB2", "area": "INDIA", "from": "2012-07-15", "to": "2013-01-01",
         "movement": "advanced", "days": 170},
        {"chart": "family_final_action", "category": "F2A", "area": "ALL", "from": "CURRENT", "to": "2024-01-01",
         "movement": "retrogressed", "days": None}]}
    bulletin = Change("vb", "2026-07", "visa_bulletin", "Visa Bulletin for July 2026", "", "https://x", facts=facts)
    matters = [Matter("A", "PERM-I-140", "biz", priority_date="2012-10-01", category="EB2", country="INDIA"),
               Matter("B", "PERM-I-140", "biz", priority_date="2014-10-01", category="EB2", country="INDIA"),
               Matter("C", "I-130", "fam", priority_date="2024-06-01", category="F2A", country="GUATEMALA"),
               Matter("D", "I-130", "fam", priority_date="2023-06-01", category="F2A", country="MEXICO")]
    impact = bulletin_impact(bulletin, matters)
    assert impact.became_current == ("A",) and impact.fell_behind == ("C",)


def test_safe_text_table():
    assert safe_text("<!channel> hi", 100) == "channel hi"
    assert safe_text("<@U123|bob> hi", 100) == "bob hi"
    assert safe_text("<https://evil|uscis.gov>", 100) == "uscis.gov (https://evil)"
    assert safe_text("[x](https://evil)", 100) == "x (https://evil)"
    assert safe_text("a\u202eb\u200bc", 100) == "abc"
    assert safe_text("@channel @here", 100) == "(at)channel (at)here"
    assert safe_text("*bold* _it_", 100) == "∗bold∗ ˍitˍ"
    long = safe_text("x" * 10_000, 3500)
    assert 3400 < len(long) <= 3500 and long.endswith("the e-mail alert has it all.")


def agenda_fixture(app, clock, server):
    with app.store.transaction():
        app.store.matters.replace_all([Matter("M-1", "H-1B", "business")], NOW)
    run_source(app.context, app.sources[0])
    server.routes["/feed"] = conditional_feed(rss(uscis_items()), '"2"')
    run_source(app.context, app.sources[0])


def test_agenda_markdown_html_ics_and_weekly_send(server, smtp, webhook, make_config):
    server.routes["/feed"] = conditional_feed(rss(uscis_items()[1:]), '"1"')
    extra = TWO_TARGETS + ('\n[agenda]\ntags = ["ops"]\nschedule = "0 13 * * fri"\nmeeting = "mon 15:00"\n'
                           'organizer = "training@firm.example"\nattendees = ["a@firm.example", "b@firm.example"]\n')
    clock = Clock()
    app = build(server, smtp, webhook, make_config, extra=extra, clock=clock)
    agenda_fixture(app, clock, server)
    agenda = make_agenda(app.store, NOW.date() - timedelta(days=6), NOW.date())
    [(code, items)] = agenda.sections
    assert code == "H-1B" and items[0].title.startswith("USCIS Will Conduct Second Random Selection")
    assert items[0].matters == (("H-1B", 1),) and items[0].minutes in (2, 5, 10)
    assert items[0].document == "USCIS news item, U.S. Citizenship and Immigration Services"  # no feed category
    assert 40 < len(items[0].summary) <= 480 and items[0].summary.count(". ") <= 2
    markdown = render_markdown(agenda)
    assert "## H-1B (1 open matter)" in markdown and "](https://www.uscis.gov/" in markdown
    assert "<h2>H-1B" in render_html(agenda)
    calendar = Calendar.from_ical(render_ics(agenda, "mon 15:00", "America/New_York", "training@firm.example",
                                             ("a@firm.example",)))
    [event] = list(calendar.walk("VEVENT"))
    start = event.decoded("dtstart")
    assert str(start.tzinfo) == "America/New_York" and event["dtstart"].params["TZID"] == "America/New_York"
    assert agenda.start <= start.date() <= agenda.end  # the meeting lies inside the period it covers
    assert (start.weekday(), start.hour) == (0, 15)
    assert [c["TZID"] for c in calendar.walk("VTIMEZONE")] == ["America/New_York"]
    description = str(event.get("description"))
    assert "Second Random Selection" in description
    assert not any(mark in description for mark in ("**", "](", "## ", "- [ ]"))  # plain text, no Markdown
    assert event["attach"].params["FMTTYPE"] == "text/html"
    assert str(event["organizer"]) == "mailto:training@firm.example"
    assert str(event["attendee"]) == "mailto:a@firm.example"
    assert str(event.get("summary")).startswith("Policy briefing")
    assert make_agenda(app.store, NOW.date(), NOW.date(), team="family").sections == ()  # no family matters

    clock.moment = NOW + timedelta(days=3)
    first = queue_weekly_agenda(app.store, app.config, clock())
    again = queue_weekly_agenda(app.store, app.config, clock())
    assert first.ref == again.ref
    app.dispatcher.run()
    weekly = [m for m in smtp.messages if m["Subject"].startswith("[watcher] Policy briefing")]
    assert len(weekly) == 1
    [invite] = [part for part in weekly[0].walk() if part.get_filename() == "briefing.ics"]
    sent = Calendar.from_ical(invite.get_payload(decode=True))
    [event] = list(sent.walk("VEVENT"))
    assert NOW.date() - timedelta(days=3) <= event.decoded("dtstart").date() <= NOW.date() + timedelta(days=3)
    app.close()


@pytest.mark.parametrize("meeting, start, end, expected", [
    ("mon 15:00", date(2026, 11, 21), date(2026, 11, 27), datetime(2026, 11, 23, 15)),  # the Monday inside
    ("fri 09:30", date(2026, 11, 21), date(2026, 11, 27), datetime(2026, 11, 27, 9, 30)),  # the last day itself
    ("mon 15:00", date(2026, 11, 25), date(2026, 11, 27), datetime(2026, 11, 27, 15)),  # no Monday: the last day
])
def test_the_meeting_lies_inside_the_period_in_the_firms_time_zone(meeting, start, end, expected):
    from zoneinfo import ZoneInfo
    found = meeting_start(meeting, start, end, "America/New_York")
    assert found == expected.replace(tzinfo=ZoneInfo("America/New_York")) and start <= found.date() <= end


def test_tasks_cli(server, smtp, webhook, make_config):
    from click.testing import CliRunner

    from watcher.cli import main

    item = dict(uscis_items()[0], guid="rule-1", title="DHS Publishes H-1B Final Rule Effective Immediately")
    server.routes["/feed"] = conditional_feed(rss(uscis_items()[1:]), '"1"')
    directory = make_config([("uscis-alerts", server.url("/feed"))])
    env = {}
    assert CliRunner().invoke(main, ["--config", str(directory), "check", "--all"], env=env).exit_code == 0
    server.routes["/feed"] = conditional_feed(rss([item] + uscis_items()[1:]), '"2"')
    assert CliRunner().invoke(main, ["--config", str(directory), "check", "--all"], env=env).exit_code == 0
    # The invite from the command line: a meeting inside the period, in the firm's time zone, no Markdown.
    today = datetime.now(timezone.utc).date()
    ics = CliRunner().invoke(main, ["--config", str(directory), "agenda", "--from", str(today - timedelta(days=6)),
                                    "--to", str(today), "--format", "ics"])
    assert ics.exit_code == 0, ics.output
    [event] = list(Calendar.from_ical(ics.stdout_bytes).walk("VEVENT"))
    assert event["dtstart"].params["TZID"] == "America/New_York"
    assert today - timedelta(days=6) <= event.decoded("dtstart").date() <= today
    assert "DHS Publishes H-1B Final Rule" in str(event["description"]) and "**" not in str(event["description"])
    listed = CliRunner().invoke(main, ["--config", str(directory), "tasks", "list"]).output
    assert "#1" in listed and "Brief: DHS Publishes H-1B Final Rule" in listed and "all" in listed
    assert "Read the announcement and decide what changes for H-1B" in listed
    assert CliRunner().invoke(main, ["--config", str(directory), "tasks", "ack", "1"]).output.strip() == "task #1: acknowledged"
    assert CliRunner().invoke(main, ["--config", str(directory), "tasks", "done", "1"]).exit_code == 0
    assert "no tasks" in CliRunner().invoke(main, ["--config", str(directory), "tasks", "list"]).output
    missing = CliRunner().invoke(main, ["--config", str(directory), "tasks", "done", "99"])
    assert missing.exit_code == 2 and "no task #99" in missing.output
    bad = CliRunner().invoke(main, ["--config", str(directory), "agenda", "--from", "2026-11-27", "--to", "2026-11-01"])
    assert bad.exit_code == 2 and "--to is before --from" in bad.output


def test_each_change_is_discussed_once_under_its_busiest_case_type():
    from datetime import date

    from watcher.store.tasks import AlertedChange
    rule = AlertedChange(1, "H-1B and F-1 rule", "", "https://x/1", "fr", "rule", "URGENT", "2026-11-20",
                         ("F-1-OPT", "H-1B"), "why", {"document_number": "2026-1", "type": "Rule",
                                                      "effective_on": "2026-12-18", "agencies": ["USCIS"]},
                         (("business", "open", "2026-12-16"),))
    tps = AlertedChange(2, "Haiti TPS", "", "https://x/2", "uscis", "alert", "ACTION", "2026-11-21", ("TPS",), "why")
    agenda = build_agenda([rule, tps], [], {"H-1B": 14, "F-1-OPT": 3, "TPS": 22}, date(2026, 11, 20), date(2026, 11, 26))
    assert [(code, [i.title for i in items]) for code, items in agenda.sections] == [
        ("H-1B", ["H-1B and F-1 rule"]), ("TPS", ["Haiti TPS"])]   # URGENT first, then by open matters
    assert agenda.sections[0][1][0].also == ("F-1-OPT",)
    assert agenda.minutes == 10 + 5
    markdown = render_markdown(agenda)
    assert "(also F-1-OPT)" in markdown and "Federal Register final rule, USCIS" in markdown
    assert "dates: Effective: 2026-12-18 (in 22 days)" in markdown
    assert "training tasks: business: open, due 2026-12-16" in markdown
    by_team = build_agenda([rule, tps], [], {"H-1B": 14, "F-1-OPT": 3, "TPS": 22}, date(2026, 11, 20),
                           date(2026, 11, 26), group="team",
                           teams_by_type={"H-1B": {"business"}, "F-1-OPT": {"students"}, "TPS": {"humanitarian"}})
    assert [name for name, _ in by_team.sections] == ["business", "students", "humanitarian"]
    assert by_team.minutes == 10 + 5  # the rule is on two teams' lists, discussed once


def test_email_and_agenda_html_render_in_a_browser(tmp_path):
    import shutil
    import sys

    import pytest
    if not (shutil.which("chromium") or shutil.which("chromium-browser")):
        if os.environ.get("CI"):
            pytest.fail(".ci/run installs Debian's chromium; it is missing")
        pytest.skip("needs Debian's chromium (`.ci/run` installs it); `make screenshots` produces the same pictures")
    sys.path.insert(0, str(REPO_ROOT / "scripts"))
    import screenshots
    assert screenshots.main(tmp_path) == 0
    for name in ("email", "agenda"):
        png = (tmp_path / f"{name}.png").read_bytes()
        assert png.startswith(b"\x89PNG") and len(png) > 20_000  # a page with text, not a blank frame
    email = (tmp_path / "email.html").read_text()
    assert "<!channel>" not in email and "Effective: 2026-12-20 -&gt; 2027-02-15" in email
    assert "Training task for business updated" in email


def test_bulletin_alert_shows_only_the_categories_each_route_covers():
    facts = {"previous_month": "2026-06", "movement": [
        {"chart": "family_final_action", "category": "F2A", "area": "ALL", "from": "2024-01-01", "to": "2024-03-01",
         "movement": "advanced", "days": 60},
        {"chart": "employment_final_action", "category": "EB2", "area": "INDIA", "from": "2013-01-01", "to": "UNAVAILABLE",
         "movement": "became_unavailable", "days": None},
        {"chart": "employment_final_action", "category": "EB5-RURAL", "area": "ALL", "from": "CURRENT", "to": "2020-01-01",
         "movement": "retrogressed", "days": None}]}
    decision = Decision(Change("vb", "2026-07", "visa_bulletin", "Visa Bulletin for July 2026", "s", "https://x",
                               facts=facts), Status.NEW, 1)
    matches = [Match(c, 1.0, "bulletin", "moved") for c in ("CONSULAR", "EB-5", "I-130", "PERM-I-140")]
    targets = [TargetConfig("family", ("family",), url_env="A"), TargetConfig("business", ("business",), url_env="B"),
               TargetConfig("consular", ("consular",), url_env="C")]
    routes = [RouteConfig(("I-130",), ("family",)), RouteConfig(("PERM-I-140", "EB-5"), ("business",)),
              RouteConfig(("CONSULAR",), ("consular",))]
    messages = {m.targets: m for m in compose(decision, matches, routes, targets, urgency=Urgency.URGENT)}
    family, business, consular = messages[("family",)], messages[("business",)], messages[("consular",)]
    assert "F2A" in family.text and "EB2" not in family.text and "EB5" not in family.text
    assert "EB2 INDIA" in business.text and "EB5-RURAL" in business.text and "F2A" not in business.text
    assert all(code in consular.text for code in ("F2A", "EB2", "EB5-RURAL"))
    assert len({m.ref for m in messages.values()}) == 3


def test_an_urgent_task_nobody_acknowledged_escalates_once_to_the_teams_lead(make_config, server):
    from watcher import app as app_module
    from watcher.decide import classify
    from watcher.models import TrainingTask
    from watcher.notify.escalation import escalate
    from watcher.store import CycleResult
    extra = ('[[target]]\nname = "lead"\nurl_env = "L"\ntags = ["leads"]\nlead_for = ["business"]\n'
             '[[target]]\nname = "staff"\nurl_env = "S"\ntags = ["staff"]\n')
    config = app_module.load_config(make_config([("fr", server.url("/fr"))], extra))
    app = app_module.build_app(config, environ={"L": "json://127.0.0.1:9/l", "S": "json://127.0.0.1:9/s"})
    store = app.store
    soon = Change("fr", "2021-02665", "rule", "H-1B registration rule", "s", "https://www.federalregister.gov/d/1",
                  facts={"effective_on": (NOW + timedelta(days=2)).date().isoformat()})
    later = Change("fr", "2021-09999", "rule", "A rule months away", "s", "https://www.federalregister.gov/d/2",
                   facts={"effective_on": (NOW + timedelta(days=90)).date().isoformat()})
    tasks = [TrainingTask(f"T-{c.item_key}:{team}", c.item_key, 1, team, f"Brief: {c.title}", "b", ("x",), "a",
                          "2026-11-28", "URGENT", c.url) for c in (soon, later) for team in ("business", "family")]
    store.commit_cycle(CycleResult("fr", classify([soon, later], {}), {}, (), store.sources.get("fr").validators,
                                   False, 2, True, tasks), NOW)
    business_soon = [t for t in store.web.tasks(status="open") if t.team == "business" and "registration" in t.title]
    assert escalate(store, config, NOW) == 1  # business's task for the rule in two days; family has no lead
    [message] = [d for d in store.outbox.due(NOW, 10) if d.target == "lead"]
    assert "Not acknowledged: 1 task" in message.subject and "H-1B registration rule" in message.text
    assert "in 2 days" in message.text and f"#{business_soon[0].id}" in message.text
    assert escalate(store, config, NOW + timedelta(days=1)) == 0  # once
    app.close()
