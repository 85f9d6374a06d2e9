"""Importing the firm's open matters from a CSV export of its case-management system.

Only what matching needs is kept: a matter reference, the case type, the team, the status, and for bulletin
alerts the priority date, preference category, chargeability country and court venue. A column that holds
names or A-numbers is refused outright, and a value that looks like an A-number refuses the file: client
data of that kind never enters watcher.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from typing import Mapping, Sequence

from ..errors import InputError
from ..models import Matter

COLUMNS = {
    "ref": ("matter_ref", "matter", "ref", "reference", "matter_reference"),
    "case_type": ("case_type", "type", "case type"),
    "team": ("team", "practice_group"),
    "status": ("status",),
    "priority_date": ("priority_date", "priority date"),
    "category": ("preference_category", "category"),
    "country": ("chargeability_country", "chargeability", "country"),
    "venue": ("court_venue", "venue", "court"),
}
_FORBIDDEN = re.compile(r"name|client|beneficiary|petitioner|applicant|a[-_ ]?number|alien|a#|anumber|dob|birth|"
                        r"email|phone|address|ssn|passport|receipt", re.IGNORECASE)
_A_NUMBER = re.compile(r"\bA[-\s]?\d{3}[-\s]?\d{3}[-\s]?\d{2,3}\b")

# Case-management systems spell a matter's status many ways; watcher needs one thing: is it open. Documented in the
# README ("Your first week"); anything else refuses the file with its line.
STATUSES = {"open": "open", "pending": "open", "active": "open", "on hold": "open", "in progress": "open",
            "filed": "open", "rfe": "open", "closed": "closed", "withdrawn": "closed", "approved": "closed",
            "denied": "closed", "completed": "closed", "archived": "closed"}

# Visa Bulletin categories as the charts name them (visa_bulletin.category_code), from the spellings firms use.
_EMPLOYMENT = re.compile(r"^(?:EB|E|EMPLOYMENT|EMP)?[-\s]*([1-5])(?:ST|ND|RD|TH)?(?:[-\s]*(?:PREF(?:ERENCE)?))?$")
_ORDINAL = re.compile(r"^([1-5])(?:ST|ND|RD|TH)\b")
_FAMILY = re.compile(r"^F(?:AMILY)?[-\s]*(1|2A|2B|3|4|X)$")
COUNTRIES = {"CHINA": ("CHINA", "CN", "CHN", "PRC", "CHINA-MAINLAND BORN", "CHINA MAINLAND", "MAINLAND CHINA"),
             "INDIA": ("INDIA", "IN", "IND"), "MEXICO": ("MEXICO", "MX", "MEX"),
             "PHILIPPINES": ("PHILIPPINES", "PH", "PHL", "THE PHILIPPINES")}
_COUNTRY = {spelling: name for name, spellings in COUNTRIES.items() for spelling in spellings}


def normalize_category(raw: str) -> str | None:
    """EB-2, EB2, E2, "2nd", "EB 2" -> EB2; F2A, F-2A, FX -> F2A/FX; EB-5 sub-categories keep their suffix.
    None when the value is not a bulletin category."""
    text = re.sub(r"\s+", " ", raw.strip().upper())
    if not text:
        return None
    family = _FAMILY.match(text)
    if family:
        return f"F{family.group(1)}"
    employment = _EMPLOYMENT.match(text) or _ORDINAL.match(text)
    if employment:
        return f"EB{employment.group(1)}"
    suffixed = re.match(r"^EB[-\s]?([1-5])[-\s]+([A-Z][A-Z -]+)$", text)
    if suffixed:  # EB-5 Rural, EB-3 Other Workers: the chart's own row names (visa_bulletin.category_code)
        from ..sources.visa_bulletin import category_code

        code = category_code(suffixed.group(2))
        return code if code.startswith(f"EB{suffixed.group(1)}-") else \
            f"EB{suffixed.group(1)}-{re.sub(r'[^A-Z]+', '-', suffixed.group(2)).strip('-')}"
    return None


def normalize_country(raw: str) -> str | None:
    """The chargeability as the charts name their columns: CHINA, INDIA, MEXICO, PHILIPPINES, or the country as
    written (upper case) for every other, which the charts file under "All Chargeability"."""
    text = re.sub(r"\s+", " ", raw.strip().upper())
    return _COUNTRY.get(text, text) or None


def parse_caseload(text: str, filename: str, codes: Sequence[str], aliases: Mapping[str, str]) -> list[Matter]:
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames:
        raise InputError(f"{filename}: empty file or no header row")
    mapping = _map_columns(reader.fieldnames, filename)
    lookup = {c.lower(): c for c in codes} | {k.lower(): v for k, v in aliases.items()}
    matters, seen = [], set()
    for line, row in enumerate(reader, start=2):
        values = {field: (row.get(column) or "").strip() for field, column in mapping.items()}
        if any(_A_NUMBER.search(v or "") for v in row.values() if isinstance(v, str)):
            raise InputError(f"{filename}:{line}: a value looks like an A-number; refusing the file (nothing stored)")
        matters.append(_matter(values, lookup, filename, line, seen))
    return matters


def _map_columns(header: Sequence[str], filename: str) -> dict[str, str]:
    mapping = {}
    for column in header:
        normal = column.strip().lower()
        if _FORBIDDEN.search(normal) and normal not in {a for names in COLUMNS.values() for a in names}:
            raise InputError(f"{filename}: refusing column '{column}': client names, A-numbers and contact "
                             "details never enter watcher (remove the column and import again)")
        for field, names in COLUMNS.items():
            if normal in names and field not in mapping:
                mapping[field] = column
    for field in ("ref", "case_type", "team"):
        if field not in mapping:
            raise InputError(f"{filename}: missing column for {field} (accepted: {', '.join(COLUMNS[field])})")
    return mapping


def _matter(values: dict[str, str], lookup: Mapping[str, str], filename: str, line: int, seen: set) -> Matter:
    where = f"{filename}:{line}"
    if not values["ref"]:
        raise InputError(f"{where}: empty matter reference")
    if values["ref"] in seen:
        raise InputError(f"{where}: matter reference '{values['ref']}' appears twice")
    seen.add(values["ref"])
    case_type = lookup.get(values["case_type"].lower())
    if case_type is None:
        raise InputError(f"{where}: case type '{values['case_type']}' is neither a code nor an alias in watcher.toml")
    given = re.sub(r"\s+", " ", (values.get("status") or "open").strip().lower())
    status = STATUSES.get(given)
    if status is None:
        raise InputError(f"{where}: status '{given}' (accepted: {', '.join(STATUSES)})")
    category = None
    if values.get("category"):
        category = normalize_category(values["category"])
        if category is None:
            raise InputError(f"{where}: preference category '{values['category']}' is not a Visa Bulletin category "
                             "(EB-1 to EB-5, F1, F2A, F2B, F3, F4)")
    priority = values.get("priority_date") or None
    if priority:
        try:
            date.fromisoformat(priority)
        except ValueError:
            raise InputError(f"{where}: priority_date '{priority}' is not YYYY-MM-DD") from None
    return Matter(ref=values["ref"], case_type=case_type, team=values["team"] or "unassigned", status=status,
                  priority_date=priority, category=category,
                  country=normalize_country(values.get("country") or ""), venue=values.get("venue") or None)
