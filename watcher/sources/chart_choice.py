"""`uscis_chart_choice`: the USCIS page that says which Visa Bulletin chart adjustment applicants use this month
("Adjustment of Status Filing Charts from the Visa Bulletin").

Each month USCIS says, per preference system, whether applicants filing Form I-485 use the Final Action Dates
chart or the Dates for Filing chart of that month's bulletin, in one sentence: "For all family-sponsored preference
categories, you must use the Dates for Filing chart in the Department of State Visa Bulletin for July 2026." That
sentence is what is read; headings and layout around it are not relied on. One change per bulletin month; a
revised choice for the same month is an update ("Family-sponsored: final action -> dates for filing").

No recording of the page itself was found in stored public pages or repositories: the test page holds the sentence
as a public page quotes it. The source ships disabled (config/sources.toml) until a firm has checked it against
the live page.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone


from ..errors import ParseError
from ..models import Change, Fetched
from ..meaning import plain
from .base import Source, html_soup, spend

_MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
           "november", "december"]
_CHOICE = re.compile(
    r"\bFor (?:all )?(?P<system>family[- ]sponsored|employment[- ]based)\b[^.]{0,200}?\bmust use the "
    r"(?P<chart>Dates for Filing|Final Action Dates?)\b[^.]{0,40}?\bcharts?\b[^.]{0,120}?\bVisa Bulletin for "
    r"(?P<month>" + "|".join(_MONTHS) + r")\s+(?P<year>\d{4})", re.IGNORECASE)
CHARTS = {"dates for filing": "dates_for_filing", "final action date": "final_action",
          "final action dates": "final_action"}
SHOWN = {"dates_for_filing": "Dates for Filing", "final_action": "Final Action Dates"}


def chart_choices(text: str) -> dict[str, dict[str, str]]:
    """{"2026-07": {"family": "dates_for_filing", "employment": "final_action"}} from the page's sentences."""
    found: dict[str, dict[str, str]] = {}
    for match in _CHOICE.finditer(text):
        spend()
        month = f"{match.group('year')}-{_MONTHS.index(match.group('month').lower()) + 1:02d}"
        system = "family" if match.group("system").lower().startswith("family") else "employment"
        found.setdefault(month, {})[system] = CHARTS[match.group("chart").lower()]
    return found


class ChartChoiceSource(Source, kind="uscis_chart_choice"):
    def parse(self, fetched: Fetched) -> list[Change]:
        text = plain(html_soup(fetched.body).get_text(" "))
        choices = chart_choices(text)
        if not choices:
            raise ParseError(f"{fetched.url}: no 'you must use the ... chart ... Visa Bulletin for <Month> <Year>' "
                             "sentence", broken=True)
        return [self._change(month, chosen, fetched.url) for month, chosen in sorted(choices.items())]

    def _change(self, month: str, chosen: dict[str, str], url: str) -> Change:
        # Both systems always in the facts (None when the page is silent): a sentence added later is a change.
        first_day = datetime.strptime(month, "%Y-%m").replace(tzinfo=timezone.utc)
        label = first_day.strftime("%B %Y")
        said = "; ".join(f"{'family-sponsored' if system == 'family' else 'employment-based'} applicants use the "
                         f"{SHOWN[chart]} chart" for system, chart in sorted(chosen.items(), reverse=True))
        return Change(source_id=self.config.id, item_key=month, kind="chart_choice",
                      title=f"Adjustment of status filing charts for {label}",
                      summary=f"USCIS: to file Form I-485 in {label}, {said} of the Visa Bulletin.",
                      url=url, published=first_day,
                      facts={"month": month, "family": SHOWN.get(chosen.get("family")),
                             "employment": SHOWN.get(chosen.get("employment"))})
