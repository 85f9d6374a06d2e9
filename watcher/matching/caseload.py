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
STATUSES = {"open", "closed", "pending", "on hold"}


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
    status = (values.get("status") or "open").lower()
    if status not in STATUSES:
        raise InputError(f"{where}: status '{status}' (expected one of {', '.join(sorted(STATUSES))})")
    priority = values.get("priority_date") or None
    if priority:
        try:
            date.fromisoformat(priority)
        except ValueError:
            raise InputError(f"{where}: priority_date '{priority}' is not YYYY-MM-DD") from None
    return Matter(ref=values["ref"], case_type=case_type, team=values["team"] or "unassigned", status=status,
                  priority_date=priority, category=values.get("category") or None,
                  country=(values.get("country") or "").upper() or None, venue=values.get("venue") or None)
