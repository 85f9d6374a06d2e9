"""Issue 24's acceptance, end to end: recorded real pages replayed over loopback HTTPS through the whole pipeline
(fetch, parse, classify, match, compose, outbox, dispatch) into a real SMTP server (aiosmtpd) and a webhook
receiver, and the texts an attorney receives read back.

The recordings: USCIS alert items, the Visa Bulletins of November 2024 and July 2026 and the bulletin index, the
Supreme Court's term-2022 slip opinions page, and the Federal Register's record of document 2021-02665 (H-1B
registration: delay of effective date). Its effective dates are moved to the test clock's future: what is tested is
that a changed date is reported, not which dates they were.
"""

from __future__ import annotations

import json
import os
import re
from email.message import Message as EmailMessage

import pytest
from click.testing import CliRunner

from dataclasses import replace

from watcher import app as app_module
from watcher.matching.matcher import EmbeddingMatcher
from watcher.cli import main
from watcher.pipeline import run_source
from watcher.sources.base import load_kinds

from .clock import Clock
from .conftest import SHARED, WATCHER_TOML, Reply
from .feeds import DATA, rss, uscis_items
from .loopback import conditional_feed

FIXTURES = SHARED / "fixtures"
JULY = "/content/travel/en/legal/visa-law0/visa-bulletin/2026/visa-bulletin-for-july-2026.html"
SCOTUS_PDF = "https://127.0.0.1:{port}/opinions/22pdf/598us2r19_dc8f.pdf"
H1B_RULE = {
    "document_number": "2021-02665", "type": "Rule", "action": "Final rule; delay of effective date.",
    "title": "Modification of Registration Requirement for Petitioners Seeking To File Cap-Subject H-1B Petitions; "
             "Delay of Effective Date",
    "abstract": "On January 8, 2021, DHS published a final rule, Modification of Registration Requirement for "
                "Petitioners Seeking To File Cap-Subject H-1B Petitions (H-1B Selection Final Rule) amending "
                "regulations governing the process by which U.S. Citizenship and Immigration Services (USCIS) "
                "selects H-1B registrations for the filing of H-1B cap-subject petitions. This rule delays the "
                "effective date of the H-1B Selection Final Rule.",
    "html_url": "https://www.federalregister.gov/documents/2021/02/08/2021-02665/modification-of-registration-"
                "requirement-for-petitioners-seeking-to-file-cap-subject-h-1b-petitions",
    "publication_date": "2026-11-20", "effective_on": "2026-12-20", "comments_close_on": None,
    "agencies": [{"name": "Homeland Security Department"}, {"name": "U.S. Citizenship and Immigration Services"}],
    "cfr_references": [{"title": 8, "part": 214}],
}
CASELOAD = """matter_ref,case_type,team,status,priority_date,preference_category,chargeability_country
M-1001,PERM-I-140,business,open,2011-01-01,EB2,India
M-1002,PERM-I-140,business,pending,2013-05-01,3rd,IND
M-1003,PERM-I-140,business,Active,2024-01-01,EB-2,Brazil
M-1004,I-485,family,open,2021-01-01,E2,CN
M-1005,H-1B,business,open,,,
M-1006,H-1B,business,closed,,,
"""


def fr_page(*docs) -> bytes:
    return json.dumps({"count": len(docs), "results": list(docs)}).encode()


def without_row(page: bytes, docket: bytes) -> bytes:
    rows = re.findall(rb"<tr>(?:(?!</tr>).)*?" + re.escape(docket) + rb".*?</tr>", page, re.S)
    assert len(rows) == 1
    return page.replace(rows[0], b"")


class Desk:
    """The firm's side: a config with every source on the loopback server, an e-mail target for the business team
    (matter references opted in), a Slack-format chat target, the caseload imported through the CLI."""

    def __init__(self, tmp_path, ca, server, smtp, webhook):
        self.server, self.smtp, self.webhook = server, smtp, webhook
        directory = tmp_path / "config"
        directory.mkdir()
        (directory / "watcher.toml").write_text(WATCHER_TOML.format(db=tmp_path / "watcher.db", ca=ca[1]) + """
[[target]]
name = "business-mail"
url_env = "MAIL_URL"
tags = ["attorneys"]
format = "email"
team = "business"
include_matter_refs = true

[[target]]
name = "chat"
url_env = "CHAT_URL"
tags = ["attorneys"]
format = "slack"

[[route]]
case_types = ["*"]
tags = ["attorneys"]
""")
        shutil_copy(directory)
        sources = [("alerts", "rss", "/alerts", 'category = "alert"\n'),
                   ("stakeholder", "rss", "/stakeholder", 'category = "stakeholder_message"\n'),
                   ("federal-register", "federal_register", "/fr", "public_inspection = true\n"),
                   ("chart-choice", "uscis_chart_choice", "/charts", ""),
                   ("visa-bulletin", "visa_bulletin", "/vb", ""),
                   ("scotus", "scotus", "/opinions/slipopinion/22", "")]
        (directory / "sources.toml").write_text("".join(
            f'[[source]]\nid = "{sid}"\nkind = "{kind}"\nurl = "{server.url(path)}"\nschedule = "30m"\n{extra}\n'
            for sid, kind, path, extra in sources))
        csv = tmp_path / "matters.csv"
        csv.write_text(CASELOAD)
        imported = CliRunner().invoke(main, ["--config", str(directory), "cases", "import", str(csv)])
        assert imported.exit_code == 0, imported.output
        self.clock = Clock()
        self.app = app_module.build_app(app_module.load_config(directory), kinds=load_kinds(), now=self.clock,
                                        environ={"MAIL_URL": smtp.url, "CHAT_URL": webhook.url})

    def cycle(self) -> None:
        self.clock.advance(minutes=31)
        for source in self.app.sources:
            run = run_source(self.app.context, source, force=True)
            assert run.outcome != "error", (run.source_id, run.error_class, run.error_message)
        self.app.dispatcher.run()

    def mails(self) -> list[EmailMessage]:
        return list(self.smtp.messages)

    def posts(self) -> list[str]:
        return [p.get("message", "") for p in self.webhook.payloads]


def shutil_copy(directory) -> None:
    import shutil

    from .conftest import REPO
    shutil.copy(REPO / "config" / "case_types.toml", directory / "case_types.toml")


def subject(mail: EmailMessage) -> str:
    from email.header import decode_header, make_header
    return str(make_header(decode_header(mail["Subject"])))


def body(mail: EmailMessage) -> str:
    part = next(p for p in mail.walk() if p.get_content_type() in ("text/html", "text/plain"))
    return part.get_payload(decode=True).decode()


INSPECTION = "/public-inspection-documents/current.json"  # beside /fr, as beside the documents query


def open_desk(tmp_path, ca, server, smtp, webhook, trained_matcher, fr: bytes) -> Desk:
    items = uscis_items()
    server.routes["/alerts"] = conditional_feed(rss(items[1:]), '"a1"')
    server.routes["/stakeholder"] = conditional_feed(rss(items[5:], "USCIS Stakeholder Messages"), '"s1"')
    server.routes["/fr"] = Reply(200, fr, {"Content-Type": "application/json"})
    server.routes[INSPECTION] = Reply(200, fr_page(), {"Content-Type": "application/json"})
    server.routes["/vb"] = Reply(200, (FIXTURES / "visa_bulletin_index.html").read_bytes(), {"Content-Type": "text/html"})
    server.routes["/charts"] = Reply(200, (DATA / "uscis_chart_choice_quoted.html").read_bytes(),
                                     {"Content-Type": "text/html"})
    server.routes[JULY] = Reply(200, (FIXTURES / "visa_bulletin_2024_11.html").read_bytes(), {"Content-Type": "text/html"})
    slip = (FIXTURES / "scotus_slip_opinions.html").read_bytes()
    server.routes["/opinions/slipopinion/22"] = Reply(200, without_row(slip, b"21-1436"), {"Content-Type": "text/html"})
    office = Desk(tmp_path, ca, server, smtp, webhook)
    # The production matcher (the learned one, trained once per test session), not the keyword fallback.
    matcher = EmbeddingMatcher(trained_matcher, lambda: [], office.app.config.case_types)
    office.app = replace(office.app, context=replace(office.app.context, matcher=matcher))
    office.cycle()  # the baseline: everything stored, nothing sent
    assert office.mails() == [] and office.posts() == []
    return office


@pytest.fixture
def desk(tmp_path, ca, server, smtp, webhook, trained_matcher):
    office = open_desk(tmp_path, ca, server, smtp, webhook, trained_matcher, fr_page(H1B_RULE))
    yield office
    office.app.close()


def test_what_reaches_the_attorneys(desk, server):
    items = uscis_items()
    pdf = SCOTUS_PDF.format(port=server.port)
    slip = (FIXTURES / "scotus_slip_opinions.html").read_bytes()
    # The day's news: one announcement in two feeds (the stakeholder copy links it with another spelling), the
    # July 2026 bulletin, a Supreme Court opinion, and no change at the Federal Register.
    item = items[0]
    respelled = dict(item, guid="stakeholder-copy",
                     link=item["link"].replace("https://www.uscis.gov", "https://WWW.USCIS.GOV:443") + "/?utm_source=gd")
    server.routes["/alerts"] = conditional_feed(rss(items), '"a2"')
    server.routes["/stakeholder"] = conditional_feed(rss([respelled] + items[5:], "USCIS Stakeholder Messages"), '"s2"')
    server.routes[JULY] = Reply(200, (FIXTURES / "visa_bulletin_2026_07.html").read_bytes(), {"Content-Type": "text/html"})
    server.routes["/opinions/slipopinion/22"] = Reply(200, slip.replace(
        b"/opinions/22pdf/598us2r19_dc8f.pdf", pdf.encode()), {"Content-Type": "text/html"})
    desk.cycle()

    # One announcement in two feeds: one e-mail, one chat post.
    subjects = [m["Subject"] for m in desk.mails()]
    assert sum("Second Random Selection" in s for s in subjects) == 1, subjects
    assert sum("Second Random Selection" in p for p in desk.posts()) == 1

    # The bulletin e-mail names the business team's matters that moved, whatever spelling they were imported in.
    [bulletin] = [m for m in desk.mails() if "Visa Bulletin for July 2026" in m["Subject"]]
    text = body(bulletin)
    assert "compared with the 2024-11 bulletin" in text
    # USCIS's chart choice for July 2026, stored before the bulletin came: which chart adjustment applicants use.
    assert "Adjustment of status this month (USCIS): family-sponsored categories use the Dates for Filing chart." in text
    assert "M-1001 EB-2 India PD 2011-01-01: category unavailable from 2026-07 (was 2012-07-15)" in text   # EB2, India
    assert "M-1002 EB-3 India PD 2013-05-01: current since 2026-07 (cut-off 2014-01-01, was 2012-11-01)" in text  # 3rd, IND
    assert "M-1003 EB-2 all chargeability PD 2024-01-01: current since 2026-07 (cut-off C (current), was 2023-03-15)" in text
    assert "M-1004" not in text  # the family team's matter: not in the business team's e-mail

    # The chat post of the bulletin is long: cut, but its link and Ref survive, and it says what was cut.
    [post] = [p for p in desk.posts() if "Visa Bulletin for July 2026" in p]
    assert len(post) <= 3500 and "more lines cut to fit this channel" in post
    assert re.search(r"^Ref: W-[0-9A-F]{10}", post, re.M) and f"Link: {server.url(JULY)}" in post
    assert "M-100" not in post  # matter references only where the firm opted in

    # The Supreme Court PDF link reaches chat byte for byte (underscores and all).
    [opinion] = [p for p in desk.posts() if "Santos-Zacaria" in p]
    assert f"Link: {pdf}\n" in opinion

    # A proposed-rule-style lawyer's text: document type and agency, the item's own words, the Ref.
    [rule_mail] = [m for m in desk.mails() if "Santos-Zacaria" in m["Subject"]]
    assert "U.S. Supreme Court opinion" in body(rule_mail)
    if os.environ.get("SHOW"):
        for m in desk.mails():
            print("=== MAIL", m["Subject"]); print(body(m)[:6000])
        for p in desk.posts():
            print("=== POST"); print(p)


def test_link_only_changes_send_nothing_and_a_date_change_sends_one_update(desk, server):
    items = uscis_items()
    sent_mail, sent_posts = len(desk.mails()), len(desk.posts())
    # Every link respelled (scheme case, default port, tracking parameter, trailing slash, host case) and the
    # teaser re-wrapped: nothing a lawyer reads changed.
    cosmetic = [dict(i, link=i["link"].replace("https://www.uscis.gov", "HTTPS://www.USCIS.gov:443") + "/?utm_medium=email",
                     description=i["description"].replace(" ", "  ").replace("<p>", "<p>\n"))
                for i in items[1:]]
    server.routes["/alerts"] = conditional_feed(rss(cosmetic), '"a3"')
    desk.cycle()
    assert (len(desk.mails()), len(desk.posts())) == (sent_mail, sent_posts)

    # The Federal Register moves the rule's effective date: one update, saying was -> now, and the training task
    # moves with it instead of a second task appearing.
    tasks_before = desk.app.store.tasks.listing("open")
    assert [t.task.due for t in tasks_before if "H-1B" in t.task.title] == []  # the baseline made no task
    moved = dict(H1B_RULE, effective_on="2027-02-15")
    server.routes["/fr"] = Reply(200, fr_page(moved), {"Content-Type": "application/json"})
    desk.cycle()
    updates = [m for m in desk.mails()[sent_mail:] if "UPDATE" in m["Subject"]]
    assert len(updates) == 1, [m["Subject"] for m in desk.mails()[sent_mail:]]
    text = body(updates[0])
    assert "Effective: 2026-12-20 -&gt; 2027-02-15" in text or "Effective: 2026-12-20 -> 2027-02-15" in text
    assert "Federal Register final rule, Homeland Security Department; U.S. Citizenship and Immigration Services" in text
    assert "Effective: 2027-02-15 (in 80 days)" in text
    tasks = [t for t in desk.app.store.tasks.listing("open") if "H-1B" in t.task.title]
    assert [(t.task.team, t.task.due) for t in tasks] == [("business", "2027-02-13")]

    # The same date again later, re-wrapped: nothing. Then it moves once more: the task moves, no second task.
    desk.cycle()
    assert len([m for m in desk.mails() if "UPDATE" in m["Subject"]]) == 1
    server.routes["/fr"] = Reply(200, fr_page(dict(moved, effective_on="2027-03-01")), {"Content-Type": "application/json"})
    desk.cycle()
    [last] = [m for m in desk.mails() if "UPDATE" in m["Subject"]][1:]
    assert "Training task for business updated" in body(last) and "due 2027-02-27, was 2027-02-13" in body(last)
    assert [(t.task.team, t.task.due) for t in desk.app.store.tasks.listing("open") if "H-1B" in t.task.title] == \
        [("business", "2027-02-27")]


def test_a_rule_on_public_inspection_alerts_before_it_publishes_and_publication_is_one_update(
        tmp_path, ca, server, smtp, webhook, trained_matcher):
    from .conftest import REPO
    desk = open_desk(tmp_path, ca, server, smtp, webhook, trained_matcher, fr_page())
    # Friday 08:45 Eastern: the H-1B rule is filed for public inspection, to publish on Monday (the desk page is
    # typed from the API's documentation; its filing and publication dates are moved to the test clock).
    page = json.loads((REPO / "tests" / "data" / "federal_register_public_inspection.json").read_text())
    filed = dict(page["results"][0], filed_at="2026-11-27T08:45:00.000-05:00", publication_date="2026-11-30")
    server.routes[INSPECTION] = Reply(200, fr_page(filed, *page["results"][1:]), {"Content-Type": "application/json"})
    desk.cycle()
    [alert] = [m for m in desk.mails() if "Cap-Subject H-1B" in subject(m)]
    text = body(alert)
    assert "Federal Register final rule (on public inspection, publishes 2026-11-30)" in text
    assert "Publishes: 2026-11-30 (in 3 days)" in text
    assert "https://public-inspection.federalregister.gov/2021-02665.pdf" not in subject(alert)
    [post] = [p for p in desk.posts() if "Cap-Subject H-1B" in p]
    assert "on public inspection, publishes 2026-11-30" in post
    assert not any("Air Plan Approval" in subject(m) for m in desk.mails())  # another agency: not watched

    # Monday: published, with its citation and abstract; the desk has moved on. One update, never a second alert.
    desk.clock.advance(days=2, hours=18)
    published = dict(H1B_RULE, publication_date="2026-11-30", citation="86 FR 8543")
    server.routes["/fr"] = Reply(200, fr_page(published), {"Content-Type": "application/json"})
    server.routes[INSPECTION] = Reply(200, fr_page(), {"Content-Type": "application/json"})
    desk.cycle()
    mails = [m for m in desk.mails() if "Cap-Subject H-1B" in subject(m)]
    assert len(mails) == 2 and "UPDATE" in subject(mails[1]) and "UPDATE" not in subject(mails[0])
    update = body(mails[1])
    assert "Citation: (none) -&gt; 86 FR 8543" in update or "Citation: (none) -> 86 FR 8543" in update
    assert "Federal Register final rule, Homeland Security Department" in update  # no longer "on public inspection"
    assert "This rule delays the effective date" in update
    assert "(update 2)" in update  # the same change, its second version

    # A desk page that still lists it after publication does not take it back.
    server.routes[INSPECTION] = Reply(200, fr_page(filed), {"Content-Type": "application/json"})
    desk.cycle()
    assert len([m for m in desk.mails() if "Cap-Subject H-1B" in subject(m)]) == 2
    desk.app.close()
