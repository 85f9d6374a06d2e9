"""EOIR policy memoranda (`eoir_policy`), OFLC announcements (`dol_oflc`), the State Department's visa news
(`dos_news`) and SEVP's posts (`sevp`).

The EOIR and OFLC pages' text is recorded (stored copies of the pages, tests/data/README.md); their markup, and the
State Department and SEVP listings, are typed around real titles, addresses and days. Golden values are typed from
those texts as a person reads them, not from the parsers' output. The parsers read by meaning (a memorandum's line,
an announcement's dated opening, an article's address), so each test also moves the same words into other markup.
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from watcher import config
from watcher.cli import main
from watcher.config import Schedule, SourceConfig
from watcher.errors import ParseError
from watcher.matching.relations import Relations
from watcher.models import Decision, Fetched, Match, Status, Validators
from watcher.notify.render import render_alert
from watcher.sources.dol_oflc import OflcAnnouncementsSource
from watcher.sources.dos_news import StateVisaNewsSource
from watcher.sources.eoir_policy import EoirPolicySource, references
from watcher.sources.eoir_status import EoirCourtStatusSource
from watcher.sources.listing import text_date
from watcher.sources.sevp import SevpBroadcastsSource, SevpNewsSource

from .conftest import REPO
from .loopback import conditional_feed
from .service import mail_service
from .test_alerts_e2e import body, subject

DATA = REPO / "tests" / "data"
PM_LIST = DATA / "eoir_policy_memoranda_pm_list.html"
PART_VII = DATA / "eoir_policy_manual_part_vii.html"
OFLC = DATA / "dol_oflc_foreign_labor_2025.html"
VISA_NEWS = DATA / "dos_visas_news_index.html"
SEVP_BLOG = DATA / "sevp_study_in_the_states_blog.html"
BROADCASTS = DATA / "ice_sevis_whats_new.html"


def source(cls, kind: str, url: str):
    return cls(SourceConfig(id=kind, kind=kind, url=url, schedule=Schedule()))


EOIR = source(EoirPolicySource, "eoir_policy", "https://www.justice.gov/eoir/eoir-policy-manual/memoranda-pm-list")
DOL = source(OflcAnnouncementsSource, "dol_oflc", "https://www.dol.gov/agencies/eta/foreign-labor")
STATE = source(StateVisaNewsSource, "dos_news", "https://travel.state.gov/content/travel/en/News/visas-news.html")
SEVP = source(SevpNewsSource, "sevp", "https://studyinthestates.dhs.gov/blog")
BCM = source(SevpBroadcastsSource, "sevp_broadcasts", "https://www.ice.gov/sevis/whats-new")


def parse(kind, body: bytes | str):
    data = body.encode() if isinstance(body, str) else body
    return kind.parse(Fetched(url=kind.config.url, status=200, body=data, headers={}, validators=Validators()))


# ---- EOIR policy memoranda -------------------------------------------------------------------------------------

def test_the_policy_memoranda_list_golden():
    memos = parse(EOIR, PM_LIST.read_bytes())
    # 21 memoranda, PM 25-31 down to PM 25-11; the sentence "PM 20-16, OCAHO Settlement Officer Program, has been
    # incorporated ..." names a memorandum but is not a line of the list.
    assert [m.item_key for m in memos] == [f"PM 25-{n}" for n in range(31, 10, -1)]
    by_key = {m.item_key: m for m in memos}
    cancel = by_key["PM 25-29"]
    assert cancel.title == "EOIR Policy Memorandum 25-29: Cancellation of Director’s Memorandum 22-03"
    assert cancel.facts == {"number": "PM 25-29", "subject": "Cancellation of Director’s Memorandum 22-03",
                            "cancels": ["DM 22-03"]}
    assert cancel.url == "https://www.justice.gov/eoir/media/pm-25-29/dl?inline"
    assert cancel.summary == ""  # the list says nothing more, and nothing is made up
    assert cancel.published is None  # the list gives no day, and none is guessed
    # One memorandum cancels one and reinstates three, with the list's stray trailing "PM".
    assert by_key["PM 25-17"].facts["cancels"] == ["DM 22-05"]
    assert by_key["PM 25-17"].facts["reinstates"] == ["PM 19-05", "PM 21-06", "PM 21-13"]
    assert by_key["PM 25-31"].facts["amends"] == ["PM 25-30"]
    assert by_key["PM 25-30"].facts["cancels"] == ["OPPM 18-01"]
    assert "cancels" not in by_key["PM 25-11"].facts  # "Laken Riley Act"


def test_the_older_part_vii_page_holds_directors_memoranda_too():
    memos = {m.item_key: m for m in parse(EOIR, PART_VII.read_bytes())}
    assert len(memos) == 4 + 21
    assert memos["DM 22-03"].title == "EOIR Director's Memorandum 22-03: Administrative Closure"
    assert memos["DM 22-04"].facts["subject"] == "Filing Deadlines in Non-Detained Cases"  # the page's double space
    assert memos["PM 19-11"].facts["subject"] == '"No Dark Courtrooms"'
    # "Cancellation of OPPMs" names no memorandum by number: nothing is claimed as cancelled.
    assert "cancels" not in memos["PM 19-01"].facts


@pytest.mark.parametrize("subject, expected", [
    ("Cancellation of Director’s Memorandum 23-01 and Reinstatement of Policy Memorandum 19-13",
     {"cancels": ["DM 23-01"], "reinstates": ["PM 19-13"]}),
    ("Cancellation of Director’s Memorandum 22-06 and Reinstate Policy Memorandum 20-05",
     {"cancels": ["DM 22-06"], "reinstates": ["PM 20-05"]}),
    ("Cancellation of Policy Memorandum 21-24 and Reinstatement of Policy Memorandum 21-10",
     {"cancels": ["PM 21-24"], "reinstates": ["PM 21-10"]}),
    ("Cancellation of Operating Policies and Procedures Memorandum 18-01", {"cancels": ["OPPM 18-01"]}),
    ("Addendum to Policy Memorandum 25-30", {"amends": ["PM 25-30"]}),
    ("Pretermission of Legally Insufficient Application for Asylum", {}),
    ("Section 7611 of the National Defense Authorization Act of 2020, Public Law 116-92", {}),
])
def test_what_a_memorandum_does_to_earlier_ones_is_read_from_its_subject(subject, expected):
    assert references(subject) == expected


@pytest.mark.parametrize("markup", [
    '<table><tr><td><a href="/eoir/media/pm-25-29/dl?inline">PM 25-29</a> (PDF) {s}</td></tr></table>',
    '<ul><li><a href="/eoir/media/pm-25-29/dl?inline">PM 25-29 (PDF)</a> {s}</li></ul>',
    '<div class="x"><div><p>PM 25-29 <a href="/eoir/media/pm-25-29/dl?inline">(PDF)</a> – {s}</p></div></div>',
])
def test_a_memorandum_line_is_read_wherever_it_sits(markup):
    page = "<html><body><h2>List of EOIR Policy Memoranda</h2>" + markup.format(
        s="Cancellation of Director’s Memorandum 22-03") + "</body></html>"
    [memo] = parse(EOIR, page)
    assert (memo.item_key, memo.facts.get("cancels")) == ("PM 25-29", ["DM 22-03"])
    assert memo.url == "https://www.justice.gov/eoir/media/pm-25-29/dl?inline"


def test_a_list_without_memoranda_is_parser_broken_and_hostile_links_never_leave():
    with pytest.raises(ParseError, match="no memoranda"):
        parse(EOIR, "<html><body><h1>List of EOIR Policy Memoranda</h1><p>This page has moved.</p></body></html>")
    [memo] = parse(EOIR, '<p><a href="javascript:alert(1)">PM 25-29</a> (PDF) Cancellation</p>')
    assert memo.url == ""


def test_the_alert_says_which_memoranda_it_cancels_and_reinstates():
    memo = {m.item_key: m for m in parse(EOIR, PM_LIST.read_bytes())}["PM 25-27"]
    _, text, html = render_alert(Decision(memo, Status.NEW, 1), [Match("REMOVAL", 0.9, "relation", "why")], "r-1")
    assert "INFO: EOIR policy memorandum, Executive Office for Immigration Review" in text
    assert "Published date not given by the source" in text
    assert "What it cancels: DM 23-01" in text and "What it reinstates: PM 19-13" in text
    assert "<i>What it cancels:</i> DM 23-01" in html


def test_the_firms_relation_sends_every_memorandum_to_the_removal_team_and_removing_it_stops_that():
    shipped = config.load(REPO / "config").relations
    memo = {m.item_key: m for m in parse(EOIR, PM_LIST.read_bytes())}["PM 25-29"]
    reached = Relations(shipped).apply({}, memo.title, memo.summary, {})
    assert reached.added["REMOVAL"][1] == ("EOIR's policy memoranda govern practice before the immigration courts "
                                           "and the Board (case_types.toml)")
    without = Relations([r for r in shipped if r.name != "EOIR policy memoranda"])
    assert set(without.apply({}, memo.title, memo.summary, {}).added) == set()


def test_new_memoranda_on_the_list_alert_once_each_with_what_they_cancel(tmp_path, ca, server, smtp,
                                                                          trained_matcher):
    service = mail_service(tmp_path, ca, smtp, trained_matcher, f'[[source]]\nid = "eoir-pm"\n'
                           f'kind = "eoir_policy"\nurl = "{server.url("/pm")}"\nschedule = "1h"\n')
    app, cycle = service.app, service.cycle

    # The page as it stood: the older Part VII lists (Director's Memoranda 22-01 to 22-04 among them) and the newer
    # list without its three newest lines. Then EOIR adds PM 25-29, which cancels DM 22-03, and 25-30, 25-31.
    older = PART_VII.read_text()
    lists = older[older.index("<h2>List of EOIR Director's Memoranda"):older.index("</main>")]
    page = PM_LIST.read_text().replace("</main>", lists + "</main>")
    newest = [line for line in page.splitlines() if any(f"PM 25-{n}<" in line for n in (29, 30, 31))]
    server.routes["/pm"] = conditional_feed("\n".join(l for l in page.splitlines() if l not in newest).encode(), '"1"')
    cycle()
    assert list(smtp.messages) == []  # the list as it stood is the baseline
    server.routes["/pm"] = conditional_feed(page.encode(), '"2"')
    cycle()
    subjects = sorted(subject(m) for m in smtp.messages)
    assert len(subjects) == 3 and all("(REMOVAL" in s for s in subjects), subjects
    mail = body(next(m for m in smtp.messages if "Memorandum 25-29" in subject(m)))
    assert "EOIR Policy Memorandum 25-29: Cancellation of Director’s Memorandum 22-03" in mail
    assert "What it cancels: DM 22-03 (Administrative Closure)" in mail  # its subject, as watcher stored it
    assert "EOIR's policy memoranda govern practice before the immigration courts and the Board" in mail
    # The cancelled memorandum's own change says by which, as a new version, and sends nothing.
    [row] = app.store.db.query("SELECT version, facts FROM changes WHERE item_key = 'DM 22-03'")
    assert (row["version"], json.loads(row["facts"])["cancelled_by"]) == (2, "PM 25-29")
    cycle()  # the same list again: nothing more, no new version
    assert len(smtp.messages) == 3
    [row] = app.store.db.query("SELECT version FROM changes WHERE item_key = 'DM 22-03'")
    assert row["version"] == 2
    app.close()


# ---- EOIR operational status -----------------------------------------------------------------------------------

STATUS_JANUARY = DATA / "eoir_operational_status_2022_01.html"
STATUS_FEBRUARY = DATA / "eoir_operational_status_2022_02.html"
STATUS = source(EoirCourtStatusSource, "eoir_court_status", "https://www.justice.gov/eoir-operational-status")


def test_the_status_page_is_read_as_its_paragraphs_of_prose():
    notices = parse(STATUS, STATUS_JANUARY.read_bytes())
    assert [n.title for n in notices] == [
        "EOIR maintains an Automated Case Information System that allows you to check your case status online.",
        "Consistent with public health officials’ guidance, EOIR has implemented practices to help to protect all "
        "people working in and visiting EOIR spaces throughout the country.",
        "Practitioners and respondents who are appearing for hearings by phone or online do not need to be "
        "physically present in one location.",
        "On January 10, 2022, in response to the recent increase in both active cases and community transmission of "
        "COVID-19, EOIR postponed certain hearings.",
        # A first sentence longer than 200 characters is cut at a word.
        "If you have questions or are uncertain whether your hearing has been postponed, please check the Automated "
        "Court Information System online or at 800-898-7180 (TDD: 800-828-1120) or call the…"]
    # The table's cells ("Proceeding as Scheduled", "Non-detained cases without a lawyer ...") and the footer are
    # layout, not notices. The same words respaced or retyped are the same notice.
    again = parse(STATUS, STATUS_JANUARY.read_text().replace("On January 10, 2022,", "On  January\n 10, 2022,")
                  .replace("’", "'"))
    assert {n.item_key for n in again} == {n.item_key for n in notices}


def test_only_the_paragraphs_eoir_added_are_announced(tmp_path, ca, server, smtp, trained_matcher):
    service = mail_service(tmp_path, ca, smtp, trained_matcher, f'[[source]]\nid = "eoir-status"\n'
                           f'kind = "eoir_court_status"\nurl = "{server.url("/s")}"\nschedule = "1h"\n')
    app, cycle = service.app, service.cycle
    server.routes["/s"] = conditional_feed(STATUS_JANUARY.read_bytes(), '"1"')
    cycle()
    assert list(smtp.messages) == []  # the standing text is the baseline
    server.routes["/s"] = conditional_feed(STATUS_FEBRUARY.read_bytes(), '"2"')
    cycle()
    subjects = sorted(subject(m) for m in smtp.messages)
    assert len(subjects) == 2, subjects
    assert all("\n- REMOVAL: " in body(m) for m in smtp.messages)  # a long subject is cut before its codes
    remind = body(next(m for m in smtp.messages if "February 8, 2022" in subject(m)))
    assert "immigration court operational status notice, Executive Office for Immigration Review" in remind
    assert "no additional postponements will apply to the previously announced groups" in remind
    app.close()


# ---- OFLC announcements ----------------------------------------------------------------------------------------

def test_the_oflc_announcements_golden():
    first, second = parse(DOL, OFLC.read_bytes())
    assert first.title == "Reminder Notice: Deletion of Records from FLAG"
    assert first.item_key == "2025-03-11:reminder-notice-deletion-of-records-from-flag"
    assert first.published.date().isoformat() == "2025-03-11"
    assert first.summary.startswith("The Department of Labor’s Employment and Training Administration, Office of "
                                    "Foreign Labor Certification (OFLC), record deletion program will begin")
    assert "Permanent Labor Certification Applications (PERM)" in first.summary  # its list is its body
    assert first.summary.endswith("no later than March 19, 2025.")
    # "March 4th, 2025." as OFLC wrote it; the meeting line "March 19, 2025, 7:00 PM | ..." opens nothing.
    assert second.published.date().isoformat() == "2025-03-04"
    assert second.title.startswith("OFLC Announces Webinar on March 19, 2025, to Provide Technical Assistance")
    assert "Meeting Details: March 19, 2025, 7:00 PM" in second.summary
    assert all("Hurricane" not in c.title for c in (first, second))


# The 2023 page's announcement, in its own words, in three markups a CMS produces.
OPENING = ("May 30, 2023. Office of Foreign Labor Certification Announces Solicitation of Input for the Annual "
           "Determination of Labor Supply States to Enhance U.S. Worker Recruitment")
BODY_2023 = ("The 2022 H-2A Final Rule, effective on November 14, 2022, implemented a new process for the OFLC "
             "Administrator’s determination of labor supply States.")


@pytest.mark.parametrize("markup", [
    f"<h3>{OPENING}</h3><p>{BODY_2023}</p>",
    f"<p><b>{OPENING}</b> {BODY_2023}</p>",
    f"<div><p>{OPENING}</p></div><div><p>{BODY_2023}</p></div>",
])
def test_an_announcement_is_read_by_its_dated_opening_in_any_markup(markup):
    [change] = parse(DOL, f"<html><body><h2>Announcements</h2>{markup}<h2>Programs</h2><p>H-2A</p></body></html>")
    assert change.title.startswith("Office of Foreign Labor Certification Announces Solicitation of Input")
    assert change.title.endswith("to Enhance U.S. Worker Recruitment")
    assert change.summary == BODY_2023  # the next section heading ends the body
    assert change.facts == {"announced_on": "2023-05-30"}


def test_an_impossible_day_opens_nothing_and_a_page_without_announcements_is_broken():
    with pytest.raises(ParseError):  # its one opening has no real day: nothing readable
        parse(DOL, "<p>February 30, 2025. Maintenance notice</p><p>Body.</p>")
    with pytest.raises(ParseError, match="no announcements"):
        parse(DOL, "<html><body><h1>Foreign Labor Certification</h1><p>Programs</p></body></html>")
    assert text_date("Posted 3/4/2025") is not None and text_date("no date") is None


# ---- State Department visa news and SEVP (links by address) ----------------------------------------------------

def test_the_visa_news_index_golden():
    items = parse(STATE, VISA_NEWS.read_bytes())
    assert [i.title for i in items] == [
        "Interview Waiver Update",
        "Suspension of Visa Issuance to Foreign Nationals to Protect the Security of the United States",
        "Important Update on Waivers of the Interview Requirement for Certain Nonimmigrant Visa Applicants",
        "Expansion of Interview Waiver Eligibility"]
    waiver = items[2]
    # The site's own misspelt address is the item's identity; the "Read More" link is the same item, not a title.
    assert waiver.item_key == ("https://travel.state.gov/content/travel/en/News/visas-news/important-update-on-"
                               "waivers-of-the-interview-requirement-for-certaing-nonimmigrant-visa-applicants.html")
    assert waiver.summary == ("The Secretary of State, following consultations with the Department of Homeland "
                              "Security, has determined that the following categories of interview waivers are in "
                              "the national interest.")
    assert items[3].published.date().isoformat() == "2020-12-29" and items[1].published is None
    assert {i.kind for i in items} == {"visa_news"}


def test_the_study_in_the_states_blog_golden():
    stem, week, major = parse(SEVP, SEVP_BLOG.read_bytes())
    assert stem.title == "STEM OPT Hub Explains New Rule to Students, Schools and Employers"
    assert stem.url == ("https://studyinthestates.dhs.gov/2016/03/stem-opt-hub-explains-new-rule-to-students-"
                        "schools-and-employers")
    assert stem.published.isoformat() == "2016-03-11T12:00:00+00:00"  # its <time datetime>
    assert stem.summary.startswith("Today, the U.S. Department of Homeland Security (DHS) published its final rule")
    assert stem.summary.endswith("in an approved STEM field.")  # "Read More" is not part of it
    assert week.title == "Here to Help: International Education Week" and week.published is None
    assert major.published.date().isoformat() == "2012-07-05"  # a written day: "July 5, 2012"
    assert major.summary.startswith("When Department of Homeland Security Secretary Janet Napolitano launched")


def test_sevp_broadcast_messages_are_read_with_their_number_from_the_file_name():
    items = parse(BCM, BROADCASTS.read_bytes())
    # Three spellings of one scheme (bcm_260802, bcm260801, bcm2510-02); the nav's Form I-17 checklist is not one.
    assert [(i.facts["broadcast"], i.title) for i in items] == [
        ("2608-02", "SEVP Broadcast Message 2608-02, Guidance for DSOs regarding CPT"),
        ("2608-01", "SEVP Broadcast Message 2608-01, Reminder of Liability for DSOs Regarding CPT Authorization"),
        ("2510-02", "Reminder to School Officials of Program Compliance and Reporting Requirements for F, M and J "
                    "Nonimmigrants")]
    assert items[2].published.date().isoformat() == "2025-10-08" and items[2].summary == ""  # not the ":" after it
    assert {i.kind for i in items} == {"sevp_broadcast"}


def test_links_elsewhere_are_never_items_and_other_markup_gives_the_same_items():
    rows = ('<table><tr><td>12/29/2020</td><td><a href="https://travel.state.gov/content/travel/en/News/visas-news/'
            'expansion-of-interview-waiver-eligibility.html?utm_source=x">Expansion of Interview Waiver Eligibility'
            '</a></td></tr><tr><td><a href="https://evil.example/content/travel/en/News/visas-news/x.html">Fake</a>'
            '</td></tr><tr><td><a href="javascript:void(0)">Script</a></td></tr></table>')
    [item] = parse(STATE, f"<html><body>{rows}</body></html>")
    assert item.item_key.endswith("/visas-news/expansion-of-interview-waiver-eligibility.html")
    assert item.published.date().isoformat() == "2020-12-29"
    with pytest.raises(ParseError, match="no visa news items"):
        parse(STATE, '<html><body><a href="/content/travel/en/News/visas-news.html">News</a></body></html>')
    with pytest.raises(ParseError, match="no SEVP posts"):
        parse(SEVP, '<html><body><a href="/students">Students</a><a href="/2016/13/bad-month">x</a></body></html>')


def test_each_new_kind_parses_its_recording_from_the_command_line():
    runner = CliRunner()
    for kind, path, count in (("eoir_policy", PM_LIST, 21), ("dol_oflc", OFLC, 2), ("dos_news", VISA_NEWS, 4),
                              ("sevp", SEVP_BLOG, 3), ("eoir_court_status", STATUS_FEBRUARY, 5),
                              ("sevp_broadcasts", BROADCASTS, 3)):
        result = runner.invoke(main, ["parse", kind, str(path)], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        assert len([json.loads(line) for line in result.output.splitlines() if line.startswith("{")]) == count


def test_the_new_sources_ship_disabled_until_checked_against_the_live_pages():
    bundled = {s.kind: s for s in config.load(REPO / "config").sources}
    for kind in ("eoir_policy", "dol_oflc", "dos_news", "sevp", "eoir_court_status", "sevp_broadcasts"):
        assert bundled[kind].enabled is False, kind
