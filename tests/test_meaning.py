"""What a change means, apart from its spelling (meaning.py); the lawyer's words (notify/lawyer.py); caseload
spellings (caseload.py); TPS scoping (alerts.py). Pure functions, table-tested."""

from __future__ import annotations

from datetime import date

import pytest

from watcher.decide import classify
from watcher.errors import InputError
from watcher.matching.caseload import normalize_category, normalize_country, parse_caseload
from watcher.meaning import canonical_url, lawyer_changes, plain
from watcher.models import Change, Match, Matter, Status, StoredVersion
from watcher.notify.alerts import designated_countries, scope_to_countries
from watcher.notify.lawyer import describe, gist, key_dates

URL = "https://www.uscis.gov/newsroom/alerts/tps-haiti"


@pytest.mark.parametrize("spelling", [
    URL, "HTTPS://WWW.USCIS.GOV/newsroom/alerts/tps-haiti", "https://www.uscis.gov:443/newsroom/alerts/tps-haiti",
    URL + "/", URL + "?utm_source=govdelivery&utm_medium=email", URL + "#main", "https://www.uscis.gov./newsroom/alerts/tps-haiti",
])
def test_one_address_has_one_canonical_spelling(spelling):
    assert canonical_url(spelling) == URL


@pytest.mark.parametrize("other", ["https://www.uscis.gov/newsroom/alerts/tps-honduras", URL + "?page=2",
                                   "https://www.uscis.gov:8443/newsroom/alerts/tps-haiti"])
def test_different_addresses_stay_different(other):
    assert canonical_url(other) != URL


def test_plain_text_ignores_markup_spacing_and_typography():
    assert plain("<p>The  rule\n takes effect</p> on “March 1” – 2027") == 'The rule takes effect on "March 1" - 2027'


def change(**facts) -> Change:
    return Change("fr", "2021-02665", "rule", facts.pop("title", "H-1B rule"), facts.pop("summary", "Summary."),
                  facts.pop("url", "https://www.federalregister.gov/d/2021-02665"), facts=facts)


def stored(c: Change) -> StoredVersion:
    return StoredVersion(1, 1, c.content_hash, c.title, c.summary, c.url, dict(c.facts))


def test_a_respelled_link_is_no_new_version_and_a_moved_host_is_a_silent_one():
    before = change(effective_on="2026-12-20")
    [same] = classify([change(effective_on="2026-12-20", url="HTTPS://WWW.FEDERALREGISTER.GOV/d/2021-02665/")],
                      {before.item_key: stored(before)})
    assert same.status is Status.UNCHANGED
    [moved] = classify([change(effective_on="2026-12-20", url="https://federalregister.gov/d/2021-02665")],
                       {before.item_key: stored(before)})
    assert moved.status is Status.UPDATED and moved.changed == () and not moved.announce


def test_an_effective_date_change_is_an_announced_update_saying_was_and_now():
    before = change(effective_on="2026-12-20")
    [update] = classify([change(effective_on="2027-02-15")], {before.item_key: stored(before)})
    assert update.announce and [c.line() for c in update.changed] == ["Effective: 2026-12-20 -> 2027-02-15"]


def test_the_table_decides_what_matters_per_kind():
    # A court opinion's summary is the page's own boilerplate ("opinion by KJ"): not a lawyer's field for it.
    assert lawyer_changes("court_opinion", {"title": "A v. B", "summary": "x"}, {"title": "A v. B", "summary": "y"}) == ()
    assert lawyer_changes("alert", {"title": "t", "summary": "x"}, {"title": "t", "summary": "y"})[0].field == "summary"
    cells = [{"chart": "employment_final_action", "category": "EB2", "area": "INDIA", "value": "2012-07-15"}]
    revised = [dict(cells[0], value="2013-01-01")]
    [cell] = lawyer_changes("visa_bulletin", {"cells": cells}, {"cells": revised})
    assert cell.line() == "Cut-off dates: employment final action EB2 INDIA: 2012-07-15 -> 2013-01-01"


@pytest.mark.parametrize("kind, facts, expected", [
    ("rule", {"document_number": "1", "type": "Rule", "agencies": ["Homeland Security Department"]},
     ("Federal Register final rule", "Homeland Security Department")),
    ("proposed_rule", {"document_number": "1", "type": "Proposed Rule", "agencies": []},
     ("Federal Register proposed rule", "Federal Register")),
    ("rule", {"document_number": "1", "type": "Rule", "action": "Interim final rule; request for comments."},
     ("Federal Register interim final rule", "Federal Register")),
    ("precedent", {"body": "AG"}, ("Attorney General precedent decision", "Executive Office for Immigration Review")),
    ("court_opinion", {"court": "scotus"}, ("U.S. Supreme Court opinion", "Supreme Court of the United States")),
    ("visa_bulletin", {}, ("Visa Bulletin", "U.S. Department of State")),
    ("stakeholder_message", {}, ("USCIS stakeholder message", "U.S. Citizenship and Immigration Services")),
])
def test_describe(kind, facts, expected):
    assert describe(kind, facts) == expected


def test_gist_is_the_items_own_first_two_sentences():
    text = ("On January 8, 2021, DHS published a final rule under 8 U.S.C. 1184. It amends the H-1B selection. "
            "A third sentence is left out.")
    assert gist(text) == "On January 8, 2021, DHS published a final rule under 8 U.S.C. 1184. It amends the H-1B selection."


def test_key_dates_say_the_days_left():
    dates = key_dates({"effective_on": "2027-01-01", "comments_close_on": "2026-11-26"}, date(2026, 11, 27))
    assert [d.text() for d in dates] == ["Effective: 2027-01-01 (in 35 days)", "Comments close: 2026-11-26 (yesterday)"]


@pytest.mark.parametrize("raw, code", [("EB-2", "EB2"), ("EB2", "EB2"), ("E2", "EB2"), ("2nd", "EB2"),
                                       ("EB 3", "EB3"), ("3rd preference", "EB3"), ("EB5", "EB5"),
                                       ("EB-5 Rural", "EB5-RURAL"), ("EB-3 Other Workers", "EB3-OTHER"),
                                       ("F2A", "F2A"), ("F-2A", "F2A"), ("FX", "FX"), ("f4", "F4")])
def test_categories_in_the_spellings_firms_use(raw, code):
    assert normalize_category(raw) == code


@pytest.mark.parametrize("raw, country", [("India", "INDIA"), ("IN", "INDIA"), ("IND", "INDIA"), ("cn", "CHINA"),
                                          ("China-mainland born", "CHINA"), ("MEX", "MEXICO"), ("PH", "PHILIPPINES"),
                                          ("Haiti", "HAITI"), ("El  Salvador", "EL SALVADOR")])
def test_countries_in_the_spellings_firms_use(raw, country):
    assert normalize_country(raw) == country


def test_import_maps_statuses_and_refuses_what_it_cannot_read_with_file_and_line():
    codes = ["PERM-I-140", "TPS"]
    header = "matter_ref,case_type,team,status,preference_category,chargeability_country\n"
    matters = parse_caseload(header + "M-1,PERM-I-140,b,Pending,EB-2,India\nM-2,PERM-I-140,b,Active,2nd,IN\n"
                             "M-3,TPS,h,Withdrawn,,Haiti\n", "m.csv", codes, {})
    assert [(m.status, m.category, m.country) for m in matters] == [("open", "EB2", "INDIA"), ("open", "EB2", "INDIA"),
                                                                   ("closed", None, "HAITI")]
    with pytest.raises(InputError, match=r"m.csv:3: preference category 'H-1B'"):
        parse_caseload(header + "M-1,TPS,h,open,,\nM-2,TPS,h,open,H-1B,\n", "m.csv", codes, {})
    with pytest.raises(InputError, match=r"m.csv:2: status 'shredded'"):
        parse_caseload(header + "M-1,TPS,h,shredded,,\n", "m.csv", codes, {})


def test_a_tps_alert_counts_the_matters_of_the_country_it_names():
    haiti = Change("uscis", "k", "alert", "Extension of the Designation of Haiti for Temporary Protected Status", "", URL)
    matters = [Matter("T-1", "TPS", "h", country="HAITI"), Matter("T-2", "TPS", "h", country="HONDURAS"),
               Matter("T-3", "TPS", "h", country="HAITI"), Matter("A-1", "ASYLUM", "h", country="HONDURAS")]
    scoped, counts = scope_to_countries(haiti, [Match("TPS", 1, "m", "r")], matters, {"TPS": 3, "ASYLUM": 1})
    assert [m.ref for m in scoped] == ["T-1", "T-3", "A-1"] and counts == {"TPS": 2, "ASYLUM": 1}
    assert designated_countries(Change("u", "k", "alert", "TPS for South Sudan", "", URL)) == {"SOUTH SUDAN"}
    general = Change("uscis", "k", "alert", "TPS re-registration reminders", "", URL)
    assert scope_to_countries(general, [Match("TPS", 1, "m", "r")], matters, {"TPS": 3})[1] == {"TPS": 3}


def test_a_fact_the_stored_version_was_never_read_with_is_not_a_change():
    # An upgrade that starts reading the citation must not re-alert every stored document; a document that had the
    # field empty (on public inspection) and now has it (published) is the change a lawyer wants.
    stored_by_old_parser = {"title": "Rule", "summary": "", "effective_on": None}
    assert lawyer_changes("rule", stored_by_old_parser, {**stored_by_old_parser, "citation": "86 FR 8543"}) == ()
    on_inspection = {**stored_by_old_parser, "citation": None}
    [change] = lawyer_changes("rule", on_inspection, {**on_inspection, "citation": "86 FR 8543"})
    assert change.line() == "Citation: (none) -> 86 FR 8543"
