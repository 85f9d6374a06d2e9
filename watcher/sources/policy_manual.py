"""`uscis_policy_manual`: the USCIS Policy Manual updates page (https://www.uscis.gov/policy-manual/updates).

Each update (a `.pm-updates` block in a `views-row`) holds USCIS's own label ("POLICY ALERT - ..." or "Technical Update - ..."), a <time
datetime>, a summary, for policy alerts a date-stamped PDF, and the affected sections ("1 USCIS-PM D.1").
The label is kept as the kind: a policy alert changes adjudication guidance, a technical update says it
does not. The page publishes no effective date, so none is guessed from the prose.
"""

from __future__ import annotations

import re
from urllib.parse import urljoin

from bs4 import Tag

from ..models import Change, Fetched
from .base import MAX_SUMMARY, MAX_TITLE, Source, clean_text, each_item, html_soup, iso_time, require_items, safe_link

BASE = "https://www.uscis.gov/"
_LABEL = re.compile(r"^\s*(policy alert|technical update)\s*[-–]\s*", re.IGNORECASE)
_VOLUME = re.compile(r"^(\d+)\s+USCIS-PM\b")


def _sections(row: Tag) -> list[dict]:
    sections = []
    for link in row.select("p.affected-sections a[href]"):
        citation = link.select_one(".citation")
        cite = clean_text(citation.get_text(" ", strip=True) if citation else "", 60)
        volume = _VOLUME.match(cite)
        sections.append({"citation": cite, "title": clean_text(link.get_text(" ", strip=True).split(" - ", 1)[-1], 200),
                         "url": safe_link(urljoin(BASE, link["href"])),
                         "volume": int(volume.group(1)) if volume else None})
    return sections


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:80]


class PolicyManualSource(Source, kind="uscis_policy_manual"):
    def parse(self, fetched: Fetched) -> list[Change]:
        soup = html_soup(fetched.body)
        # Iterate the .pm-updates blocks, not views-row: a row left unclosed would otherwise swallow the next.
        changes = each_item(soup.select("div.pm-updates"), lambda row, _: self._update(row, fetched.url),
                            "Policy Manual updates")
        return require_items(changes, fetched, "Policy Manual updates")

    def _update(self, row: Tag, page_url: str) -> Change | None:
        header = row.select_one(".pm-resource__update_header")
        label = _LABEL.match(header.get_text(" ", strip=True)) if header else None
        if label is None:
            return None
        kind = "policy_alert" if label.group(1).lower() == "policy alert" else "technical_update"
        title = clean_text(header.get_text(" ", strip=True)[label.end():], MAX_TITLE)
        published = iso_time(row.select_one("time[datetime]"))
        body = row.select_one(".field--name-body")
        pdf = row.select_one('a[href$=".pdf"]')
        pdf_url = urljoin(BASE, pdf["href"]) if pdf else None
        # A policy alert's PDF is date-stamped and stable; a technical update has none.
        key = pdf_url or f"{published.date() if published else 'undated'}:{_slug(title)}"
        sections = _sections(row)
        return Change(
            source_id=self.config.id, item_key=key, kind=kind,
            title=("POLICY ALERT: " if kind == "policy_alert" else "Technical Update: ") + title,
            summary=clean_text(body.get_text(" ", strip=True) if body else "", MAX_SUMMARY),
            url=pdf_url or page_url, published=published,
            facts={"label": kind, "affected_sections": sections,
                   "volumes": sorted({s["volume"] for s in sections if s["volume"]})})
