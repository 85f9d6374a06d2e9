"""Matching parts that need no model: explicit signals, caseload import, metrics, feedback folding, hashes."""

from __future__ import annotations

import pytest

from watcher import config
from watcher.errors import ConfigError, InputError
from watcher.matching.caseload import parse_caseload
from watcher.matching.citations import (SignalExtractor, cfr_cites, ina_cites, is_paperwork, is_precedent,
                                        is_removal_review, nonimmigrants_only, precedent_reliefs,
                                        statistics_only, temporary_workers_only, title_rules, usc_cites)
from watcher.matching.encoder import Encoder
from watcher.matching.evaluate import Counts, Interval, Report, TriggerWords, bootstrap, render_table, score
from watcher.matching.language import is_english
from watcher.matching.labels import LabeledItem, load_labeled
from watcher.matching.learned import best_threshold, embedding_text, recall_threshold
from watcher.matching.matcher import training_items
from watcher.store.matching import FeedbackLabel

from .conftest import REPO

CASE_TYPES = config.load(REPO / "config").case_types
CODES = [c.code for c in CASE_TYPES]
EXTRACTOR = SignalExtractor(CASE_TYPES)


def test_form_numbers_have_hyphen_aware_boundaries():
    lookalikes = EXTRACTOR.signals("Form I-1300 and an H-1B1 petition")
    assert lookalikes["I-130"].forms == () and lookalikes["H-1B"].keywords == ()
    real = EXTRACTOR.signals("Form I-130 and an H-1B petition")
    assert real["I-130"].forms == ("I-130",) and "H-1B" in real["H-1B"].keywords
    assert EXTRACTOR.signals("Form I-130A")["I-130"].forms == ("I-130A",)
    assert EXTRACTOR.signals("an approved form i-130")["I-130"].forms == ("I-130",)  # case does not matter


def test_keywords_tolerate_plurals_but_forms_do_not():
    assert EXTRACTOR.signals("Visas: Immigrant Visas")["CONSULAR"].keywords == ("immigrant visa",)
    assert EXTRACTOR.signals("Forms I-765s")["I-765"].forms == ()


def test_cfr_and_ina_cites():
    text = "amends 8 CFR 214.2(h) and 8 C.F.R. § 1003.38(b); under INA section 245(i) and INA 212(d)(5)"
    assert cfr_cites(text) == ["8 CFR 214.2(h)", "8 CFR 1003.38(b)"]
    assert ina_cites(text) == ["INA 245(i)", "INA 212(d)(5)"]
    assert EXTRACTOR.signals(text)["H-1B"].cites == ("8 CFR 214.2(h)",)


def test_ina_cites_as_precedents_and_rules_write_them():
    text = ("inadmissible under section 212(a)(6)(C)(i) of the Immigration and Nationality Act, 8 U.S.C. § 1182; "
            "within sections 101(a)(48)(A)(i) and (ii) of the INA; under section 2 of the Act")
    assert ina_cites(text) == ["INA 212(a)(6)(C)(i)", "INA 101(a)(48)(A)(i)"]
    assert EXTRACTOR.signals("the bar under section 241(b)(3)(B)(ii) of the INA")["ASYLUM"].cites == \
        ("INA 241(b)(3)(B)(ii)",)


def test_the_act_cited_by_its_place_in_the_us_code():
    # How the Attorney General and the courts often cite it: Title 8 sections, alone or in a list.
    text = ("persecution under 8 U.S.C. §§ 1101(a)(42)(A), 1158(b)(1)(B)(i); "
            "not 18 U.S.C. § 922(d) nor 8 U.S.C. § 1367")
    assert usc_cites(text) == ["INA 101(a)(42)(A)", "INA 208(b)(1)(B)(i)"]
    assert usc_cites("8 USC 1229b(b)(1) and 1186a(c)(4)") == ["INA 240A(b)(1)", "INA 216(c)(4)"]
    found = EXTRACTOR.signals("a later petition is barred by 8 U.S.C. § 1154(c)")
    assert found["I-130"].cites == ("INA 204(c)",)
    both = EXTRACTOR.signals("section 204(c) of the Immigration and Nationality Act, 8 U.S.C. § 1154(c)")
    assert both["I-130"].cites == ("INA 204(c)",)  # one provision, counted once


def test_a_cite_counts_only_for_the_provision_it_falls_under():
    h1b = EXTRACTOR.signals("amends 8 CFR 214.2(h)(4)(iii)")
    assert h1b["H-1B"].cites and not h1b["L-1"].cites and not h1b["O-1"].cites
    bare = EXTRACTOR.signals("amends 8 CFR 214.2")  # no paragraph: it may be any nonimmigrant class
    assert bare["H-1B"].cites and bare["L-1"].cites
    assert not EXTRACTOR.signals("under 8 CFR 2081.3")["ASYLUM"].cites
    assert not EXTRACTOR.signals("waivers under section 212(a)(9)(B) of the INA")["PAROLE"].cites  # not 212(d)(5)


def test_a_form_number_written_with_a_non_breaking_hyphen():
    # EOIR's headnotes write "Form I\u2011751" (U+2011).
    assert EXTRACTOR.signals("review the denial of a Form I\u2011751")["I-751"].forms == ("I-751",)


def test_a_precedent_decides_the_relief_its_headnote_names():
    headnote = "An applicant for withholding of removal must show the harm was inflicted by a persecutor ..."
    signals = EXTRACTOR.signals(headnote)
    assert set(precedent_reliefs("Matter of Q-R-, 29 I&N Dec. 12 (BIA 2025)", signals)) == {"ASYLUM"}
    assert precedent_reliefs("USCIS Updates Asylum Guidance", signals) == {}  # news: the classifier decides
    assert precedent_reliefs("Matter of Q-R-, 29 I&N Dec. 12 (BIA 2025)",
                             EXTRACTOR.signals("A notice to appear that omits the time is not defective.")) == {}


@pytest.mark.parametrize("headnote, relief", [
    # The marriage-fraud bar on approving a visa petition: a family petition's question.
    ("A later visa petition is properly denied under section 204(c)(2) of the Immigration and Nationality Act.",
     "I-130"),
    # The asylum processing rule's streamlined proceedings after an asylum officer's interview.
    ("The regulation at 8 C.F.R. § 1240.17 (2024) applies only to respondents first placed in expedited removal.",
     "ASYLUM"),
    ("A refugee who adjusted under section 209 of the Immigration and Nationality Act is not barred.", "I-485"),
    ("An exemption under section 212(d)(3)(B)(i) of the Immigration and Nationality Act is discretionary.", "ASYLUM"),
    ("SIJ petitioners who were abused by a parent may apply.", "I-485"),
    ("An employer's ability to pay the proffered wage is shown by its tax returns.", "PERM-I-140"),
    ("A petitioner under section 101(a)(15)(U) of the Immigration and Nationality Act may seek a continuance.",
     "HUMANITARIAN-UTV"),
    ("The amounts under section 286(u) of the Immigration and Nationality Act are set by statute.", "FEES"),
    ("A family-based immigrant visa petition may be revoked for good and sufficient cause.", "I-130"),
    # INA 216(c)'s own words for removing conditions on residence.
    ("Fraud at the interview to remove the conditional basis of her status may be weighed.", "I-751"),
])
def test_a_headnote_citing_a_types_provision_or_naming_its_program_decides_the_relief(headnote, relief):
    title = "Matter of Q-R-, 29 I&N Dec. 12 (BIA 2025)"
    assert relief in precedent_reliefs(title, EXTRACTOR.signals(f"{title}\n{headnote}"))


def test_a_precedent_does_not_decide_what_no_immigration_judge_grants():
    title = "Matter of Q-R-, 29 I&N Dec. 12 (BIA 2025)"
    headnote = ("Release on conditional parole under section 236(a) is distinct from humanitarian parole under "
                "section 212(d)(5)(A), and does not make the respondent eligible for adjustment of status.")
    signals = EXTRACTOR.signals(f"{title}\n{headnote}")
    assert signals["PAROLE"].any  # the headnote names parole ...
    assert set(precedent_reliefs(title, signals)) == {"I-485"}  # ... but decides adjustment, not a parole


@pytest.mark.parametrize("title, expected", [
    ("Agency Information Collection Activities; Extension, Without Change: Petition for Alien Fiance(e)", True),
    ("60-Day Notice of Proposed Information Collection: Application for Immigrant Visa", True),
    ("Privacy Act of 1974; System of Records", True),
    ("Reducing the Size of the Board of Immigration Appeals", True),
    ("Matter of Bay Area Legal Services, Inc., 28 I&N Dec. 16 (DIR 2020)", True),  # accreditation, not a case
    ("Matter of Koat, 28 I&N Dec. 450 (BIA 2022)", False),
    ("Extension and Redesignation of Syria for Temporary Protected Status", False),
    # HHS's refugee-program collections open with the review, not the collection (Federal Register 2020-05624).
    ("Expedited OMB Review and Public Comment: Information Collection Activity; Initial Medical Exam Form", True),
    # ICE's quarterly bond interest-rate notice (18 labeled, no code), not a bond rule.
    ("Interest Rate Paid on Cash Deposited To Secure U.S. Immigration and Customs Enforcement Immigration Bonds", True),
    ("Procedures for Asylum and Bars to Asylum Eligibility; immigration bond hearings", False),
])
def test_low_signal_notices(title, expected):
    assert is_paperwork(title) is expected


@pytest.mark.parametrize("title, expected", [
    ("Matter of Koat, 28 I&N Dec. 450 (BIA 2022)", True),
    ("Matter of Reyes, 28 I&N Dec. 52 (AG 2020)", True),
    ("Matter of A-B-, 27 I&N Dec. 316 (A.G. 2018)", True),
    ("Matter of Bay Area Legal Services, Inc., 28 I&N Dec. 16 (DIR 2020)", False),  # accreditation: organisational
    ("BIA Decision Cites Matter of Koat", False),
])
def test_precedent_decisions(title, expected):
    assert is_precedent(title) is expected


@pytest.mark.parametrize("title, expected", [
    ("Pugin v. Garland (22-23)", True),                                  # Supreme Court slip opinion
    ("Jose Luis Alvarado-Herrera v. Merrick B. Garland (ca9)", True),    # CourtListener, full names
    ("Juan Doe v. Attorney General United States of America (ca3)", True),
    ("Mellouli v. Lynch", True),
    ("Garland v. Cargill (22-976)", False),                              # the Attorney General as petitioner
    ("United States v. Hansen (22-179)", False),
    ("United States v. Gonzales (Court of Appeals for the Tenth Circuit)", False),  # a defendant, not the AG
    ("USCIS Reviewing Military Naturalization Policy Based on Settlement Agreement in Calixto v. Department of "
     "the Army", False),
])
def test_a_petition_for_review_is_known_by_its_caption(title, expected):
    assert is_removal_review(title) is expected


def test_rules_of_the_labeling_read_from_a_title():
    assert set(title_rules("Visa Bulletin For November 2024")) == {"CONSULAR"}
    assert title_rules("USCIS Adjustment of Status Filing Charts from the Visa Bulletin") == {}  # news about it
    assert set(title_rules("Matter of Koat, 28 I&N Dec. 450 (BIA 2022)")) == {"REMOVAL"}
    assert "INA 242(b)(3)(A)" in title_rules("Pugin v. Garland (22-23)")["REMOVAL"]
    assert title_rules("USCIS Updates Naturalization Civics Test") == {}
    # Parole in a title is humanitarian or categorical parole (labeled titles, 2022-2023) ...
    assert set(title_rules("Implementation of a Parole Process for Nicaraguans")) == {"PAROLE"}
    assert set(title_rules("USCIS Extends Parole by Two Years for Certain Afghan Nationals Under Age 14")) == {"PAROLE"}
    # ... but advance parole is a travel document (I-131), and the CNMI's transitional parole is neither.
    assert title_rules("USCIS Announces Advance Parole Validity Changes") == {}
    assert title_rules("USCIS Extends Transitional Parole for CNMI Long-Term Resident Status Applicants") == {}


H2B_REVIEW = ("The Department of Homeland Security and the Department of Labor (DOL) are jointly issuing this direct "
              "final rule to extend DOL's recently established system of discretionary Secretary of Labor review to "
              "H-2B temporary labor certification cases (H-2B cases) pending before or decided by the Department of "
              "Labor's Board of Alien Labor Certification Appeals.")


@pytest.mark.parametrize("text, expected", [
    (f"Discretionary Review by the Secretary of Labor\n{H2B_REVIEW}", True),    # BALCA is PERM's word, and H-2B's
    ("H\u20112A wage rates for 2026: prevailing wage determinations by state", True),
    ("Filing Location Change for H-2A, H-2B, CNMI-related Form I-129 Petitions", False),  # Form I-129: H-1B's too
    ("PERM labor certification and H-2B prevailing wage rules, jointly", False),
    ("Discretionary Review by the Secretary of Labor of PERM appeals to the Board of Alien Labor Certification "
     "Appeals", False),                                                          # no temporary program named
    ("H-2BX pilot for seasonal workers", False),
])
def test_the_h2_temporary_worker_programs_are_outside_the_taxonomy(text, expected):
    assert temporary_workers_only(text, EXTRACTOR.signals(text)) is expected


@pytest.mark.parametrize("title, expected", [
    ("Suspension of Entry as Nonimmigrants of Certain Additional Persons Who Pose a Risk of Transmitting "
     "Coronavirus Disease 2019", True),
    ("Visa Bond Pilot Program for Certain Non-Immigrant Visitors", True),
    ("Visas: Nonimmigrant Visas; Immigrant Visas", False),
    ("Suspension of Entry of Immigrants Who Present a Risk to the U.S. Labor Market", False),
    ("Visas: Procedures for Issuing Visas", False),
])
def test_a_title_about_nonimmigrants_alone(title, expected):
    assert nonimmigrants_only(title) is expected


@pytest.mark.parametrize("title, summary, expected", [
    # Real labeled items (watcher/data/labeled.jsonl), all labeled with no code.
    ("Eligible to Naturalize Factsheet: Vermont", "USCIS is committed to providing more information on the eligible "
     "to naturalize population. This fact sheet provides information on select characteristics of people with Lawful "
     "Permanent Residence (LPR) status, also known as Green Card holders in Vermont.", True),
    ("Historical Processing Times Factsheet, FY2016-2024", "This factsheet provides historical national median "
     "processing time (in months) for all USCIS offices for select forms for fiscal years 2016 \u2013 2024.", True),
    ("USCIS Releases New Data on Effective Reduction of Backlogs, Support for Humanitarian Missions, and Fiscal "
     "Responsibility", "Today, USCIS released its Fiscal Year (FY) 2022 progress report.", True),
    # Policy that speaks of data further on, or not at all, is not statistics.
    ("Modification of Registration Requirement for Petitioners Seeking To File Cap-Subject H-1B Petitions",
     "This rule delays the effective date. It amends the regulations. DHS provides data on the registrations it "
     "received in the preamble.", False),
    ("USCIS Updates Guidance on National Interest Waivers", "USCIS is updating guidance in the Policy Manual to "
     "clarify how it evaluates national interest waiver requests.", False),
])
def test_statistics_are_outside_the_taxonomy(title, summary, expected):
    assert statistics_only(title, summary) is expected


def test_signals_of_a_text_are_read_once_and_shared_read_only():
    text = "USCIS Updates Receipts Process for Form I-129S"
    found = EXTRACTOR.signals(text)
    assert EXTRACTOR.signals(text) is found and found["L-1"].forms == ("I-129S",)
    with pytest.raises(TypeError):
        found["L-1"] = found["H-1B"]  # one caller cannot change what the next one reads


def test_translations_are_embedded_from_the_english_title():
    assert embedding_text("Title (Russian)", "ВАЖНАЯ ИНФОРМАЦИЯ О ЛЕГАЛЬНОМ ТРУДОУСТРОЙСТВЕ В СОЕДИНЕННЫХ ШТАТАХ") == "Title (Russian)"
    assert embedding_text("Title", "USCIS is extending the validity of the cards for the beneficiaries.") == \
        "Title. USCIS is extending the validity of the cards for the beneficiaries."


@pytest.mark.parametrize("text, english", [
    # Real summaries from the labeled data: dense English prose with few "the"/"and" ...
    ("A respondent’s release from Federal pretrial criminal custody does not preclude an Immigration Judge from "
     "denying a respondent’s request for release from DHS custody on bond.", True),
    ("U.S. Citizenship and Immigration Services (USCIS) today announced changes to the way we issue receipts for "
     "L-1 nonimmigrant intracompany transferees (Form I-129S).", True),
    # ... and translations: Cyrillic, and Latin-script ones that share a few short words with English.
    ("ВАЖНАЯ ИНФОРМАЦИЯ О ЛЕГАЛЬНОМ ТРУДОУСТРОЙСТВЕ В СОЕДИНЕННЫХ ШТАТАХ И ДРУГОЕ ТУТ", False),
    ("Depatman Sekirite Enteryè Ameriken an (DHS) te pibliye yon desizyon final, ki dwe parèt nan Rejis "
     "Federal la, ki pote klète ak konsistans pou moun ki", False),
    ("Guías sobre Cómo Solicitar una Exención de Tarifas para su Formulario I-765, Solicitud de Autorización "
     "de Empleo", False),
    ("Ang Department of Homeland Security (DHS o Kagawaran ng Pambansang Seguridad) ng Estados Unidos ay "
     "naglabas ng pinal na tuntunin, na ilalathala sa Federal Register (Pederal na Rehistro) na nagbibigay ng "
     "paglilinaw para sa mga noncitizens (dayuhan) kung paano ipapatupad ng DHS ang tuntunin", False),
])
def test_english_is_told_from_translations(text, english):
    assert is_english(text) is english


def test_threshold_is_the_lowest_reaching_the_best_f1():
    import numpy as np
    scores = np.array([0.05, 0.1, 0.2, 0.9, 0.95])
    y = np.array([0, 0, 0, 1, 1])
    assert best_threshold(scores, y) == 0.25  # 0.25 .. 0.90 all reach F1 = 1; 0.20 lets a negative in
    assert best_threshold(np.array([0.3, 0.5, 0.6, 0.8]), np.array([0, 1, 0, 1])) == 0.35  # F1 0.8 from 0.35


def test_recall_first_threshold_keeps_recall_then_takes_the_best_precision():
    import numpy as np
    scores = np.array([0.07, 0.12, 0.3, 0.32, 0.6, 0.7, 0.8, 0.9, 0.95, 0.97])
    y = np.array([0, 1, 0, 0, 1, 1, 1, 1, 1, 1])
    # Best F1 drops the positive at 0.12 (recall 6/7); recall first keeps it, at 0.10 (7 of 8 flagged are positive)
    # rather than 0.05 (7 of 10).
    assert best_threshold(scores, y) == 0.35
    assert recall_threshold(scores, y, 0.95) == 0.1
    assert recall_threshold(scores, y, 0.8) == 0.6  # 6 of 7 is enough: 0.35 to 0.60 all flag exactly those 6;
    # of thresholds tied on precision the highest, which leaves most room below it
    # Nothing reaches the target: the lowest threshold, which misses least.
    assert recall_threshold(np.array([0.01, 0.02]), np.array([1, 1]), 0.9) == 0.05


def test_the_relevance_gate_keeps_its_own_recall_target(monkeypatch):
    # The gate drops an item for every team at once, so its floor keeps out-of-fold recall at GATE_RECALL, not at
    # the per-type TARGET_RECALL: moving the types' target leaves the floor alone, moving the gate's moves it.
    import numpy as np
    from scipy import sparse

    from watcher.matching import learned
    rng = np.random.default_rng(0)
    relevant = (rng.random(200) < 0.3).astype(int)
    x = sparse.csr_matrix(rng.normal(size=(200, 5)) + relevant[:, None] * 0.8)  # relevant items score higher
    groups = [str(n) for n in range(200)]
    floor = learned.relevance_floor(x, relevant, groups, 0)
    assert floor < learned.RELEVANCE_FLOOR  # lowered: at 0.3 the gate would lose more than 5% of relevant items
    monkeypatch.setattr(learned, "TARGET_RECALL", 0.5)
    assert learned.relevance_floor(x, relevant, groups, 0) == floor
    monkeypatch.setattr(learned, "GATE_RECALL", 0.5)
    assert learned.relevance_floor(x, relevant, groups, 0) > floor


def test_bundled_labels_meet_the_labeling_bar():
    items = load_labeled(REPO / "watcher" / "data" / "labeled.jsonl", CODES)
    assert len(items) >= 600
    assert sum(1 for i in items if not i.case_types) >= len(items) / 3
    assert {i.split for i in items} == {"train", "validation"}
    assert len({i.id for i in items}) == len(items)


def test_load_labeled_errors_name_the_line(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"id": "1", "title": "ok"}\n{"id": "2", "title": "x", "case_types": ["H-1C"]}\n')
    with pytest.raises(InputError, match="bad.jsonl:2: unknown case types"):
        load_labeled(path, CODES)
    path.write_text('{"id": "1", "title": "ok"}\nnot json\n')
    with pytest.raises(InputError, match="bad.jsonl:2: not valid JSON"):
        load_labeled(path)


def test_metrics_and_trigger_words():
    gold = [{"H-1B"}, {"TPS", "I-765"}, set()]
    predicted = [{"H-1B"}, {"TPS"}, {"N-400"}]
    report = score("x", gold, predicted, CODES)
    assert (report.micro.tp, report.micro.fp, report.micro.fn) == (2, 1, 1)
    assert report.per_code["I-765"].recall == 0 and report.present == ("I-765", "H-1B", "TPS")
    trigger = TriggerWords(CASE_TYPES).predict([LabeledItem("1", "New Form I-765 edition", "")])
    assert trigger == [{"I-765"}]


def test_the_table_does_not_round_a_figure_up_to_the_bar():
    # 141 hits, 17 false, 34 missed: micro-F1 0.8468, which two decimals would print as the 0.85 bar.
    report = Report("matcher", {"A": Counts(141, 17, 34)}, ("A",))
    micro, macro = render_table([report], ["A"], {"A": 175}).splitlines()[-2:]
    assert micro.split()[0] == "micro" and micro.split()[-1] == "0.847"
    assert macro.split()[:2] == ["macro", "F1"] and macro.split()[-1] == "0.847"


def test_bootstrap_intervals_bracket_the_figure_and_narrow_with_more_items():
    gold = [{"H-1B"}] * 10 + [set()] * 10
    assert bootstrap(gold, gold, CODES) == (Interval(1.0, 1.0), Interval(1.0, 1.0))
    assert bootstrap(gold, [set()] * 20, CODES) == (Interval(0.0, 0.0), Interval(0.0, 0.0))
    predicted = [{"H-1B"}] * 5 + [set()] * 5 + [{"H-1B"}] * 2 + [set()] * 8  # micro-F1 10/17 = 0.59
    micro, macro = bootstrap(gold, predicted, CODES)
    assert micro.low < score("x", gold, predicted, CODES).micro.f1 < micro.high and macro == micro  # one type
    wider, narrower = micro, bootstrap(gold * 10, predicted * 10, CODES)[0]
    assert narrower.high - narrower.low < (wider.high - wider.low) / 2  # ten times the items: about a third


def test_macro_bootstrap_averages_only_the_types_a_resample_holds():
    # One TPS item missed, nineteen H-1B items all found: macro-F1 is 0.5. A resample without the TPS item
    # (about a third of them) holds H-1B alone and scores 1.0, not an average with a type it has no item of.
    gold = [{"TPS"}] + [{"H-1B"}] * 19
    _, macro = bootstrap(gold, [set()] + [{"H-1B"}] * 19, CODES)
    assert (macro.low, macro.high) == (0.5, 1.0)


def test_feedback_corrects_the_stored_matches():
    labeled = [LabeledItem("a", "t", "s", ("TPS",), "train")]
    feedback = [FeedbackLabel(7, "Title", "Summary", "I-765", True), FeedbackLabel(7, "Title", "Summary", "TPS", False)]
    items = training_items(labeled, feedback, matched=lambda change_id: {"TPS", "PAROLE"})
    assert items[-1] == LabeledItem("feedback:7", "Title", "Summary", ("I-765", "PAROLE"), "train", "feedback")


def test_a_model_with_the_wrong_hash_is_refused(tmp_path):
    (tmp_path / "model.safetensors").write_bytes(b"not the official weights")
    encoder = Encoder(tmp_path, sha256="0" * 64)
    with pytest.raises(ConfigError, match="has sha256 .* expected 0000"):
        encoder.encode(["anything"])


CSV = "matter_ref,case_type,team,status,priority_date,preference_category,chargeability_country\n"


@pytest.mark.parametrize("text, message", [
    ("matter_ref,client_name,case_type,team\nM1,Jane Doe,H-1B,biz\n", "refusing column 'client_name'"),
    ("matter_ref,A-Number,case_type,team\nM1,x,H-1B,biz\n", "refusing column 'A-Number'"),
    (CSV + "M1,H-1B,biz,open,,,\nM2,H-1B,biz,open,,note A123456789,\n", "cases.csv:3: a value looks like an A-number"),
    (CSV + "M1,H1,biz,open,,,\n", "cases.csv:2: case type 'H1' is neither a code nor an alias"),
    (CSV + "M1,H-1B,biz,open,2020/01/01,,\n", "cases.csv:2: priority_date '2020/01/01' is not YYYY-MM-DD"),
    (CSV + "M1,H-1B,biz,open,,,\nM1,TPS,biz,open,,,\n", "cases.csv:3: matter reference 'M1' appears twice"),
    ("case_type,team\nH-1B,biz\n", "missing column for ref"),
    ("", "empty file"),
])
def test_caseload_refuses_client_data_and_bad_rows(text, message):
    with pytest.raises(InputError, match=message):
        parse_caseload(text, "cases.csv", CODES, {"Work visa": "H-1B"})


def test_caseload_maps_aliases_and_keeps_only_case_facts():
    text = CSV + "M1,Work visa,business,open,2019-05-01,EB2,india\nM2,TPS,humanitarian,closed,,,\n"
    matters = parse_caseload(text, "cases.csv", CODES, {"Work visa": "H-1B"})
    assert [(m.ref, m.case_type, m.status, m.country) for m in matters] == [
        ("M1", "H-1B", "open", "INDIA"), ("M2", "TPS", "closed", None)]


def test_word_features_keep_form_numbers_and_cites_whole():
    from sklearn.feature_extraction.text import TfidfVectorizer
    from watcher.matching.learned import TOKEN_PATTERN
    analyzer = TfidfVectorizer(token_pattern=TOKEN_PATTERN).build_analyzer()
    tokens = analyzer("Form I-765 and H-1B petitions under 8 CFR 214.2(h); a fiancé (K-1).")
    assert {"i-765", "h-1b", "214.2", "fiancé", "k-1"} <= set(tokens)
    assert "765" not in tokens and "1b" not in tokens


def test_retrain_measures_the_feedbacks_effect_on_the_validation_split():
    """With the feedback the stand-in model predicts the gold codes; without it, nothing: 0.0 then 1.0."""
    from watcher.cli_matching import _feedback_effect

    class StandIn:
        def train(self, items):
            self.with_feedback = any(i.source == "feedback" for i in items)

        def scores(self, titles, summaries):
            return None, [[self.with_feedback and code == "TPS" for code in ("TPS", "H-1B")] for _ in titles]

    items = [LabeledItem("t1", "a", "b", ("TPS",), "train", "uscis"),
             LabeledItem("v1", "c", "d", ("TPS",), "validation", "uscis"),
             LabeledItem("feedback:3", "e", "f", ("TPS",), "train", "feedback")]
    assert _feedback_effect(StandIn(), items, ["TPS", "H-1B"]) == {"before": 0.0, "after": 1.0}
    assert _feedback_effect(StandIn(), items[:2], ["TPS", "H-1B"]) is None  # no feedback: nothing to measure
