"""The learned matcher on the real labeled items, with the real packaged model (loaded once per session)."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from click.testing import CliRunner
from scipy import sparse

from watcher import app as app_module
from watcher import config
from watcher.cli import main
from watcher.config import Schedule, SourceConfig
from watcher.matching.citations import SignalExtractor, statistics_only
from watcher.matching.encoder import Encoder
from watcher.matching.evaluate import TriggerWords, score
from watcher.matching.labels import LabeledItem, held_out, load_labeled
from watcher.matching.learned import LearnedMatcher, fit_code
from watcher.matching.matcher import EmbeddingMatcher
from watcher.matching.relations import Relations
from watcher.models import Change, Fetched, Validators
from watcher.sources.courts import ScotusSource
from watcher.store import Store

from .conftest import REPO, SHARED
from .test_matching import H2B_REVIEW

CASE_TYPES = config.load(REPO / "config").case_types
RELATIONS = Relations(config.load(REPO / "config").relations)
CODES = [c.code for c in CASE_TYPES]
LABELED = load_labeled(REPO / "watcher" / "data" / "labeled.jsonl", CODES)
TRAIN = [i for i in LABELED if i.split == "train"]
VALIDATION = [i for i in LABELED if i.split == "validation"]


@pytest.fixture(scope="session")
def matcher(trained_matcher) -> LearnedMatcher:
    return trained_matcher


def predicted_codes(matcher, items):
    _, chosen = matcher.scores([i.title for i in items], [i.summary for i in items])
    return [{c for c, p in zip(CODES, row) if p} for row in chosen]


def test_meets_the_bar_and_beats_trigger_words_on_the_validation_split(matcher):
    gold = [set(i.case_types) for i in VALIDATION]
    ours = score("matcher", gold, predicted_codes(matcher, VALIDATION), CODES)
    trigger = score("trigger", gold, TriggerWords(CASE_TYPES).predict(VALIDATION), CODES)
    assert ours.micro.f1 >= trigger.micro.f1 + 0.10
    assert ours.micro.precision >= 0.85  # few alerts, all relevant: precision is the attorney's first need
    # Issue 4's bar on this split (`watcher eval` prints the same figures: 0.857 and 0.801).
    assert ours.micro.f1 >= 0.85 and ours.macro_f1 >= 0.80


@pytest.mark.parametrize("title, summary, expected", [
    ("Extension and Redesignation of Haiti for Temporary Protected Status",
     "DHS announces the extension and redesignation of Haiti for TPS for 18 months.", {"TPS"}),
    ("USCIS Reaches Fiscal Year 2027 H-1B Cap",
     "USCIS has received enough petitions to reach the congressionally mandated H-1B cap.", {"H-1B"}),
    ("Agency Information Collection Activities; Extension, Without Change: Petition for Alien Relative",
     "USCIS invites comment on the Form I-130 information collection under the Paperwork Reduction Act.", set()),
    ("USCIS Celebrates Public Service Recognition Week", "USCIS honors its workforce.", set()),
])
def test_typical_items(matcher, title, summary, expected):
    [predictions] = matcher.predict([title], [summary])
    assert {p.code for p in predictions} == expected
    for p in predictions:
        assert p.rationale and 0 <= p.score <= 1


def test_a_new_series_of_look_alike_negatives_matches_nothing(cache_store, monkeypatch):
    # USCIS's "Eligible to Naturalize" statistics factsheets (one per metro area) concern no case; a model that
    # never saw one reads naturalization all over them, and "naturalize" in each title is a defining phrase of
    # N-400. The labeling rule on statistics is what keeps 56 N-400 alerts from reaching an attorney.
    from watcher.matching import learned as learned_module

    series = [i for i in TRAIN if i.title.startswith("Eligible to Naturalize Factsheet")]
    learned = LearnedMatcher(Encoder(cache=cache_store.embeddings), SignalExtractor(CASE_TYPES))
    learned.train([i for i in TRAIN if i not in series])
    titles, summaries = [i.title for i in series], [i.summary for i in series]
    assert len(series) > 50
    assert learned.scores(titles, summaries)[1].sum() == 0  # every one is statistics
    monkeypatch.setattr(learned_module, "statistics_only", lambda title, summary: False)
    assert learned.scores(titles, summaries)[1].any(axis=1).sum() >= 0.9 * len(series)


def test_a_title_naming_a_type_is_not_vetoed_by_the_relevance_gate(matcher, monkeypatch):
    # A gate that calls everything irrelevant, as the gate trained before 2022 did for 2022's EB-1 alert: the
    # title's defining phrase still decides; what the classifier alone saw, and a paperwork notice, do not pass.
    class Irrelevant:
        def predict_proba(self, x):
            return np.column_stack([np.ones(x.shape[0]), np.zeros(x.shape[0])])

    monkeypatch.setattr(matcher.model, "relevance", Irrelevant())
    assert "PERM-I-140" in predicted(matcher, "USCIS Clarifies Guidance for EB-1 Eligibility Criteria", "")
    assert predicted(matcher, "USCIS Updates Policy Guidance", "Employers filing immigrant petitions for workers "
                                                                "with extraordinary ability must document it.") == {}
    assert predicted(matcher, "Agency Information Collection Activities; Extension: Immigrant Petition for Alien "
                              "Worker, Form I-140", "") == {}


def test_the_relevance_gate_vetoes_what_only_the_classifier_saw(cache_store):
    # The same series with its titles' defining phrase gone ("Factsheet: Vermont") and its statistics sentences
    # reworded, so the statistics rule is out of play: what is left is the classifier reading "naturalize" in the summaries, and the gate, learned from every
    # labeled item, vetoes that for a series it never saw.
    series = [i for i in TRAIN if i.title.startswith("Eligible to Naturalize Factsheet")]
    learned = LearnedMatcher(Encoder(cache=cache_store.embeddings), SignalExtractor(CASE_TYPES))
    model = learned.train([i for i in TRAIN if i not in series])
    titles = [i.title.replace("Eligible to Naturalize ", "") for i in series]
    summaries = [i.summary.replace("This fact sheet provides information on select characteristics of",
                                   "This fact sheet is about").replace("providing more information on", "serving")
                 for i in series]
    assert not any(statistics_only(t, s) for t, s in zip(titles, summaries))
    assert model.relevance is not None
    assert learned.scores(titles, summaries)[1].any(axis=1).sum() <= 0.1 * len(series)
    model.relevance = None
    assert learned.scores(titles, summaries)[1].any(axis=1).sum() >= 0.5 * len(series)


def predicted(matcher, title: str, summary: str) -> dict:
    [predictions] = matcher.predict([title], [summary])
    return {p.code: p for p in predictions}


def test_rationale_gives_the_evidence_in_the_text(matcher):
    # What an attorney can check against the item: the form it names, the terms, and the item's own words that
    # weighed most for the type; never a count of similar training items.
    i765 = predicted(matcher, "USCIS Extends Employment Authorization Documents for Certain Applicants",
                     "Form I-765 automatic extension of EADs increased to 540 days.")["I-765"]
    assert "names Form I-765" in i765.rationale and "'automatic extension'" in i765.rationale
    text = "USCIS Extends Employment Authorization Documents for Certain Applicants. Form I-765 automatic " \
           "extension of EADs increased to 540 days.".lower()
    words = [w.strip("'") for w in i765.rationale.split("its words ")[1].split(", ")]
    assert 1 <= len(words) <= 3 and all(w in text for w in words)
    assert "labeled" not in i765.rationale


def test_a_relation_shows_its_why_and_removing_it_removes_the_co_label(matcher, tmp_path):
    # The shipped relations ride on the trained model: the public-charge rule reaches adjustment applicants, and
    # the rationale says which relation of case_types.toml decided it.
    title = "DHS Publishes Fair and Humane Public Charge Rule"
    summary = ("The U.S. Department of Homeland Security (DHS) has issued a final rule that provides clarity and "
               "consistency for noncitizens on how DHS will administer the public charge ground of inadmissibility.")
    found = predicted(matcher, title, summary)
    assert "PUBLIC-CHARGE" in found and "I-485" in found
    assert "DHS public-charge rules reach adjustment applicants (case_types.toml)" in found["I-485"].rationale
    directory = tmp_path / "config"
    shutil.copytree(REPO / "config", directory)
    path = directory / "case_types.toml"
    blocks = path.read_text().split("[[relation]]")
    path.write_text("[[relation]]".join(b for b in blocks if 'name = "public charge: DHS"' not in b))
    edited = LearnedMatcher(matcher.encoder, matcher.extractor, Relations(config.load(directory).relations))
    edited.model = matcher.model
    without = predicted(edited, title, summary)
    assert "PUBLIC-CHARGE" in without
    assert "I-485" not in without or "case_types.toml" not in without["I-485"].rationale


def test_a_title_naming_a_types_form_is_news_for_that_type(matcher):
    # L-1's labeled examples never name its blanket petition; the classifier alone scores this 0.08.
    title = "USCIS Updates Receipts Process for Form I-129S"
    summary = ("USCIS today announced changes to the way we issue receipts for L-1 nonimmigrant intracompany "
               "transferees under a previously approved blanket L petition.")
    l1 = predicted(matcher, title, summary)["L-1"]
    assert l1.score >= 0.9 and "names Form I-129S" in l1.rationale
    # Not for a paperwork notice on the form, nor for a form merely named in the text.
    assert predicted(matcher, "Agency Information Collection Activities; Extension, Without Change: Form I-129S",
                     "The information collection is used to process blanket L petitions.") == {}
    with_the_form_in_the_text = predicted(matcher, "USCIS Updates Receipts Process", f"{summary} Form I-129S.")
    assert with_the_form_in_the_text.get("L-1") is None or with_the_form_in_the_text["L-1"].score < 0.9


def test_what_the_labeling_keeps_out_of_the_taxonomy(matcher):
    # The Board of Alien Labor Certification Appeals reviews H-2B certifications too; the classifier alone gives
    # this H-2B rule PERM-I-140 at 0.95.
    assert predicted(matcher, "Discretionary Review by the Secretary of Labor", H2B_REVIEW) == {}
    # A proclamation on nonimmigrants is not immigrant-visa processing (the classifier alone: CONSULAR at 1.0).
    title = ("Suspension of Entry as Nonimmigrants of Certain Additional Persons Who Pose a Risk of Transmitting "
             "Coronavirus Disease 2019")
    assert "CONSULAR" not in predicted(matcher, title, "No summary provided.")
    assert "CONSULAR" in predicted(matcher, title.replace("as Nonimmigrants", "as Immigrants"), "No summary provided.")


def test_a_precedent_decision_is_always_removal(matcher):
    # A headnote on investor source of funds reads like EB-5 policy; LABELING.md still makes the decision REMOVAL,
    # with certainty and a reason an attorney can read (the classifier alone scores 0.992, from the citation).
    title = "Matter of Ortega Vance, 29 I&N Dec. 140 (BIA 2025)"
    summary = ("An investor petitioning under section 203(b)(5) must trace the lawful source of capital invested in "
               "a new commercial enterprise through a regional center.")
    removal = predicted(matcher, title, summary)["REMOVAL"]
    assert removal.score == 1.0 and "precedent decision" in removal.rationale
    assert "REMOVAL" not in predicted(matcher, title.replace("(BIA", "(DIR"), summary)


def test_a_precedent_also_gets_the_relief_it_decides(matcher):
    # LABELING.md: REMOVAL "plus the relief type they decide". The headnote names the relief; the classifier,
    # which sees asylum mentioned in many rules and news items that are not about asylum, is not asked.
    title = "Matter of Q-R-, 29 I&N Dec. 12 (BIA 2025)"
    summary = ("A conviction for an offense involving the use of a firearm is a particularly serious crime that "
               "bars withholding of removal under section 241(b)(3)(B)(ii) of the Immigration and Nationality Act.")
    asylum = predicted(matcher, title, summary)["ASYLUM"]
    assert asylum.score == 1.0 and "the relief it decides" in asylum.rationale
    assert "INA 241(b)(3)(B)(ii)" in asylum.rationale
    news = predicted(matcher, "Firearm Offenses and Protection Claims", summary)
    assert all("relief it decides" not in p.rationale for p in news.values())


def test_a_precedent_gets_no_relief_its_headnote_does_not_name(matcher, monkeypatch):
    # Precedents look alike to the classifier, which matched ASYLUM to procedural ones (ineffective counsel,
    # administrative closure). Here its ASYLUM threshold is 0, so it would match every item it scores.
    monkeypatch.setitem(matcher.model.thresholds, "ASYLUM", 0.0)
    headnote = "Immigration Judges have authority to administratively close removal proceedings where appropriate."
    assert set(predicted(matcher, "Matter of X-Y-Z-, 29 I&N Dec. 40 (BIA 2025)", headnote)) == {"REMOVAL"}
    assert "ASYLUM" in predicted(matcher, "USCIS Updates Asylum Interview Scheduling",
                                 "Affirmative asylum applicants will be interviewed in the order received.")


def test_rulings_and_bulletins_known_by_their_titles(matcher):
    # A slip opinion is a caption and a citation; no labeled item is a court decision. The caption names the
    # Attorney General as respondent, as a petition for review of a removal order does (INA 242(b)(3)(A)).
    page = (SHARED / "fixtures" / "scotus_slip_opinions.html").read_bytes()
    source = ScotusSource(SourceConfig(id="scotus", kind="scotus", url="https://www.supremecourt.gov/x/22",
                                       schedule=Schedule()))
    opinions = source.parse(Fetched("https://www.supremecourt.gov/x/22", 200, page, {}, Validators()))
    predictions = dict(zip((o.title for o in opinions),
                           matcher.predict([o.title for o in opinions], [o.summary for o in opinions])))
    removal = {title: next(p for p in found if p.code == "REMOVAL") for title, found in predictions.items()
               if any(p.code == "REMOVAL" for p in found)}
    assert set(removal) >= {"Pugin v. Garland (22-23)", "Santos-Zacaria v. Garland (21-1436)"}
    assert "review of a removal order" in removal["Pugin v. Garland (22-23)"].rationale
    # A bulletin given as text (`classify`, or `eval` on a file labeled elsewhere) has no movement table to read.
    [bulletin] = matcher.predict(["Visa Bulletin For November 2024"], [""])
    assert [(p.code, p.score) for p in bulletin if p.code == "CONSULAR"] == [("CONSULAR", 1.0)]
    # The other 56 are not immigration rulings, but for United States v. Texas (DHS's enforcement priorities).
    matched = {title for title, found in predictions.items() if found}
    assert matched <= {"Pugin v. Garland (22-23)", "Santos-Zacaria v. Garland (21-1436)",
                       "United States v. Texas (22-58)"}


def test_a_translation_is_read_by_its_english_title_alone(matcher):
    # The model reads a translation by its English title; its foreign words (the training split holds Spanish
    # translations, so some are in the vocabulary) must not pull it toward whatever else was in Spanish.
    spanish = "Información importante acerca de cómo trabajar legalmente en Estados Unidos"
    assert matcher.model.words.transform([spanish]).nnz > 0
    title = "Important Information About Working Legally in the United States (Español)"
    _, with_summary = matcher.features([title], [spanish], matcher.model.words)
    _, title_only = matcher.features([title], [""], matcher.model.words)
    assert (with_summary != title_only).nnz == 0


def test_embeddings_are_cached_so_no_text_is_embedded_twice(matcher, cache_store):
    encoder = Encoder(cache=cache_store.embeddings)
    calls = []
    real = encoder.model.encode
    encoder.model.encode = lambda texts, **kw: calls.append(len(texts)) or real(texts, **kw)
    encoder.encode([TRAIN[0].text, "a brand new sentence about TPS"])
    encoder.encode([TRAIN[0].text, "a brand new sentence about TPS"])
    assert calls == [1]  # the training text was cached; the new one embedded once


def test_a_text_is_read_up_to_the_token_limit(cache_store):
    encoder = Encoder(cache=cache_store.embeddings)
    head = " ".join(["Temporary Protected Status for Haiti is extended."] * 30)  # well past 128 word pieces
    same_head, other_tail = encoder.encode([head + " Nothing else.", head + " H-1B cap registration opens."])
    assert float(same_head @ other_tail) > 0.9999  # the tail past the limit is not read
    short = encoder.encode(["TPS for Haiti. Nothing else.", "TPS for Haiti. H-1B cap registration opens."])
    assert float(short[0] @ short[1]) < 0.99  # within the limit, every word counts


def test_embedding_matcher_uses_bulletin_and_paperwork_signals_first(matcher):
    production = EmbeddingMatcher(matcher, training=lambda: pytest.fail("already trained"))
    bulletin = Change("vb", "2026-07", "visa_bulletin", "Visa Bulletin for July 2026", "", "https://x",
                      facts={"cells": [{"category": "F1"}, {"category": "EB5-RURAL"}]})
    assert {m.case_type for m in production.match(bulletin)} >= {"CONSULAR", "I-130", "EB-5"}
    paperwork = Change("fr", "1", "notice", "Anything", "", "https://x", facts={"paperwork": True})
    assert production.match(paperwork) == []



def test_embedding_matcher_adds_the_case_types_of_a_policy_alert(matcher):
    production = EmbeddingMatcher(matcher, training=lambda: pytest.fail("already trained"), case_types=CASE_TYPES)
    alert = Change("pm", "k", "policy_alert", "POLICY ALERT: Employment Authorization for Certain Noncitizens",
                   "USCIS is updating guidance in the Policy Manual on who may request employment authorization.",
                   "https://x", facts={"affected_sections": [{"citation": "10 USCIS-PM B.2", "title": "Chapter 2"}]})
    matches = production.match(alert)
    assert [m.method for m in matches if m.case_type == "I-765"] == ["policy manual"]  # one match a code
    without = EmbeddingMatcher(matcher, training=lambda: pytest.fail("already trained")).match(alert)
    assert {m.case_type for m in without} <= {m.case_type for m in matches}


def test_classify_and_eval_commands(tmp_path, cache_store):
    items = tmp_path / "items.jsonl"
    items.write_text("\n".join(json.dumps({"id": i.id, "title": i.title, "summary": i.summary})
                               for i in VALIDATION[:5]) + "\n")
    out = tmp_path / "preds.jsonl"
    db = str(cache_store.path)
    result = CliRunner().invoke(main, ["--config", str(REPO / "config"), "--db", db, "classify",
                                       "--input", str(items), "--output", str(out)])
    assert result.exit_code == 0, result.output
    lines = [json.loads(l) for l in out.read_text().splitlines()]
    assert [l["id"] for l in lines] == [i.id for i in VALIDATION[:5]]
    assert set(lines[0]["scores"]) == set(CODES) and set(lines[0]["case_types"]) <= set(CODES)

    # A set labeled apart from the project: the model it is scored on learns from every other bundled item,
    # as production does, but never from the scored items, whatever ids they carry.
    labels = tmp_path / "labels.jsonl"
    labels.write_text("\n".join(json.dumps({"id": f"elsewhere-{n}", "title": i.title, "summary": i.summary,
                                            "case_types": list(i.case_types)}) for n, i in enumerate(VALIDATION[:40]))
                      + "\n")
    result = CliRunner().invoke(main, ["--config", str(REPO / "config"), "--db", db, "eval", "--labels", str(labels)])
    assert result.exit_code == 0, result.output
    assert f"40 items evaluated from labels.jsonl; trained on {len(LABELED) - 40} labeled items" in result.output
    assert "matcher" in result.output and "trigger words" in result.output and "zero-shot" in result.output
    assert "micro" in result.output and "macro F1" in result.output
    assert result.output.count("95% interval") == 3  # under micro, under macro, and the footnote


def test_retrain_shows_what_the_matcher_learned(cache_store):
    result = CliRunner().invoke(main, ["--config", str(REPO / "config"), "--db", str(cache_store.path), "retrain"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()  # stderr carries the model's loading progress
    assert lines[0] == f"trained on {len(LABELED)} items (0 from feedback); stored for the service"
    rows = {line.split()[0]: line for line in lines[1:]}
    config = app_module.load_config(REPO / "config", cache_store.path)
    assert cache_store.trained.has(app_module.matcher_key(config, cache_store))  # the running service's worker reads it
    assert "signals only" in rows["K-1"] and "threshold" in rows["TPS"]  # 1 labeled K-1 item, 97 TPS
    relevant = sum(1 for i in LABELED if i.case_types)
    assert rows["any"].split()[3:6] == [str(relevant), "positives", "none"]


def test_a_model_is_scored_only_on_items_it_did_not_learn_from():
    bundled = [LabeledItem("a", "TPS for Haiti", "", ("TPS",), "train"), LabeledItem("b", "H-1B cap", "", ("H-1B",),
               "validation"), LabeledItem("c", "EB-5 fees", "", ("EB-5",), "train")]
    assert held_out(bundled, [i for i in bundled if i.split == "validation"]) == [bundled[0], bundled[2]]
    elsewhere = [LabeledItem("x1", "EB-5 fees", "", ("EB-5",)), LabeledItem("a", "Another title", "")]
    assert held_out(bundled, elsewhere) == [bundled[1]]  # c by its text, a by its id


def test_positives_that_are_all_one_announcement_fall_back_to_signals():
    # Three translations of one flyer (or feedback on one series) are one example: no fold could learn from them.
    x = sparse.csr_matrix(np.random.default_rng(0).normal(size=(40, 5)))
    y = np.array([1, 1, 1] + [0] * 37)
    assert fit_code(x, y, ["flyer"] * 3 + [f"other {n}" for n in range(37)], seed=0) == (None, None)
    classifier, oof = fit_code(x, y, ["flyer", "flyer", "rule"] + [f"other {n}" for n in range(37)], seed=0)
    assert classifier is not None and oof.shape == (40,) and ((0 <= oof) & (oof <= 1)).all()


def test_eval_refuses_a_file_that_leaves_nothing_to_train_on(tmp_path):
    labels = tmp_path / "all.jsonl"
    labels.write_text("\n".join(json.dumps({"id": i.id, "title": i.title, "summary": i.summary,
                                            "case_types": list(i.case_types)}) for i in LABELED) + "\n")
    result = CliRunner().invoke(main, ["--config", str(REPO / "config"), "--db", str(tmp_path / "w.db"),
                                       "eval", "--labels", str(labels)])
    assert result.exit_code == 2
    assert "all.jsonl: every bundled labeled item is in it; nothing is left to train on" in result.output


def test_feedback_then_retrain(tmp_path, cache_store, make_config, server):
    from .conftest import Reply
    from .feeds import rss, uscis_items
    server.routes["/f"] = Reply(200, rss(uscis_items()))
    directory = make_config([("uscis-alerts", server.url("/f"))])
    assert CliRunner().invoke(main, ["--config", str(directory), "check", "--all"]).exit_code == 0
    bad = CliRunner().invoke(main, ["--config", str(directory), "feedback", "999", "H-1B", "--relevant"])
    assert bad.exit_code == 2 and "no change with id 999" in bad.output
    ok = CliRunner().invoke(main, ["--config", str(directory), "feedback", "1", "H-1B", "--not-relevant"])
    assert ok.exit_code == 0, ok.output
    cfg = app_module.load_config(directory)
    store = Store(cfg.storage_path)
    items = app_module.training_set(cfg, store)
    assert items[-1].source == "feedback" and "H-1B" not in items[-1].case_types
    store.close()


def test_a_trained_model_is_stored_and_read_back_without_training_or_the_encoder(cache_store, tmp_path):
    from watcher.matching.matcher import EmbeddingMatcher
    from watcher.store import Store
    store = Store(tmp_path / "models.db")
    items = TRAIN[:300]
    first = EmbeddingMatcher(LearnedMatcher(Encoder(cache=cache_store.embeddings), SignalExtractor(CASE_TYPES)),
                             lambda: items, CASE_TYPES, models=store.trained, config_key="k", now=lambda: "t1")
    trained = first.train()
    # A new process: its encoder is never loaded, and the model comes back whole.
    fresh_encoder = Encoder(cache=cache_store.embeddings)
    second = EmbeddingMatcher(LearnedMatcher(fresh_encoder, SignalExtractor(CASE_TYPES)), lambda: items, CASE_TYPES,
                              models=store.trained, config_key="k", now=lambda: "t2")
    restored = second.train()
    assert not fresh_encoder.loaded
    assert restored.thresholds == trained.thresholds and restored.codes == trained.codes
    # Other inputs (one more item, or another configuration) train anew.
    third = EmbeddingMatcher(LearnedMatcher(Encoder(cache=cache_store.embeddings), SignalExtractor(CASE_TYPES)),
                             lambda: items, CASE_TYPES, models=store.trained, config_key="other", now=lambda: "t3")
    assert third.train() is not restored and store.db["trained_models"].count == 2
    store.close()


def test_an_idle_encoder_is_released_and_comes_back_on_demand(matcher):
    from watcher.matching.matcher import EmbeddingMatcher
    wrapped = EmbeddingMatcher(matcher, lambda: [], CASE_TYPES)
    matcher.encoder.encode(["a text to load the model"])
    assert matcher.encoder.loaded
    assert not wrapped.release_idle(600, clock=lambda: matcher.encoder.last_used + 599)
    assert wrapped.release_idle(600, clock=lambda: matcher.encoder.last_used + 601)
    assert not matcher.encoder.loaded
    [prediction] = matcher.predict(["USCIS extends TPS for Haiti"], ["Temporary Protected Status"])
    assert matcher.encoder.loaded and any(p.code == "TPS" for p in prediction)


def test_an_installation_artifact_makes_a_first_start_ready_without_training(cache_store, tmp_path):
    from watcher.matching.matcher import EmbeddingMatcher
    from watcher.store import Store
    items = TRAIN[:200]
    installer = EmbeddingMatcher(LearnedMatcher(Encoder(cache=cache_store.embeddings), SignalExtractor(CASE_TYPES)),
                                 lambda: items, CASE_TYPES, config_key="bundled", artifacts=tmp_path / "models")
    path = installer.prepare()
    assert path.parent == tmp_path / "models" and path.suffix == ".pickle"
    empty = Store(tmp_path / "first-start.db")
    encoder = Encoder(cache=empty.embeddings)
    first = EmbeddingMatcher(LearnedMatcher(encoder, SignalExtractor(CASE_TYPES)), lambda: items, CASE_TYPES,
                             models=empty.trained, config_key="bundled", artifacts=tmp_path / "models")
    model = first.train()
    assert not encoder.loaded and model.thresholds == installer.learned.model.thresholds
    edited = EmbeddingMatcher(LearnedMatcher(Encoder(cache=cache_store.embeddings), SignalExtractor(CASE_TYPES)),
                              lambda: items, CASE_TYPES, models=empty.trained, config_key="the firm edited it",
                              artifacts=tmp_path / "models")
    assert edited.train() is not model  # another configuration: trained, not read from the artifact
    empty.close()


def test_the_newest_stored_model_stands_in_only_for_the_same_case_types():
    # While new feedback trains in the background the worker matches with the newest stored model, but never with
    # one trained for another set of case types (the firm edited case_types.toml): that one is trained anew.
    from types import SimpleNamespace

    class Stored:
        def __init__(self, model):
            self.model = model

        def latest(self):
            return "older-key", self.model

    same = SimpleNamespace(codes=[c.code for c in CASE_TYPES])
    learned = LearnedMatcher(Encoder(), SignalExtractor(CASE_TYPES))
    matcher = EmbeddingMatcher(learned, lambda: [], CASE_TYPES, models=Stored(same))
    assert matcher.use_latest() and learned.model is same and matcher.key == "older-key"
    other = LearnedMatcher(Encoder(), SignalExtractor(CASE_TYPES))
    edited = EmbeddingMatcher(other, lambda: [], CASE_TYPES, models=Stored(SimpleNamespace(codes=["H-1B", "TPS"])))
    assert not edited.use_latest() and other.model is None
