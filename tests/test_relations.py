"""The firm's cross-cutting relations (LABELING.md rules v2) as configured in case_types.toml, on real items."""

from __future__ import annotations

import shutil

import pytest

from watcher import config
from watcher.errors import ConfigError
from watcher.matching.citations import SignalExtractor, title_rules
from watcher.matching.labels import load_labeled
from watcher.matching.relations import Relations

from .conftest import REPO

CONFIG = config.load(REPO / "config")
EXTRACTOR = SignalExtractor(CONFIG.case_types)
ITEMS = {i.id: i for i in load_labeled(REPO / "watcher" / "data" / "labeled.jsonl")}


def apply(relations: Relations, item_id: str, have: set[str]):
    item = ITEMS[item_id]
    text = f"{item.title}\n{item.summary}"
    names = {code: bool(found.forms or found.keywords) for code, found in EXTRACTOR.signals(text).items()}
    return relations.apply({code: 0.8 for code in have}, item.title, item.summary, names)


SHIPPED = Relations(CONFIG.relations)


# One real item per rule: the code the classifier gives it, and what the rule adds (or removes).
@pytest.mark.parametrize("rule, item_id, have, added, dropped", [
    # 1. A dates-for-filing choice reaches consular applicants too.
    (1, "d39fa64e-40da-4ebe-ba81-e4a94202d273", {"I-485", "PERM-I-140"}, {"CONSULAR"}, set()),
    # 2. A DHS public-charge rule reaches adjustment applicants.
    (2, "2e104e6c-acfa-4ccb-8999-5cac77e77e13", {"PUBLIC-CHARGE"}, {"I-485"}, set()),
    # 3. A premium processing fee change is FEES plus every type that requests premium processing.
    (3, "FR-2026-00321", set(), {"FEES", "H-1B", "L-1", "O-1", "PERM-I-140", "F-1-OPT"}, set()),
    # 4. An EOIR fee rule is FEES and REMOVAL.
    (4, "FR-2020-03784", set(), {"FEES", "REMOVAL"}, set()),
    # 5. A rule on Board appeals and administrative closure is immigration-court practice.
    (5, "FR-85-52491", set(), {"REMOVAL"}, set()),
    # 6. A court ruling on TPS holders' adjustment reaches the TPS team; one on a consular refusal, consular.
    (6, "http://blog.cyrusmehta.com/2021/06/sanchez-v-mayorkas", {"I-485"}, {"TPS"}, set()),
    (6, "https://rjimmigrationlaw.com/resources/department-of-state-v-munoz-impact-on-immigration/", set(),
     {"CONSULAR"}, set()),
    # 7. A Board decision on a marriage-fraud visa petition is the petition's, not removal.
    (7, "28 I&N Dec. 113", {"REMOVAL"}, {"I-130"}, {"REMOVAL"}),
    # 8. A TPS extension that speaks of EADs reaches EAD holders; ending parole programs ends parolees' EADs.
    (8, "FR-2020-04976", {"TPS"}, {"I-765"}, set()),
    (8, "FR-2025-22744", {"PAROLE"}, {"I-765"}, set()),
    # 9. Re-parole requests are Form I-131 filings (and re-parole stays PAROLE).
    (9, "16af516e-9290-480b-838a-920f7dbefd59", {"PAROLE"}, {"I-131"}, set()),
    # 10. Neighborhood investigations are a naturalization requirement (the classifier's small model blurs them).
    (10, "https://lhscimmigration.com/immigration-news/alerts/uscis-revives-neighborhood-investigations-in-"
         "naturalization-applications", set(), {"N-400"}, set()),
    # ... and good moral character for VAWA and T applicants in a biometrics rule is not naturalization.
    (10, "FR-2025-19747", set(), set(), set()),
    # 11. Another agency's health-coverage rule that uses DACA status as a test reaches no case.
    (11, "FR-2025-04083", {"DACA"}, set(), {"DACA"}),
])
def test_each_v2_rule_on_a_real_item(rule, item_id, have, added, dropped):
    applied = apply(SHIPPED, item_id, have)
    assert set(applied.added) == added, f"rule {rule}"
    assert set(applied.dropped) == dropped, f"rule {rule}"
    for _, reason in applied.added.values():
        assert reason.endswith("(case_types.toml)")


def test_a_public_charge_rule_gives_its_reason_in_words_an_attorney_reads():
    score, reason = apply(SHIPPED, "2e104e6c-acfa-4ccb-8999-5cac77e77e13", {"PUBLIC-CHARGE"}).added["I-485"]
    assert reason == "DHS public-charge rules reach adjustment applicants (case_types.toml)"
    assert score == 0.8  # the score of the code that triggered it, not a made-up certainty


def test_a_relation_names_the_types_the_text_names():
    # Premium processing for Form I-140 alone reaches I-140 petitions, not H-1B or students.
    title = "USCIS to Implement Premium Processing for Certain Previously Filed EB-1 and EB-2 Form I-140 Petitions"
    applied = SHIPPED.apply({}, title, "", {"PERM-I-140": True})
    assert set(applied.added) == {"PERM-I-140"}
    h1b = SHIPPED.apply({}, "USCIS Expands Premium Processing for H-1B Petitions", "Form I-129 petitions.",
                        {"H-1B": True})
    assert set(h1b.added) == {"H-1B"}  # named: only H-1B; Form I-129 as a whole would reach L-1 and O-1 too
    whole = SHIPPED.apply({}, "USCIS Expands Premium Processing for Form I-129", "", {})
    assert set(whole.added) == {"H-1B", "L-1", "O-1"}


def test_a_text_only_relation_needs_an_item_that_matters_at_all():
    title = "Eligible Ukrainians Can Now Apply for Re-Parole"
    assert "I-131" in SHIPPED.apply({}, title, "").added
    assert SHIPPED.apply({}, title, "", relevant=False).added == {}
    # A relation keyed on a code still applies: its code already says the item matters.
    assert "I-485" in SHIPPED.apply({"PUBLIC-CHARGE": 0.7}, "Public Charge Rule", "", relevant=False).added


@pytest.fixture
def config_dir(tmp_path):
    directory = tmp_path / "config"
    shutil.copytree(REPO / "config", directory)
    return directory


def without_relation(directory, name: str):
    path = directory / "case_types.toml"
    blocks = path.read_text().split("[[relation]]")
    kept = [b for b in blocks if f'name = "{name}"' not in b]
    assert len(kept) == len(blocks) - 1, f"test setup: no relation named {name}"
    path.write_text("[[relation]]".join(kept))
    return config.load(directory)


def test_removing_a_relation_from_the_file_removes_the_co_label(config_dir):
    item = "2e104e6c-acfa-4ccb-8999-5cac77e77e13"
    assert "I-485" in apply(SHIPPED, item, {"PUBLIC-CHARGE"}).added
    edited = without_relation(config_dir, "public charge: DHS")
    assert len(edited.relations) == len(CONFIG.relations) - 1
    assert "I-485" not in apply(Relations(edited.relations), item, {"PUBLIC-CHARGE"}).added


@pytest.mark.parametrize("text, message", [
    ('[[relation]]\nname = "x"\nwhy = "y"\nwhen = ["TPS"]\nreaches = ["TSP"]\n',
     "case_types.toml: relation[0].reaches: unknown case type 'TSP'"),
    ('[[relation]]\nname = "x"\nwhy = "y"\nwhen = ["TPS"]\n', "case_types.toml: relation[0]: needs reaches or drops"),
    ('[[relation]]\nname = "x"\nwhy = "y"\nreaches = ["TPS"]\n', "case_types.toml: relation[0]: needs when or requires"),
    ('[[relation]]\nname = "x"\nwhy = "y"\nrequires = ["TPS"]\nreaches = ["TPS"]\n',
     "case_types.toml: relation[0].requires: [0] must be a non-empty list of phrases"),
    ('[[relation]]\nname = "x"\nwhy = "y"\nwhen = ["TPS"]\nreaches = ["I-765"]\nwhen_all = ["x"]\n',
     "case_types.toml: relation[0].when_all: unknown key"),
    ('[[relation]]\nname = "x"\nwhen = ["TPS"]\nreaches = ["I-765"]\n', "case_types.toml: relation[0].why: is required"),
    ('[[relation]]\nname = "x"\nwhy = "y"\nwhen = ["TPS"]\nreaches = ["I-765"]\n'
     '[[relation]]\nname = "x"\nwhy = "z"\nwhen = ["TPS"]\nreaches = ["I-765"]\n',
     "case_types.toml: relation[1].name: duplicate name 'x'"),
])
def test_config_check_names_a_bad_relation(config_dir, text, message):
    path = config_dir / "case_types.toml"
    kept = path.read_text().split("\n[[relation]]")[0]
    path.write_text(kept + "\n" + text)
    with pytest.raises(ConfigError) as caught:
        config.load(config_dir)
    assert str(caught.value).startswith(message)


def test_rule_6_a_caption_naming_the_attorney_general_as_respondent_is_removal():
    # The caption grammar lives in code (a prosecution "United States v. Gonzales" is not a petition for review);
    # the relations above add what the ruling decides.
    assert title_rules(ITEMS["scotus-20-979"].title) == {"REMOVAL": title_rules("Pugin v. Garland")["REMOVAL"]}
    assert title_rules("United States v. Gonzales") == {}
