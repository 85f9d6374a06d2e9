"""Explicit signals in a text: form numbers, visa classes, CFR parts and INA sections, paperwork notices and
precedent decisions.

These are facts no similarity score should have to guess. Each case type's forms, keywords and CFR cites come
from case_types.toml; `SignalExtractor.vector` turns them into features the learned matcher weighs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from types import MappingProxyType
from typing import Mapping, Sequence

import numpy as np

from ..config import CaseType

_PAPERWORK = re.compile(r"^(Agency Information Collection|(30|60)[- ]Day Notice of Proposed Information Collection|"
                        r"Proposed (Information )?Collection|Submission for O(MB|ffice of Management))|"
                        r"Paperwork Reduction Act|Information Collection Activit(y|ies)\b", re.IGNORECASE)
_CFR = re.compile(r"\b(\d{1,2})\s*C\.?\s*F\.?\s*R\.?\s*(?:§+\s*|part\s+|parts\s+)?(\d+(?:\.\d+[a-z]?)?(?:\([a-z0-9]+\))*)",
                  re.IGNORECASE)
_SECTION = r"(\d{3}[A-Z]?(?:\([a-z0-9]+\))*)"
# "INA 245(i)", "INA section 245(i)", and as precedents and rules write it, "section 212(a)(6)(C)(i) of the
# Immigration and Nationality Act" or "sections 101(a)(48)(A)(i) and (ii) of the INA".
_INA = re.compile(r"\b(?:INA|Immigration and Nationality Act)\s*(?:section|sec\.|§)?\s*" + _SECTION +
                  r"|\bsections?\s+" + _SECTION + r"(?:,?\s+(?:and|or)\s+\([a-z0-9]+\))*\s+of\s+the\s+"
                  r"(?:INA|Immigration and Nationality Act)\b", re.IGNORECASE)
# Courts and the Attorney General often cite the Act by its place in the U.S. Code alone ("8 U.S.C. § 1158(b)(1)",
# "8 U.S.C. §§ 1101(a)(42)(A), 1158(b)(1)"). The Code's number for each INA section a case type's provisions name.
_USC_TO_INA = {
    "1101": "101", "1151": "201", "1152": "202", "1153": "203", "1154": "204", "1155": "205", "1157": "207",
    "1158": "208", "1159": "209", "1160": "210", "1182": "212", "1183": "213", "1183a": "213A", "1184": "214",
    "1186a": "216", "1186b": "216A", "1187": "217", "1201": "221", "1202": "222", "1225": "235", "1226": "236",
    "1226a": "236A", "1227": "237", "1228": "238", "1229": "239", "1229a": "240", "1229b": "240A", "1229c": "240B",
    "1231": "241", "1252": "242", "1254a": "244", "1255": "245", "1255a": "245A", "1259": "249", "1324a": "274A",
    "1356": "286", "1421": "310", "1423": "312", "1427": "316", "1430": "319", "1431": "320", "1433": "322",
    "1439": "328", "1440": "329", "1445": "334", "1446": "335", "1448": "337",
}
# A run of cites ("8 U.S.C. §§ 1101(a)(42)(A), 1158(b)(1)"), then each section of the run with its paragraphs.
_USC_SECTION = re.compile(r"(\d{4}[a-z]?)((?:\([A-Za-z0-9]+\))*)")
_USC = re.compile(r"(?<!\d)8\s*U\.?\s?S\.?\s?C\.?\s*(?:§§?\s*|sec(?:tions?|s?\.)\s*)?" + _USC_SECTION.pattern +
                  r"(?:,?\s+(?:and\s+)?" + _USC_SECTION.pattern + r")*")
# EOIR and the Federal Register write "Form I‑751" with a non-breaking hyphen; a form number must still match.
_HYPHENS = str.maketrans({"\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2212": "-"})


def plain_hyphens(text: str) -> str:
    return text.translate(_HYPHENS)


def phrase(text: str, plural: bool = False) -> re.Pattern[str]:
    # '-' counts as part of a word: "I-130" must not match "I-1300", nor "H-1B" match "H-1B1".
    # A keyword phrase may be plural ("immigrant visas"); a form number may not.
    suffix = r"(?:e?s)?" if plural else ""
    return re.compile(r"(?<![\w-])" + re.escape(text) + suffix + r"(?![\w-])", re.IGNORECASE)


_PRIVACY_ACT = re.compile(r"^Privacy Act of 1974", re.IGNORECASE)
# LABELING.md: organisational EOIR items (the size of the Board, public forums, judge appointments) get no code.
# So do the EOIR Director's published decisions ("28 I&N Dec. 16 (DIR 2020)"): they recognise organisations and
# accredit their representatives (8 CFR 1292.11-1292.18) and decide no one's case; to the classifier they read
# like precedents: it gave the training split's one REMOVAL in all 6 fold seeds of cross-validation. With this
# rule no seed does; the averages move by noise (micro-F1 0.889 to 0.890, macro-F1 0.832 to 0.831).
_EOIR_ORGANISATION = re.compile(r"size of the Board of Immigration Appeals|Practice Manual; Public Forum|"
                                r"Designation of Temporary Immigration Judges|I&N Dec\.\s+\d+\s+\(DIR\s+\d{4}\)",
                                re.IGNORECASE)


# ICE's quarterly notice of the interest rate paid on cash immigration bonds (the Treasury rate, 18 labeled, no
# code): a number for bond obligors, nothing an attorney advises a removal case on.
_BOND_INTEREST = re.compile(r"^Interest Rate Paid on Cash Deposited to Secure U\.S\. Immigration and Customs "
                            r"Enforcement Immigration Bonds", re.IGNORECASE)


def is_paperwork(title: str, summary: str = "") -> bool:
    """Low-signal notices that never change a case: information collections (most of what USCIS publishes
    in the Federal Register), Privacy Act system-of-records notices, organisational EOIR notices, ICE's bond
    interest-rate notices."""
    return bool(_PAPERWORK.search(title) or _PRIVACY_ACT.search(title) or _EOIR_ORGANISATION.search(title)
                or _BOND_INTEREST.search(title)
                or (summary and "Paperwork Reduction Act" in summary[:400] and "information collection" in summary.lower()))


# "Matter of X, 28 I&N Dec. 788 (BIA 2024)": how EOIR cites a precedent and how its source titles one. Decisions
# of the EOIR Director (DIR) on recognition and accreditation are organisational, not precedents on removal.
_PRECEDENT = re.compile(r"\bI&N Dec\.\s+\d+\s+\((?:BIA|A\.?G\.?)\s+\d{4}\)", re.IGNORECASE)


def is_precedent(title: str) -> bool:
    """A BIA or Attorney General precedent decision: LABELING.md makes every one REMOVAL, whatever relief it
    also decides."""
    return bool(_PRECEDENT.search(title))


# INA 242(b)(3)(A): in a petition for review of a removal order "the respondent is the Attorney General", so a
# court caption "Pugin v. Garland" is a court's review of a removal order. The Attorney General as petitioner
# ("Garland v. Cargill") is the government appealing, in any field of law, and a caption at the end of a long
# title ("USCIS Reviewing ... Policy Based on Settlement Agreement in Calixto v. ...") is news: neither counts.
# Attorneys General since 1993, by surname as the courts caption them, or by office as the Third Circuit does.
_ATTORNEY_GENERAL = r"(?:Garland|Bondi|Barr|Sessions|Whitaker|Lynch|Holder|Mukasey|Gonzales|Ashcroft|Reno|" \
                    r"(?:U\.\s?S\.\s+)?Att(?:orney|'y)\.?\s+Gen(?:eral|\.))"
_TRAILER = r"(?:,?\s+(?:Attorney General|Jr\.|(?:of\s+the\s+)?United States)[^(]*)?(?:\s*\([^)]*\))?\s*$"
# The government as the first party is a prosecution of a defendant who may share a surname ("United States v.
# Gonzales"), not a petition for review.
_PROSECUTOR = r"(?!(?:United States|U\.\s?S\.|USA|People|State|Commonwealth)\b)"
_REMOVAL_REVIEW = re.compile(r"^" + _PROSECUTOR + r"(?:\S+\s+){0,7}v\.\s+(?:[A-Z][\w.]*\s+){0,2}" +
                             _ATTORNEY_GENERAL + _TRAILER)


def is_removal_review(title: str) -> bool:
    """A court decision on a petition for review of a removal order, known by its caption (see above)."""
    return bool(_REMOVAL_REVIEW.match(title.strip()))


# "Visa Bulletin For November 2024": the State Department's monthly bulletin, as it titles itself.
_VISA_BULLETIN = re.compile(r"^Visa Bulletin for [A-Z][a-z]+ \d{4}\b", re.IGNORECASE)


def title_rules(title: str) -> dict[str, str]:
    """The case types LABELING.md gives an item from its title alone, each with the reason: a BIA or Attorney
    General precedent and a court's review of a removal order are REMOVAL ("circuit and Supreme Court decisions
    follow the same rule"), Visa Bulletin movement is CONSULAR, and parole (not advance parole) is PAROLE."""
    if is_precedent(title):
        return {"REMOVAL": "a BIA or Attorney General precedent decision"}
    if is_removal_review(title):
        return {"REMOVAL": "a court's review of a removal order (the Attorney General is the respondent, "
                           "INA 242(b)(3)(A))"}
    if _VISA_BULLETIN.match(title.strip()):
        return {"CONSULAR": "the Visa Bulletin: immigrant-visa cutoff dates"}
    if _PAROLE.search(title) and not _OTHER_PAROLE.search(title):
        return {"PAROLE": "a title naming parole: humanitarian or categorical parole (LABELING.md)"}
    return {}


# Parole in a title is humanitarian or categorical parole (LABELING.md's PAROLE: "Uniting for Ukraine, CHNV, family
# reunification parole, re-parole"), except advance parole (a travel document, I-131), parole in place and the
# CNMI's transitional parole. Of the labeled items so titled that are not paperwork notices, 30 of 32 are PAROLE;
# the classifier misses most of those after 2021 when trained before (a new process each year: CHNV, Ecuador).
_PAROLE = re.compile(r"\bparole(?:e|es|d)?\b", re.IGNORECASE)
_OTHER_PAROLE = re.compile(r"\badvance parole\b|\bparole in place\b|\btransitional parole\b", re.IGNORECASE)


# What an immigration judge has no authority to grant, so no BIA or AG precedent decides it: parole is DHS's alone
# (INA 212(d)(5)), a visa the consul's, deferred action for childhood arrivals DHS's. A headnote naming one
# ("terminates a grant of parole", "conditional parole ... is distinct from humanitarian parole") decides
# removability or another relief. On the training split the rule gave one such type, PAROLE to Matter of
# Arambula-Bravo (a notice to appear ends parole), which is labeled REMOVAL alone.
_NOT_DECIDED_IN_COURT = frozenset({"PAROLE", "CONSULAR", "DACA"})


def precedent_reliefs(title: str, signals: Mapping[str, "CodeSignals"]) -> dict[str, str]:
    """LABELING.md makes a BIA or Attorney General precedent REMOVAL "plus the relief type [it decides]"; the
    relief a precedent decides is the one its headnote names ("particular social group", "Form I-751").

    The classifier cannot learn this: a few dozen precedents are drowned by the rules and news that mention
    asylum without being about it. On the training split's precedents, a type the headnote names is a type the
    decision is labeled with in 15 of 18 cases; grouped 5-fold cross-validation on that split (6 fold seeds)
    gains micro-F1 0.880 to 0.885 and macro-F1 0.775 to 0.830 (every seed gains both); 0.05 of that macro is
    K-1, whose one labeled example is a precedent. The learned matcher leaves a precedent's case types to these
    rules alone: precedents look alike to the classifier, which gave procedural ones (ineffective counsel,
    administrative closure) ASYLUM; the same cross-validation gains micro-F1 0.885 to 0.889, macro-F1 0.830 to
    0.832, every seed up on both.

    Not for court opinions, though LABELING.md treats them alike: CourtListener's summary is the search snippet
    around the query's own terms ("asylum", "removal"), so it would name a relief whatever the case decides.
    """
    if not is_precedent(title):
        return {}
    return {code: "a BIA or Attorney General precedent: REMOVAL plus the relief it decides (LABELING.md)"
            for code, found in signals.items()
            if found.any and code != "REMOVAL" and code not in _NOT_DECIDED_IN_COURT}


# LABELING.md leaves the H-2A and H-2B temporary worker programs outside the taxonomy (their fees "get no code").
# Their rules share words with PERM: the Board of Alien Labor Certification Appeals reviews H-2B certifications too,
# and H-2B jobs have prevailing wages (Form ETA-9141). Those words alone do not make an item about PERM.
_TEMPORARY_WORKERS = re.compile(r"(?<![\w-])H-2[AB](?![\w-])|temporary labor certification", re.IGNORECASE)
_SHARED_WITH_TEMPORARY_WORKERS = frozenset({"Board of Alien Labor Certification Appeals", "prevailing wage",
                                            "ETA-9141"})


def temporary_workers_only(text: str, signals: Mapping[str, "CodeSignals"]) -> bool:
    """An item about the H-2A or H-2B programs that names no case type of the taxonomy by form or phrase.

    Every one of the 88 labeled items that names H-2A, H-2B or a temporary labor certification has no code; 85
    of them name no other type. The classifier learns most of that, but it gave PERM-I-140 to the three
    validation-split rules on the Secretary of Labor's review of H-2B appeals, which name the Board of Alien Labor
    Certification Appeals.
    """
    if not _TEMPORARY_WORKERS.search(plain_hyphens(text)):
        return False
    return not any(set(found.forms + found.keywords) - _SHARED_WITH_TEMPORARY_WORKERS for found in signals.values())


# Statistics describe a population or a workload ("This fact sheet provides information on select characteristics of
# the eligible to naturalize population", "provides historical national median processing time"); they change
# nothing an applicant must do, so LABELING.md's test ("would an attorney need it to advise an open case?") gives
# them no code. The pattern finds 59 labeled items, none with a code; USCIS's 56 county-by-county "Eligible to
# Naturalize" factsheets were the time split's largest source of spare N-400 alerts.
_STATISTICS = re.compile(r"\b(?:provides?|presents?|releases?|releasing|publish(?:es)?|includes?)\b[^.]{0,60}?"
                         r"\b(?:statistics|statistical|data on|characteristics of|trends|median processing times?)\b"
                         r"|\b(?:information|data) (?:on|about) the [\w\s-]{0,40}?population\b", re.IGNORECASE)
_FIRST_SENTENCES = re.compile(r"(?<=[.])\s")


def statistics_only(title: str, summary: str) -> bool:
    """An item whose title or first two sentences say it presents statistics, data or trends."""
    opening = " ".join(_FIRST_SENTENCES.split(summary, 2)[:2])
    return bool(_STATISTICS.search(f"{title}. {opening}"))


_NONIMMIGRANT = re.compile(r"\bnon-?immigrants?\b", re.IGNORECASE)
_IMMIGRANT = re.compile(r"(?<![\w-])immigrants?\b", re.IGNORECASE)


def nonimmigrants_only(title: str) -> bool:
    """A title about nonimmigrants and not immigrants: LABELING.md makes CONSULAR "immigrant visas only"
    ("nonimmigrant visa stamping, visa bonds and B-visa rules are not CONSULAR")."""
    return bool(_NONIMMIGRANT.search(title)) and not _IMMIGRANT.search(title)


def cfr_cites(text: str) -> list[str]:
    return [f"{title} CFR {part}" for title, part in _CFR.findall(text)]


def ina_cites(text: str) -> list[str]:
    return [f"INA {before or after}" for before, after in _INA.findall(text)]


def usc_cites(text: str) -> list[str]:
    """Title 8 U.S. Code cites of the Act, as the INA sections they are ("8 U.S.C. § 1154(c)" is "INA 204(c)");
    sections outside the table above are left out."""
    return [f"INA {_USC_TO_INA[section]}{tail}" for run in _USC.finditer(text)
            for section, tail in _USC_SECTION.findall(run.group()) if section in _USC_TO_INA]


def governs(provision: str, cite: str) -> bool:
    """Whether a cite falls under a case type's provision: one is the other or a part of it. "8 CFR 214.2(h)(4)"
    is under "8 CFR 214.2(h)" (H-1B) but not "8 CFR 214.2(l)" (L-1); a bare "8 CFR 214.2" may be any of them;
    "8 CFR 2081" is not "8 CFR 208"."""
    shorter, longer = sorted((provision, cite), key=len)
    return longer.startswith(shorter) and (len(longer) == len(shorter) or longer[len(shorter)] in ".(")


@dataclass(frozen=True)
class CodeSignals:
    forms: tuple[str, ...]
    keywords: tuple[str, ...]
    cites: tuple[str, ...]

    @property
    def any(self) -> bool:
        return bool(self.forms or self.keywords or self.cites)

    def describe(self) -> str:
        parts = []
        if self.forms:
            parts.append("names Form " + ", ".join(self.forms))
        if self.cites:
            parts.append("cites " + ", ".join(self.cites))
        if self.keywords:
            parts.append("mentions " + ", ".join(f"'{k}'" for k in self.keywords[:3]))
        return "; ".join(parts)


class SignalExtractor:
    def __init__(self, case_types: Sequence[CaseType]):
        self.codes = [c.code for c in case_types]
        self._rules = [([(f, f.lower(), phrase(f)) for f in c.forms],
                        [(k, k.lower(), phrase(k, plural=True)) for k in c.keywords],
                        [c.split(" (")[0] for c in c.cfr]) for c in case_types]
        # One prediction reads an item's title and text for the features, the labeling rules and the rationale:
        # remembered, each is read once. Enough entries for a batch of 2,000 items, a few MiB.
        self._read = lru_cache(maxsize=4096)(self._signals)

    def signals(self, text: str) -> Mapping[str, CodeSignals]:
        """Per case type, its forms, keywords and governing cites found in the text (shared: read-only)."""
        return self._read(text)

    def _signals(self, text: str) -> Mapping[str, CodeSignals]:
        text = plain_hyphens(text)
        cites = list(dict.fromkeys(cfr_cites(text) + ina_cites(text) + usc_cites(text)))  # a headnote gives both
        # Most phrases are absent from most texts: a substring test rules them out before the (boundary-aware,
        # much slower) pattern runs. Signals of a corpus item took 3.3 ms with the patterns alone, 0.34 ms so.
        lowered = text.lower()
        out = {}
        for code, (forms, keywords, governing) in zip(self.codes, self._rules):
            hit_cites = tuple(c for c in cites if any(governs(g, c) for g in governing))
            out[code] = CodeSignals(tuple(f for f, low, p in forms if low in lowered and p.search(text)),
                                    tuple(k for k, low, p in keywords if low in lowered and p.search(text)),
                                    hit_cites)
        return MappingProxyType(out)

    def vector(self, title: str, summary: str) -> np.ndarray:
        """Per code: form cited in the title, form cited anywhere, keyword count (capped), CFR/INA cite; plus
        the paperwork flag."""
        text = f"{title}\n{summary}"
        in_title = self.signals(title)
        anywhere = self.signals(text)
        rows = []
        for code in self.codes:
            s = anywhere[code]
            rows += [float(bool(in_title[code].forms or in_title[code].keywords)), float(bool(s.forms)),
                     min(len(s.keywords), 3) / 3.0, float(bool(s.cites))]
        rows.append(float(is_paperwork(title, summary)))
        return np.asarray(rows, dtype=np.float32)
