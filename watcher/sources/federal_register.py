"""`federal_register`: the Federal Register documents.json API.

Options: `agencies` (slugs), `types` (filter codes RULE, PRORULE, NOTICE, PRESDOCU: note they differ from the
`type` strings returned, "Rule", "Proposed Rule", ...), `lookback_days`, `max_pages`. The API sends no
validators, so every poll is a 200; identity is the document number and unchanged documents create nothing.
Most USCIS documents are paperwork (information collection) notices; they are marked so matching and alerts
can treat them as low-signal.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlencode

from ..errors import ConfigError, ParseError
from ..http import HttpClient
from ..models import Change, Fetched, Validators
from .base import MAX_ITEMS, MAX_SUMMARY, MAX_TITLE, Source, clean_text, each_item

FIELDS = ["document_number", "type", "title", "abstract", "action", "publication_date", "effective_on",
          "comments_close_on", "cfr_references", "agencies", "html_url", "dates"]
TYPE_CODES = {"RULE", "PRORULE", "NOTICE", "PRESDOCU"}
KINDS = {"Rule": "rule", "Proposed Rule": "proposed_rule", "Notice": "notice",
         "Presidential Document": "presidential_document"}
_PAPERWORK = re.compile(r"^Agency Information Collection Activities|Paperwork Reduction Act", re.IGNORECASE)
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")  # fullmatch, ASCII: "$" would let a trailing newline in
# USCIS, DHS, EOIR, State, and Labor (PERM): the agencies whose documents change immigration practice.
DEFAULT_AGENCIES = ["u-s-citizenship-and-immigration-services", "homeland-security-department",
                    "executive-office-for-immigration-review", "state-department", "labor-department"]


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON here")


def load_json(body: bytes, url: str) -> dict:
    try:
        data = json.loads(body, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:  # RecursionError: 10,000-deep nesting
        raise ParseError(f"{url}: not valid JSON: {str(exc)[:120]}") from None
    if not isinstance(data, dict):
        raise ParseError(f"{url}: expected a JSON object, got {type(data).__name__}")
    return data


def is_paperwork(title: str, abstract: str) -> bool:
    return bool(_PAPERWORK.search(title) or _PAPERWORK.search(abstract))


def _field(doc: dict, key: str, kind: type, index: int, required: bool = True):
    value = doc.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, kind):
        raise ParseError(f"results[{index}].{key}: expected {kind.__name__}, got {type(value).__name__}")
    return value


def _date(doc: dict, key: str, index: int, required: bool = False) -> str | None:
    value = _field(doc, key, str, index, required)
    if value is None:
        return None
    if not _DATE.fullmatch(value):
        raise ParseError(f"results[{index}].{key}: '{value[:20]}' is not YYYY-MM-DD")
    try:
        date.fromisoformat(value)
    except ValueError:  # 2026-02-30, 0000-01-01
        raise ParseError(f"results[{index}].{key}: '{value}' is not a real date") from None
    return value


def cfr_references(doc: dict, index: int) -> list[str]:
    refs = []
    for ref in _field(doc, "cfr_references", list, index, required=False) or []:
        if isinstance(ref, dict) and ref.get("title") and ref.get("part"):
            refs.append(f"{ref['title']} CFR {ref['part']}")
    return refs


def agency_names(doc: dict, index: int) -> list[str]:
    return [a.get("name") or a.get("raw_name") for a in _field(doc, "agencies", list, index, required=False) or []
            if isinstance(a, dict) and (a.get("name") or a.get("raw_name"))]


def parse_document(doc: Any, index: int, source_id: str) -> Change:
    if not isinstance(doc, dict):
        raise ParseError(f"results[{index}]: expected an object")
    number = _field(doc, "document_number", str, index)
    title = _field(doc, "title", str, index)
    doc_type = _field(doc, "type", str, index)
    abstract = _field(doc, "abstract", str, index, required=False) or ""
    published = _date(doc, "publication_date", index, required=True)
    url = _field(doc, "html_url", str, index)
    facts = {
        "document_number": number, "type": doc_type, "action": _field(doc, "action", str, index, required=False),
        "effective_on": _date(doc, "effective_on", index), "comments_close_on": _date(doc, "comments_close_on", index),
        "cfr_references": cfr_references(doc, index), "agencies": agency_names(doc, index),
        "paperwork": is_paperwork(title, abstract),
    }
    return Change(source_id=source_id, item_key=number, kind=KINDS.get(doc_type, "document"),
                  title=clean_text(title, MAX_TITLE), summary=clean_text(abstract, MAX_SUMMARY), url=url,
                  published=datetime.fromisoformat(published).replace(tzinfo=timezone.utc), facts=facts)


class FederalRegisterSource(Source, kind="federal_register"):
    options = ("agencies", "types", "lookback_days", "max_pages", "per_page")

    def __init__(self, config):
        super().__init__(config)
        types = config.options.get("types", ["RULE", "PRORULE", "NOTICE"])
        unknown = set(types) - TYPE_CODES
        if unknown:
            raise ConfigError(f"sources.toml: source '{config.id}'.types: unknown filter codes "
                              f"{sorted(unknown)} (known: {sorted(TYPE_CODES)})")
        agencies = config.options.get("agencies", DEFAULT_AGENCIES)
        if not agencies or not all(isinstance(a, str) and a for a in agencies):
            raise ConfigError(f"sources.toml: source '{config.id}'.agencies: must be a non-empty list of slugs")
        self.agencies = list(agencies)

    def query_url(self, today: date) -> str:
        opts = self.config.options
        params = [("conditions[agencies][]", a) for a in self.agencies]
        params += [("conditions[type][]", t) for t in opts.get("types", ["RULE", "PRORULE", "NOTICE"])]
        since = today - timedelta(days=int(opts.get("lookback_days", 14)))
        params += [("conditions[publication_date][gte]", since.isoformat()), ("order", "newest"),
                   ("per_page", str(opts.get("per_page", 100)))]
        params += [("fields[]", f) for f in FIELDS]
        return f"{self.config.url}?{urlencode(params)}"

    def fetch(self, http: HttpClient, validators: Validators | None) -> Fetched:
        # No validators: the API sends none, and the query window moves with the date.
        return http.get(self.query_url(datetime.now(timezone.utc).date()), accept="application/json")

    def follow(self, http: HttpClient, fetched: Fetched) -> list[Fetched]:
        pages = [fetched]
        for _ in range(int(self.config.options.get("max_pages", 5)) - 1):
            next_url = load_json(pages[-1].body, pages[-1].url).get("next_page_url")
            if not next_url:
                break
            if not isinstance(next_url, str):
                raise ParseError(f"{pages[-1].url}: next_page_url is not a string")
            pages.append(http.get(next_url, accept="application/json"))
        return pages

    def parse(self, fetched: Fetched) -> list[Change]:
        data = load_json(fetched.body, fetched.url)
        count = data.get("count")
        results = data.get("results")
        if results is None and count == 0:
            return []  # the window holds no documents: a valid, empty answer
        if not isinstance(results, list):
            raise ParseError(f"{fetched.url}: no 'results' list in the response", broken=True)
        if not results and count:
            raise ParseError(f"{fetched.url}: count is {count} but results are empty", broken=True)
        if len(results) > MAX_ITEMS:
            raise ParseError(f"{fetched.url}: {len(results)} results, more than the {MAX_ITEMS} sanity limit")
        return each_item(results, lambda doc, i: parse_document(doc, i, self.config.id), "Federal Register documents")
