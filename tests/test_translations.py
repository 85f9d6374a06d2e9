"""One announcement in several languages: each translation concerns what its original concerns, and the firm
hears of it once. Real USCIS news releases (tests/data/uscis_news_translations.json)."""

from __future__ import annotations

import json

import pytest

from watcher import app as app_module
from watcher.matching.language import announced, originals, translation_of
from watcher.pipeline import run_source
from watcher.sources.rss import RssSource

from .clock import Clock
from .feeds import DATA, rss
from .loopback import conditional_feed

ITEMS = {i["title"]: i for i in json.loads((DATA / "uscis_news_translations.json").read_text())}
PROPOSED, FINAL = "DHS Proposes Fair and Humane Public Charge Rule", "DHS Publishes Fair and Humane Public Charge Rule"
URDU = ITEMS[FINAL + " (Urdu)"]["description"]


@pytest.mark.parametrize("title, summary, original", [
    (FINAL + " (Urdu)", URDU, FINAL),
    (FINAL + " (Vietnamese)", "", FINAL),                      # a named language is enough
    ("Eligible Ukrainians Can Now Apply for Re-Parole - Ukrianian", URDU,  # the source's misspelling, not English
     "Eligible Ukrainians Can Now Apply for Re-Parole"),
    ("Important Information About Working Legally in the United States (Español)", "",
     "Important Information About Working Legally in the United States"),
    ("Eligible to Naturalize Factsheet: Miami (CBSA)", "This factsheet shows the number of lawful permanent "
     "residents in the area who are eligible to naturalize and where they were born.", None),
    ("Matter of F-S-N-, 28 I&N Dec. 1 (BIA 2020)", "", None),
    ("Worldwide Caution - Caution", "The Department of State is issuing this worldwide caution to alert U.S. "
     "citizens of the continuing threat of terrorist attacks.", None),
    (FINAL, ITEMS[FINAL]["description"], None),
])
def test_translation_of(title, summary, original):
    assert translation_of(title, summary) == original


def test_originals_prefers_the_untranslated_item_then_the_store_then_the_first_translation():
    urdu, bengali = (FINAL + " (Urdu)", URDU), (FINAL + " (Bengali)", URDU)
    english = (FINAL, ITEMS[FINAL]["description"])
    assert originals([urdu, english, bengali]) == {0: 1, 2: 1}
    assert originals([urdu, bengali], stored={FINAL.lower()}) == {0: None, 1: None}
    assert originals([urdu, bengali]) == {1: 0}  # the first of the announcement is the one read
    assert originals([english, (PROPOSED, "")]) == {}


def test_a_stored_announcement_is_its_original_else_its_first_translation():
    urdu, bengali = (3, FINAL + " (Urdu)", URDU), (4, FINAL + " (Bengali)", URDU)
    english, correction = (7, FINAL, ITEMS[FINAL]["description"]), (2, FINAL + " Correction", "")
    wanted = FINAL.lower()
    assert announced([wanted], [correction, urdu, bengali, english]) == {wanted: (7, FINAL)}
    assert announced([wanted], [correction, urdu, bengali]) == {wanted: (3, FINAL + " (Urdu)")}
    assert announced([wanted], [correction]) == {}


# One phrase is enough here: the release names "public charge" once, the keyword matcher's default wants two.
TARGET = """
[matching]
method = "keywords"
min_score = 0.3

[[target]]
name = "attorneys-chat"
url_env = "WATCHER_TEST_HOOK"
tags = ["attorneys"]

[[route]]
case_types = ["*"]
tags = ["attorneys"]
"""


def test_an_announcement_in_several_languages_is_announced_once(server, webhook, make_config):
    """The final rule came out in English at 09:49 and in eleven languages that afternoon: one alert."""
    feed = lambda *titles: conditional_feed(rss([ITEMS[t] for t in titles], "USCIS News Releases"),
                                            '"%d"' % len(titles))
    server.routes["/news"] = feed(PROPOSED)
    config = app_module.load_config(make_config([("uscis-news", server.url("/news"))], TARGET))
    clock = Clock()
    app = app_module.build_app(config, kinds={"rss": RssSource}, environ={"WATCHER_TEST_HOOK": webhook.url},
                               now=clock)
    source = app.sources[0]
    assert run_source(app.context, source).outcome == "baseline"

    # The English release and one translation in one fetch; then two more translations in a later one.
    server.routes["/news"] = feed(PROPOSED, FINAL + " (Bengali)", FINAL)
    clock.advance(minutes=30)
    run = run_source(app.context, source)
    assert (run.new, run.messages) == (2, 1)
    server.routes["/news"] = feed(PROPOSED, FINAL + " (Urdu)", FINAL + " (Vietnamese)", FINAL + " (Bengali)", FINAL)
    clock.advance(minutes=30)
    run = run_source(app.context, source)
    assert (run.new, run.messages) == (2, 0)

    assert app.dispatcher.run().sent == 1
    [alert] = webhook.payloads
    assert FINAL in json.dumps(alert) and "Bengali" not in json.dumps(alert)
    rows = list(app.store.db.query(
        "SELECT c.title, m.case_type, m.method, m.rationale FROM matches m JOIN changes c ON c.id = m.change_id "
        "WHERE c.title LIKE ? ORDER BY c.title", [FINAL + " (%"]))
    # Each translation takes its original's matches: PUBLIC-CHARGE, and I-485 by the firm's public-charge relation
    # (case_types.toml, LABELING.md rule 2 of version 2).
    assert sorted((r["title"][len(FINAL) + 2:-1], r["case_type"], r["method"]) for r in rows) == [
        (language, code, "translation") for language in ("Bengali", "Urdu", "Vietnamese")
        for code in ("I-485", "PUBLIC-CHARGE")]
    assert all(r["rationale"] == f"a translation of '{FINAL}'" for r in rows)
    app.close()
