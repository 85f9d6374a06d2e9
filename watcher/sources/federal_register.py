"""`federal_register`: the Federal Register documents.json API.

Options: `agencies` (slugs), `types` (filter codes RULE, PRORULE, NOTICE, PRESDOCU: note they differ from the
`type` strings returned, "Rule", "Proposed Rule", ...), `lookback_days`, `max_pages`, `public_inspection`. The API
sends no validators, so every poll is a 200; identity is the document number and unchanged documents create nothing.
Most USCIS documents are paperwork (information collection) notices; they are marked so matching and alerts
can treat them as low-signal.

Public inspection (`public_inspection = true`): every document is filed for public inspection at least the business
day before it publishes. The desk's current documents (public-inspection-documents/current.json, documented format;
no recorded response was found, so the test page is typed from the API documentation) of the watched agencies and
types become changes under the same document number, marked "on public inspection, publishes YYYY-MM-DD". When the
document publishes, the documents query brings it back under that number: an update with its citation and abstract,
never a second new item.
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
          "comments_close_on", "cfr_references", "agencies", "html_url", "dates", "citation",
          "subtype", "signing_date", "executive_order_number", "proclamation_number"]
# Presidential documents are signed by the President, not filed by an agency: they are asked for on their own, by
# subject words, since the agency filter would leave them out. The API's search syntax takes "|" for "or".
PRESIDENTIAL_TERMS = "immigrants | nonimmigrants | immigration | visa | visas | asylum | refugees | aliens"
PRESIDENTIAL_TYPES = ["proclamation", "executive_order", "memorandum", "determination", "notice"]
TYPE_NAMES = {"RULE": "Rule", "PRORULE": "Proposed Rule", "NOTICE": "Notice", "PRESDOCU": "Presidential Document"}
INSPECTION_PATH = "public-inspection-documents/current.json"
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
    doc_type = _doc_type(doc, index)
    abstract = _field(doc, "abstract", str, index, required=False) or ""
    published = _date(doc, "publication_date", index, required=True)
    url = _field(doc, "html_url", str, index)
    facts = {
        "document_number": number, "type": doc_type, "action": _field(doc, "action", str, index, required=False),
        "effective_on": _date(doc, "effective_on", index), "comments_close_on": _date(doc, "comments_close_on", index),
        "cfr_references": cfr_references(doc, index), "agencies": agency_names(doc, index),
        "paperwork": is_paperwork(title, abstract), "citation": _field(doc, "citation", str, index, required=False),
    }
    if doc_type == "Presidential Document":
        facts.update(presidential_facts(doc, index))
        if abstract.strip().rstrip(".").lower() == "no summary provided":
            abstract = ""  # what the API says of most presidential documents: not a summary
    return Change(source_id=source_id, item_key=number, kind=KINDS.get(doc_type, "document"),
                  title=clean_text(title, MAX_TITLE), summary=clean_text(abstract, MAX_SUMMARY), url=url,
                  published=datetime.fromisoformat(published).replace(tzinfo=timezone.utc), facts=facts)


def _doc_type(doc: dict, index: int) -> str:
    """The document's type; a presidential query answered without the `type` field is still recognised by the
    fields only a presidential document has (its signing date and its President)."""
    if doc.get("type") is None and isinstance(doc.get("subtype"), str) and (doc.get("signing_date")
                                                                          or doc.get("president")):
        return "Presidential Document"
    return _field(doc, "type", str, index)


def presidential_facts(doc: dict, index: int) -> dict:
    """What a lawyer cites a presidential document by: its kind, number and signing date."""
    subtype = _field(doc, "subtype", str, index, required=False) or ""
    number = next((str(doc[k]) for k in ("proclamation_number", "executive_order_number")
                   if isinstance(doc.get(k), (str, int)) and str(doc[k]).strip()), None)
    return {"presidential_document_type": subtype, "presidential_number": number,
            "signing_date": _date(doc, "signing_date", index)}


def _filed_at(doc: dict, index: int) -> datetime:
    value = _field(doc, "filed_at", str, index)
    try:
        filed = datetime.fromisoformat(value)
    except ValueError:
        raise ParseError(f"results[{index}].filed_at: '{value[:40]}' is not an ISO date and time") from None
    if filed.tzinfo is None:
        raise ParseError(f"results[{index}].filed_at: '{value[:40]}' has no UTC offset")
    return filed.astimezone(timezone.utc)


def parse_inspection(doc: Any, index: int, source_id: str) -> Change:
    """A document on the public inspection desk: what it is, who filed it, when it publishes. It has no abstract
    yet; the published version brings one, with its citation."""
    if not isinstance(doc, dict):
        raise ParseError(f"results[{index}]: expected an object")
    number = _field(doc, "document_number", str, index)
    title = _field(doc, "title", str, index, required=False) or _field(doc, "toc_doc", str, index, required=False) \
        or ""
    if not title.strip():
        raise ParseError(f"results[{index}]: no title")
    doc_type = _field(doc, "type", str, index)
    publishes = _date(doc, "publication_date", index, required=True)
    note = _field(doc, "editorial_note", str, index, required=False) or ""
    filed = _filed_at(doc, index)
    facts = {
        "document_number": number, "type": doc_type, "action": None, "effective_on": None, "comments_close_on": None,
        "cfr_references": [], "agencies": agency_names(doc, index), "paperwork": is_paperwork(title, ""),
        "citation": None, "public_inspection": True, "publishes_on": publishes,
        "filed_at": filed.isoformat(), "filing_type": doc.get("filing_type") or "",
        "pdf": _field(doc, "pdf_url", str, index, required=False),
    }
    return Change(source_id=source_id, item_key=number, kind=KINDS.get(doc_type, "document"),
                  title=clean_text(title, MAX_TITLE), summary=clean_text(note, MAX_SUMMARY),
                  url=_field(doc, "html_url", str, index), published=filed, facts=facts)


def agency_slugs(doc: Any) -> set[str]:
    agencies = doc.get("agencies") if isinstance(doc, dict) else None
    return {a.get("slug") for a in agencies or [] if isinstance(a, dict) and isinstance(a.get("slug"), str)}


def _switch(config, name: str) -> bool:
    value = config.options.get(name, False)
    if not isinstance(value, bool):
        raise ConfigError(f"sources.toml: source '{config.id}'.{name}: must be true or false")
    return value


class FederalRegisterSource(Source, kind="federal_register"):
    options = ("agencies", "types", "lookback_days", "max_pages", "per_page", "public_inspection", "presidential")

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
        self.inspection = _switch(config, "public_inspection")
        self.presidential = _switch(config, "presidential")
        self.type_names = {TYPE_NAMES[t] for t in types}

    def inspection_url(self) -> str:
        """The desk's current documents, beside the documents query: .../api/v1/public-inspection-documents/..."""
        return self.config.url.rsplit("/", 1)[0] + "/" + INSPECTION_PATH

    def query_url(self, today: date) -> str:
        params = [("conditions[agencies][]", a) for a in self.agencies]
        params += [("conditions[type][]", t) for t in self.config.options.get("types", ["RULE", "PRORULE", "NOTICE"])]
        return self._windowed(params, today)

    def presidential_url(self, today: date) -> str:
        """Proclamations, executive orders and memoranda on immigration published in the same window."""
        params = [("conditions[type][]", "PRESDOCU"), ("conditions[term]", PRESIDENTIAL_TERMS)]
        params += [("conditions[presidential_document_type][]", t) for t in PRESIDENTIAL_TYPES]
        return self._windowed(params, today)

    def _windowed(self, conditions: list[tuple[str, str]], today: date) -> str:
        """A documents query: the conditions, published within `lookback_days`, newest first, our fields."""
        opts = self.config.options
        since = today - timedelta(days=int(opts.get("lookback_days", 14)))
        params = conditions + [("conditions[publication_date][gte]", since.isoformat()), ("order", "newest"),
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
        if self.presidential:
            pages.append(http.get(self.presidential_url(datetime.now(timezone.utc).date()), accept="application/json"))
        if self.inspection:  # after the published documents: where a number is in both, the published one counts
            pages.append(http.get(self.inspection_url(), accept="application/json"))
        return pages

    def collect(self, documents, **budget) -> list[Change]:
        """A document published this morning may still be listed on the desk: the published version is the one
        kept (an expected overlap, not a repeated key)."""
        desk = [d for d in documents if d.url.endswith(INSPECTION_PATH)]
        changes = super().collect([d for d in documents if d not in desk], **budget)
        if not desk:
            return changes
        published = {c.item_key for c in changes}
        return changes + [c for c in super().collect(desk, **budget) if c.item_key not in published]

    def relate(self, changes: list[Change], previous) -> list[Change]:
        """A document stored as published is never taken back to "on public inspection" (a desk page that still
        lists the morning's documents)."""
        def regresses(change: Change) -> bool:
            before = previous(change.item_key) if change.facts.get("public_inspection") else None
            return before is not None and not before.get("public_inspection")

        return [c for c in changes if not regresses(c)]

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
        if fetched.url.endswith(INSPECTION_PATH):
            # The whole desk, every agency: only the watched agencies' documents of the watched types.
            watched = [(i, doc) for i, doc in enumerate(results) if agency_slugs(doc) & set(self.agencies)
                       and isinstance(doc, dict) and doc.get("type") in self.type_names]
            return each_item(watched, lambda pair, _: parse_inspection(pair[1], pair[0], self.config.id),
                             "public inspection documents")
        return each_item(results, lambda doc, i: parse_document(doc, i, self.config.id), "Federal Register documents")
