"""`eoir_policy`: EOIR's list of Policy Memoranda (https://www.justice.gov/eoir/eoir-policy-manual/memoranda-pm-list;
the Director's Memoranda list reads the same).

Each memorandum is one line: its number, a PDF link and its subject, "PM 25-29 (PDF) Cancellation of Director's
Memorandum 22-03". A line is recognised by that shape wherever it sits (paragraph, list item, table cell), not by
the page's classes. The number is the item's identity; the list gives no date, so none is guessed (the number's
first two digits are the fiscal year, not a day).

Many memoranda exist to cancel or reinstate earlier ones. What a memorandum cancels, reinstates or amends is read
from its subject into facts (`cancels: ["DM 22-03"]`), so the alert says which earlier guidance is no longer in
force, with that memorandum's subject when watcher stored it ("What it cancels: DM 22-03 (Administrative Closure)").
The cancelled memorandum leaves the list; its stored change gains a version saying by which (`cancelled_by`), and
the cancellation is announced once, on the memorandum that cancels it (pipeline._cancellations).

The page text is recorded (a stored copy of the page); its markup is not, so the source ships disabled until
`watcher parse eoir_policy` on a saved copy of the live page lists its memoranda.
"""

from __future__ import annotations

import re
from urllib.parse import urljoin

from bs4 import CData, NavigableString, Tag

from ..models import Change, Fetched
from .base import MAX_TITLE, Source, clean_text, each_item, html_soup, innermost, require_items, safe_link, spend

BASE = "https://www.justice.gov/"
# "PM 25-31 (PDF) Addendum ...": a comma after the number is a sentence about a memo ("PM 20-16, OCAHO Settlement
# Officer Program, has been incorporated ..."), not a line of the list.
_LINE = re.compile(r"^(?P<type>PM|DM|OPPM)\s*(?P<number>\d{2}-\d{2})\s*(?:\((?:PDF|pdf)[^)]*\)\s*)?[-–:]?\s*"
                   r"(?P<subject>[A-Z\"'“‘(].*)$")
_SPELLED = {"PM": "EOIR Policy Memorandum", "DM": "EOIR Director's Memorandum",
            "OPPM": "EOIR Operating Policies and Procedures Memorandum"}
_BLOCKS = ("p", "li", "td", "dd", "h2", "h3", "h4", "h5", "div")
_REFERENCE = {"operating policies and procedures memorand": "OPPM", "director's memorand": "DM",
              "director’s memorand": "DM", "policy memorand": "PM"}
_KIND = re.compile(r"(operating policies and procedures memorand|director[’']s memorand|policy memorand)[a-z]*",
                   re.IGNORECASE)
_NUMBER = re.compile(r"\b\d{2}-\d{2}\b")
_VERBS = (("cancels", re.compile(r"\b(?:cancell?ation|rescission|rescinding)\b", re.IGNORECASE)),
          ("reinstates", re.compile(r"\breinstate(?:ment|s)?\b", re.IGNORECASE)),
          ("amends", re.compile(r"\b(?:addendum|amendment)\b", re.IGNORECASE)))
_CLAUSE = re.compile(r"\s+and\s+(?=(?:reinstate|cancel|rescind|addendum|amend))", re.IGNORECASE)


def references(subject: str) -> dict[str, list[str]]:
    """{"cancels": ["DM 22-05"], "reinstates": ["PM 19-05", "PM 21-06", "PM 21-13"]} from a memorandum's subject."""
    found: dict[str, list[str]] = {}
    for clause in _CLAUSE.split(subject):
        verb = next((name for name, pattern in _VERBS if pattern.search(clause)), None)
        kind = _KIND.search(clause)
        if verb is None or kind is None:
            continue
        prefix = _REFERENCE[kind.group(1).lower()]
        found.setdefault(verb, []).extend(f"{prefix} {n}" for n in _NUMBER.findall(clause[kind.end():]))
    return {verb: numbers for verb, numbers in found.items() if numbers}


class EoirPolicySource(Source, kind="eoir_policy"):
    def parse(self, fetched: Fetched) -> list[Change]:
        soup = html_soup(fetched.body)
        base = fetched.url if fetched.url.startswith("https://www.justice.gov") else BASE
        # The innermost element holding a line: a <div> around a <p> holds the same text.
        lines = innermost([block for block in soup.find_all(_BLOCKS) if _is_line(block)])
        changes = each_item(lines, lambda block, _: self._memo(block, base), "memoranda")
        return require_items(changes, fetched, "memoranda")

    def _memo(self, block: Tag, base: str) -> Change | None:
        line = _LINE.match(_opening(block))
        link = block.find("a", href=True)
        if line is None or link is None:
            return None  # a sentence about a memorandum, not an entry of the list
        number = f"{line['type']} {line['number']}"
        subject = clean_text(line["subject"], MAX_TITLE)
        facts = {"number": number, "subject": subject, **references(subject)}
        # The title spells the number out as the page's own preamble does ("Policy Memoranda (PM)"): "EOIR Policy
        # Memorandum 25-29: ..." is what an attorney reads, and what the firm's relations (case_types.toml) recognise.
        # The list gives no summary, so none is made up.
        return Change(source_id=self.config.id, item_key=number, kind="eoir_policy_memo",
                      title=f"{_SPELLED[line['type']]} {line['number']}: {subject}", summary="",
                      url=safe_link(urljoin(base, link["href"])),
                      published=None, facts=facts)


def _opening(block: Tag, limit: int = 2 * MAX_TITLE) -> str:
    """The block's text as get_text(" ", strip=True) reads it, up to `limit` characters: a line is short, and a
    <div> around a whole page (or thousands of nested look-alikes) must not be read in full for each element."""
    parts, size, stack = [], 0, [iter(block.contents)]
    while stack and size < limit:
        node = next(stack[-1], None)
        if node is None:
            stack.pop()
        elif isinstance(node, Tag):
            stack.append(iter(node.contents))
        elif type(node) in (NavigableString, CData) and node.strip():
            parts.append(node.strip())
            size += len(parts[-1]) + 1
    return clean_text(" ".join(parts), limit)


def _is_line(block: Tag) -> bool:
    spend()  # a page of nested look-alike lines is refused within the parse budget
    return bool(_LINE.match(_opening(block)))
