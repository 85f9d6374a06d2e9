"""Court decisions: `scotus` (the Supreme Court's slip opinions page) and `courtlistener` (the CourtListener
v4 search API for circuit and Supreme Court opinions matching an immigration query).

Every opinion is stored; matching decides which concern a case type, so an immigration ruling is never lost
to a narrow query, and the rest create no alert.
"""

from __future__ import annotations

import os
import re
from datetime import date, datetime, timedelta, timezone
from urllib.parse import urlencode, urljoin

from bs4 import Tag

from ..credentials import read_secret
from ..errors import ParseError
from ..http import HttpClient
from ..models import Change, Fetched, Validators
from .base import MAX_SUMMARY, MAX_TITLE, Source, clean_text, each_item, html_soup, require_items, spend
from .federal_register import load_json

SCOTUS = "https://www.supremecourt.gov/"
COURTLISTENER = "https://www.courtlistener.com/"
CIRCUITS = "scotus ca1 ca2 ca3 ca4 ca5 ca6 ca7 ca8 ca9 ca10 ca11 cadc"
QUERY = 'immigration OR asylum OR removal OR deportation OR "Immigration and Nationality Act"'


def term_of(day: date) -> int:
    """The Court's term starts on the first Monday of October; its slip opinions page is named by that year."""
    return day.year if day.month >= 10 else day.year - 1


def _slip_row(row: Tag, base: str) -> dict | None:
    cells = row.find_all("td")
    link = row.find("a", href=True)
    if len(cells) < 6 or link is None:
        return None
    number, decided, docket, _name, justice, citation = (c.get_text(" ", strip=True) for c in cells[:6])
    try:
        decided_on = datetime.strptime(decided, "%m/%d/%y").replace(tzinfo=timezone.utc)
    except ValueError:
        raise ParseError(f"slip opinion '{docket}': date '{decided}' is not M/D/YY") from None
    return {"number": number, "decided": decided_on, "docket": docket, "name": link.get_text(" ", strip=True),
            "justice": justice, "citation": citation, "pdf": urljoin(base, link["href"])}


class ScotusSource(Source, kind="scotus"):
    """The configured URL is the slipopinion folder; the current term's two-digit year is appended."""

    def fetch(self, http: HttpClient, validators: Validators | None) -> Fetched:
        url = self.config.url
        if not re.search(r"/\d{2}/?$", url):
            url = url.rstrip("/") + f"/{term_of(datetime.now(timezone.utc).date()) % 100:02d}"
        return http.get(url, validators, accept="text/html")

    def parse(self, fetched: Fetched) -> list[Change]:
        soup = html_soup(fetched.body)
        base = fetched.url if fetched.url.startswith(SCOTUS) else SCOTUS
        rows = []
        for table in soup.find_all("table"):
            spend()
            header = [c.get_text(" ", strip=True) for c in (table.find("tr") or table).find_all(["th", "td"])]
            if "Docket" in header and "Name" in header:
                rows += table.find_all("tr")[1:]
        changes = each_item(rows, lambda row, _: self._slip_opinion(row, base), "slip opinions")
        return require_items(changes, fetched, "slip opinions")

    def _slip_opinion(self, row: Tag, base: str) -> Change | None:
        opinion = _slip_row(row, base)
        if opinion is None:
            return None
        return Change(
            source_id=self.config.id, item_key=opinion["docket"], kind="court_opinion",
            title=clean_text(f"{opinion['name']} ({opinion['docket']})", MAX_TITLE),
            summary=clean_text(f"Supreme Court opinion by {opinion['justice']}, decided "
                               f"{opinion['decided']:%B %d, %Y}. {opinion['citation']}", MAX_SUMMARY),
            url=opinion["pdf"], published=opinion["decided"],
            facts={"court": "scotus", "docket": opinion["docket"], "citation": opinion["citation"],
                   "justice": opinion["justice"], "release": opinion["number"]})


class CourtListenerSource(Source, kind="courtlistener"):
    """Options: `query`, `courts` (space-separated ids), `lookback_days`, `max_pages`, and the API token as
    `token_env` or `token_credential` (without one, the anonymous rate limit applies)."""

    options = ("query", "courts", "lookback_days", "max_pages", "token_env", "token_credential")

    def query_url(self, today: date) -> str:
        opts = self.config.options
        since = today - timedelta(days=int(opts.get("lookback_days", 14)))
        params = {"type": "o", "q": opts.get("query", QUERY), "court": opts.get("courts", CIRCUITS),
                  "filed_after": since.isoformat(), "order_by": "dateFiled desc"}
        return f"{self.config.url}?{urlencode(params)}"

    def _auth(self) -> dict[str, str]:
        opts = self.config.options
        if not (opts.get("token_env") or opts.get("token_credential")):
            return {}
        token = read_secret(f"sources.toml: source '{self.config.id}'", env=opts.get("token_env"),
                            credential=opts.get("token_credential"), environ=os.environ)
        return {"Authorization": f"Token {token}"}

    def fetch(self, http: HttpClient, validators: Validators | None) -> Fetched:
        return http.get(self.query_url(datetime.now(timezone.utc).date()), accept="application/json",
                        headers=self._auth())

    def follow(self, http: HttpClient, fetched: Fetched) -> list[Fetched]:
        # Two pages at most by default: a 14-day window of immigration opinions fits, and the free tier's
        # hourly budget is spent on nothing else.
        pages = [fetched]
        for _ in range(int(self.config.options.get("max_pages", 2)) - 1):
            next_url = load_json(pages[-1].body, pages[-1].url).get("next")
            if not isinstance(next_url, str) or not next_url:
                break
            pages.append(http.get(next_url, accept="application/json", headers=self._auth()))
        return pages

    def parse(self, fetched: Fetched) -> list[Change]:
        data = load_json(fetched.body, fetched.url)
        results = data.get("results")
        if not isinstance(results, list):
            raise ParseError(f"{fetched.url}: no 'results' list in the response", broken=True)
        return each_item(results, self._opinion, "CourtListener results")

    def _opinion(self, result, index: int) -> Change:
        if not isinstance(result, dict):
            raise ParseError(f"results[{index}]: expected an object")
        cluster, name, filed, url = (result.get(k) for k in ("cluster_id", "caseName", "dateFiled", "absolute_url"))
        if not isinstance(cluster, int) or not isinstance(name, str) or not isinstance(url, str) \
                or not isinstance(filed, str):
            raise ParseError(f"results[{index}]: cluster_id, caseName, dateFiled and absolute_url are required")
        try:
            filed_on = datetime.combine(date.fromisoformat(filed[:10]), datetime.min.time(), timezone.utc)
        except ValueError:
            raise ParseError(f"results[{index}].dateFiled: '{filed[:20]}' is not a date") from None
        opinions = result.get("opinions") if isinstance(result.get("opinions"), list) else []
        snippet = next((o.get("snippet") for o in opinions if isinstance(o, dict) and o.get("snippet")), "")
        court = str(result.get("court") or result.get("court_id") or "")
        citations = [c for c in result.get("citation") or [] if isinstance(c, str)]
        return Change(source_id=self.config.id, item_key=f"cluster:{cluster}", kind="court_opinion",
                      title=clean_text(f"{name} ({court})", MAX_TITLE),
                      summary=clean_text(re.sub(r"<[^>]+>", "", snippet), MAX_SUMMARY),
                      url=urljoin(COURTLISTENER, url), published=filed_on,
                      facts={"court": result.get("court_id") or court, "docket": result.get("docketNumber"),
                             "citation": citations})
