"""The White House's presidential actions (`presidential_actions`) and the Federal Register's copy of the same
documents: parsed from responses recorded on 2026-09-25 (tests/data/README.md), and one change, one alert.

Golden values are typed from the recordings as a person reads them, not from the parser's output.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta

from click.testing import CliRunner

from watcher.cli import main
from watcher.config import Schedule, SourceConfig
from watcher.decide import presidential_identity, same_presidential
from watcher.models import Fetched, Validators
from watcher.sources.federal_register import FederalRegisterSource
from watcher.sources.presidential import PresidentialActionsSource, operative_text, signed_on

from .conftest import REPO
from .feeds import feed_posts
from .loopback import conditional_feed
from .service import mail_service
from .test_alerts_e2e import body, subject

DATA = REPO / "tests" / "data"
FEED = DATA / "whitehouse_presidential_actions_feed.xml"
DOCUMENTS = DATA / "federal_register_presidential_documents.json"
# Proclamation 10052 (June 22, 2020), sections 2 and 3(a) in its own words, as a public page quotes them
# (tests/data/README.md): the text an alert must quote as what the proclamation restricts.
PROCLAMATION_10052 = (
    "<p>Sec. 2. Suspension and Limitation on Entry. The entry into the United States of any alien seeking entry "
    "pursuant to any of the following nonimmigrant visas is hereby suspended and limited, subject to section 3 of "
    "this proclamation:</p><p>(a) an H-1B or H-2B visa, and any alien accompanying or following to join such "
    "alien;</p><p>(b) a J visa, to the extent the alien is participating in an intern, trainee, teacher, camp "
    "counselor, au pair, or summer work travel program, and any alien accompanying or following to join such "
    "alien; and</p><p>(c) an L visa, and any alien accompanying or following to join such alien.</p><p>Sec. 3. "
    "Scope of Suspension and Limitation on Entry. (a) The suspension and limitation on entry pursuant to section 2 "
    "of this proclamation shall apply only to any alien who:</p>")


def source(kind=PresidentialActionsSource, **options):
    return kind(SourceConfig(id="wh", kind=kind.kind, url="https://www.whitehouse.gov/presidential-actions/feed/",
                             schedule=Schedule(), options=options))


def fetched(body: bytes, url="https://www.whitehouse.gov/presidential-actions/feed/") -> Fetched:
    return Fetched(url=url, status=200, body=body, headers={"content-type": "application/rss+xml"},
                   validators=Validators())


def wh_changes():
    return source().parse(fetched(FEED.read_bytes()))


def fr_changes():
    fr = source(FederalRegisterSource, presidential=True)
    return fr.parse(fetched(DOCUMENTS.read_bytes(), "https://www.federalregister.gov/api/v1/documents.json"))


def test_the_recorded_feed_gives_every_presidential_document_and_no_nomination():
    changes = wh_changes()
    assert len(changes) == 28  # thirty posts, two of them "Nominations & Appointments"
    order, proclamation = changes[0], changes[1]
    assert order.item_key == "https://www.whitehouse.gov/?p=50541"
    assert order.title.startswith("Enhancing Program Integrity and Integrity and Interagency")
    assert order.kind == "presidential_document"
    assert order.facts == {"presidential_document_type": "Executive Order", "issuer": "The White House",
                           "posted_on": "2026-09-18"}
    assert proclamation.title == "Restriction on Entry of Certain Nonimmigrant Workers"
    assert proclamation.url == ("https://www.whitehouse.gov/presidential-actions/2026/09/"
                                "restriction-on-entry-of-certain-nonimmigrant-workers-faad/")
    assert proclamation.facts["presidential_document_type"] == "Proclamation"
    assert proclamation.published.isoformat() == "2026-09-18T21:42:13+00:00"
    titles = [c.title for c in changes]
    assert "Withdrawals Sent to the Senate" not in titles and "Nominations Sent to the Senate" not in titles
    assert "Reinvigorating America\u2019s Hunting Heritage" in titles  # the feed's &#8217;, read as text
    memo = next(c for c in changes if c.title == "Restoring Reciprocity in Government Procurement")
    assert memo.facts["presidential_document_type"] == "Memorandum"
    # A post late on the 19th UTC is the 18th in Washington.
    late = next(c for c in changes if c.item_key.endswith("?p=48582"))
    assert late.facts["posted_on"] == "2026-08-18"


def test_a_firm_can_ask_for_proclamations_only_and_a_page_of_nominations_is_quiet_not_broken():
    only = source(categories=["Proclamations"]).parse(fetched(FEED.read_bytes()))
    assert {c.facts["presidential_document_type"] for c in only} == {"Proclamation"} and len(only) == 16
    page = only_items(FEED.read_text(), lambda post: "Nominations & Appointments" in post)
    assert page.count("<item>") == 2
    assert source().parse(fetched(page.encode())) == []


def test_what_a_proclamation_restricts_is_quoted_from_its_own_text():
    said = operative_text(PROCLAMATION_10052)
    assert said.startswith("The entry into the United States of any alien seeking entry pursuant to any of the "
                           "following nonimmigrant visas is hereby suspended and limited")
    assert "(a) an H-1B or H-2B visa" in said and "(c) an L visa" in said
    assert "Sec. 2" not in said and "Scope of Suspension" not in said  # its heading and the next section left out
    assert operative_text("<p>National Homeownership Month, 2026. I call upon the people to observe it.</p>") == ""
    assert signed_on("<p>DONALD J. TRUMP THE WHITE HOUSE, June 25, 2026.</p>") == "2026-06-25"
    assert signed_on("<p>THE WHITE HOUSE, February 30, 2026.</p>") is None


def test_a_post_with_its_text_carries_the_restriction_and_the_signing_day():
    # The proclamation's post as recorded (its text left out), with the text a live post carries.
    text = PROCLAMATION_10052 + "<p>DONALD J. TRUMP THE WHITE HOUSE, September 18, 2026.</p><p>The post Restriction " \
        "on Entry of Certain Nonimmigrant Workers appeared first on The White House.</p>"
    page = only_items(FEED.read_text(), lambda post: "?p=50532</guid>" in post).replace(
        "</item>", f"<content:encoded><![CDATA[{text}]]></content:encoded></item>")
    [change] = source().parse(fetched(page.encode()))
    assert change.facts["signing_date"] == "2026-09-18"
    assert change.facts["restricts"].startswith("The entry into the United States of any alien")
    assert "appeared first" not in change.summary and change.summary.startswith("Sec. 2.")


def test_the_white_house_post_and_the_federal_register_copy_are_one_document():
    wh = {c.item_key.rsplit("=", 1)[1]: presidential_identity(c.kind, c.title, c.facts) for c in wh_changes()}
    fr = {c.item_key: presidential_identity(c.kind, c.title, c.facts) for c in fr_changes()}
    pairs = {(number, post) for number, mine in fr.items() if mine for post, theirs in wh.items()
             if same_presidential(mine, theirs)}
    # Read off the two recordings by title, kind and date. The order the White House titled "Integrity and
    # Integrity and" is the Register's 14431; Labor Day was posted three days after it was signed.
    assert pairs == {
        ("2026-19555", "50541"), ("2026-19554", "50532"), ("2026-19417", "50434"), ("2026-19416", "50433"),
        ("2026-19336", "50367"), ("2026-19335", "50372"), ("2026-19334", "50361"), ("2026-19333", "50365"),
        ("2026-18959", "49961"), ("2026-18838", "49892"), ("2026-18837", "49891"), ("2026-18836", "49897"),
        ("2026-18739", "49840"), ("2026-18738", "49842"), ("2026-18573", "49811")}
    # Two proclamations the White House titled with other words ("Canadian Alcoholic Beverages" for "Canadian
    # Products"; no "the Commerce of") stay two changes: a second alert at worst, never a lost one. A determination
    # and notices have no post.
    assert {"2026-18835", "2026-18839", "2026-19251", "2026-19053", "2026-18589"}.isdisjoint(n for n, _ in pairs)


def test_same_words_on_dates_far_apart_or_of_another_kind_are_different_documents():
    one = presidential_identity("presidential_document", "Labor Day, 2026",
                                {"presidential_document_type": "Proclamation", "signing_date": "2026-09-04"})
    assert same_presidential(one, presidential_identity(
        "presidential_document", "LABOR DAY 2026", {"presidential_document_type": "Proclamations",
                                                    "posted_on": "2026-09-07"}))
    assert not same_presidential(one, presidential_identity(
        "presidential_document", "Labor Day, 2026", {"presidential_document_type": "Proclamation",
                                                     "posted_on": "2026-09-08"}))
    assert not same_presidential(one, presidential_identity(
        "presidential_document", "Labor Day, 2026", {"presidential_document_type": "Executive Order",
                                                     "signing_date": "2026-09-04"}))
    assert presidential_identity("rule", "Labor Day, 2026", {"presidential_document_type": "Proclamation",
                                                             "signing_date": "2026-09-04"}) is None
    assert presidential_identity("presidential_document", "Labor Day, 2026", {
        "presidential_document_type": "Proclamation", "signing_date": "2026-02-30"}) is None  # no day: never merged


def test_watcher_parse_reads_the_recorded_feed():
    result = CliRunner().invoke(main, ["parse", "presidential_actions", str(FEED)])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert len(lines) == 28 and lines[1]["title"] == "Restriction on Entry of Certain Nonimmigrant Workers"


# ---------------------------------------------------------------- end to end: one proclamation, one alert

def only_items(text: str, keep) -> str:
    """The feed with only the posts `keep(post)` accepts, its channel head and closing tags as recorded."""
    head, posts, tail = feed_posts(text)
    return head + "".join(p for p in posts if keep(p)) + tail


def without_items(text: str, *guids: str) -> str:
    return only_items(text, lambda post: not any(f"?p={g}</guid>" in post for g in guids))


def fr_without(*numbers: str) -> bytes:
    page = json.loads(DOCUMENTS.read_text())
    page["results"] = [d for d in page["results"] if d["document_number"] not in numbers]
    page["next_page_url"] = None
    return json.dumps(page).encode()


def presidential_route(presidential: bytes):
    """The documents query answers nothing new; the presidential query (PRESDOCU) answers `presidential`."""
    def handler(request):
        body = presidential if "PRESDOCU" in request.path else json.dumps({"count": 0, "results": []}).encode()
        request.send_response(200)
        request.send_header("Content-Type", "application/json")
        request.send_header("Content-Length", str(len(body)))
        request.end_headers()
        request.wfile.write(body)
    return handler


def test_a_proclamation_from_the_white_house_and_from_the_federal_register_is_one_change_and_one_alert(
        tmp_path, ca, server, smtp, trained_matcher):
    service = mail_service(
        tmp_path, ca, smtp, trained_matcher,
        f'[[source]]\nid = "white-house"\nkind = "presidential_actions"\nurl = "{server.url("/wh")}"\n'
        f'schedule = "10m"\n\n[[source]]\nid = "federal-register"\nkind = "federal_register"\n'
        f'url = "{server.url("/fr")}"\nschedule = "30m"\npresidential = true\n', step=timedelta(minutes=31))
    app, clock, cycle = service.app, service.clock, service.cycle

    feed = FEED.read_text()
    # The baseline: the feed and the Register as they stood before the H-1B order and proclamation.
    server.routes["/wh"] = conditional_feed(without_items(feed, "50541", "50532").encode(), '"w1"')
    server.routes["/fr"] = presidential_route(fr_without("2026-19555", "2026-19554"))
    cycle()
    assert list(smtp.messages) == []
    # Friday evening: the White House posts both.
    server.routes["/wh"] = conditional_feed(feed.encode(), '"w2"')
    cycle()
    first = {subject(m) for m in smtp.messages}
    assert len(smtp.messages) == 2
    assert any("Restriction on Entry of Certain Nonimmigrant Workers (H-1B)" in s for s in first), first
    assert any("Enhancing Program Integrity" in s and "H-1B" in s for s in first), first
    order = next(m for m in smtp.messages if "Enhancing Program Integrity" in subject(m))
    assert "Presidential executive order, posted 2026-09-18, The President (The White House)" in body(order)
    # Wednesday: the Federal Register publishes them as EO 14431 and Proclamation 11069. No second alert.
    clock.advance(days=5)
    server.routes["/fr"] = presidential_route(DOCUMENTS.read_bytes())  # as recorded
    cycle()
    assert {subject(m) for m in smtp.messages} == first
    assert len(smtp.messages) == len(first)
    # Both kept (the Register's source must know it has seen its copy), announced once, listed once.
    stored = {r["source_id"] for r in app.store.db.query("SELECT source_id FROM changes WHERE title LIKE ?",
                                                         ["Enhancing Program Integrity%"])}
    assert stored == {"white-house", "federal-register"}
    listed = [c.source_id for c in app.store.changes.listing(None, 100) if "Enhancing Program Integrity" in c.title]
    assert listed == ["white-house"]
    assert [r.source_id for r in app.store.web.changes(search="Enhancing Program Integrity")] == ["white-house"]
    # The White House's change is the story: its next version carries the Register's citation and number, and the
    # Register's copy names it. Neither is a new alert.
    rows = {(r["source_id"], r["title"][:40]): r for r in app.store.db.query(
        "SELECT id, source_id, title, version, facts FROM changes WHERE kind = 'presidential_document'")}
    proclamation = rows[("white-house", "Restriction on Entry of Certain Nonimmig")]
    published = json.loads(proclamation["facts"])["published_as"]
    assert (proclamation["version"], published["citation"], published["presidential_number"]) == (
        2, "91 FR 60497", "11069")
    assert published["published_on"] == "2026-09-23" and published["document_number"] == "2026-19554"
    # The new version keeps its readers: the change still lists, and filters, as H-1B.
    assert "H-1B" in app.store.changes.matched_codes(proclamation["id"])
    copy = rows[("federal-register", "Restriction on Entry of Certain Nonimmig")]
    assert json.loads(copy["facts"])["same_as"] == proclamation["id"]
    versions = app.store.db.execute("SELECT count(*) FROM change_versions WHERE change_id = ?",
                                    [proclamation["id"]]).fetchone()[0]
    assert versions == 2
    # The White House feed and the Register again, as they stand: nothing new, no version, no alert.
    server.routes["/wh"] = conditional_feed(feed.encode(), '"w3"')
    cycle()
    assert len(smtp.messages) == len(first)
    assert app.store.db.execute("SELECT version FROM changes WHERE id = ?", [proclamation["id"]]).fetchone()[0] == 2
    app.close()


def test_the_alert_says_what_the_proclamation_restricts_in_its_own_words():
    from watcher.models import Decision, Match, Status
    from watcher.notify.render import render_alert

    text = PROCLAMATION_10052 + "<p>DONALD J. TRUMP THE WHITE HOUSE, September 18, 2026.</p>"
    page = only_items(FEED.read_text(), lambda post: "?p=50532</guid>" in post).replace(
        "</item>", f"<content:encoded><![CDATA[{text}]]></content:encoded></item>")
    [change] = source().parse(fetched(page.encode()))
    subject_line, plain_text, html = render_alert(Decision(change, Status.NEW, 1),
                                                  [Match("H-1B", 0.9, "learned", "names H-1B")], "wh-1")
    assert "Presidential proclamation, signed 2026-09-18, The President (The White House)" in plain_text
    assert ("What it restricts: The entry into the United States of any alien seeking entry pursuant to any of the "
            "following nonimmigrant visas is hereby suspended and limited") in plain_text
    assert "<i>What it restricts:</i> The entry into the United States" in html


def test_hostile_posts_are_refused_or_read_in_bounds():
    import pytest

    from watcher.errors import ParseError

    declared = FEED.read_text().replace("<rss version", '<!DOCTYPE rss [<!ENTITY x "boom">]><rss version', 1)
    with pytest.raises(ParseError, match="entities"):
        source().parse(fetched(declared.encode()))  # the rss kind's defences hold for this kind too
    endless = "<p>" + "the entry of aliens is hereby suspended and " * 20000 + "</p>"
    page = only_items(FEED.read_text(), lambda post: "?p=50532</guid>" in post).replace(
        "</item>", f"<content:encoded><![CDATA[{endless}]]></content:encoded></item>")
    [change] = source().parse(fetched(page.encode()))
    assert len(change.facts["restricts"]) <= 600 and len(change.summary) <= 4000


def test_the_citation_stays_on_the_white_house_change_through_its_own_later_edits(tmp_path):
    from datetime import datetime, timezone

    from watcher.decide import classify, published_as
    from watcher.models import Decision, Status
    from watcher.notify.lawyer import describe
    from watcher.store import Store

    now = datetime(2026, 9, 25, 12, tzinfo=timezone.utc)
    proclamation = next(c for c in wh_changes() if c.title == "Restriction on Entry of Certain Nonimmigrant Workers")
    register = next(c for c in FederalRegisterSource(SourceConfig(
        id="federal-register", kind="federal_register", url="https://www.federalregister.gov/api/v1/documents.json",
        schedule=Schedule(), options={"presidential": True})).parse(Fetched(
            url="https://www.federalregister.gov/api/v1/documents.json?conditions[type][]=PRESDOCU", status=200,
            body=DOCUMENTS.read_bytes(), headers={}, validators=Validators())) if c.item_key == "2026-19554")
    store = Store(tmp_path / "w.db")
    change_id = store.changes.save(Decision(proclamation, Status.NEW, 1), now, baseline=False)
    store.changes.annotate(change_id, "published_as", published_as(register), now)
    stored = store.changes.latest_versions("wh", [proclamation.item_key])
    # The same post again is unchanged: the citation is not the White House's content.
    [same] = classify([proclamation], stored)
    assert same.status is Status.UNCHANGED and same.version == 2
    assert describe(proclamation.kind, stored[proclamation.item_key].facts) == (
        "Presidential proclamation 11069, posted 2026-09-18", "The President (The White House; 91 FR 60497)")
    # The White House edits the post: an update of its own content, and the citation stays with it.
    edited = replace(proclamation, summary=proclamation.summary + " Corrected.")
    [update] = classify([edited], stored)
    assert update.status is Status.UPDATED and update.version == 3
    store.changes.save(update, now, baseline=False)
    facts = store.changes.latest_versions("wh", [proclamation.item_key])[proclamation.item_key].facts
    assert facts["published_as"]["citation"] == "91 FR 60497"
    store.close()
