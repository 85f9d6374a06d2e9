"""Briefing agendas a training coordinator runs a meeting from as they are: pure composition from the alerted
changes and open tasks, rendered as Markdown, HTML, plain text, or an iCalendar invite.

Each item says what it is (document type and agency), what it says (its own first two sentences), its key dates
with the days left, the case types it reaches and the open matters of each, why (the evidence), and its training
tasks with their status. Items are grouped by case type (each change discussed once, under the type with the most
open matters) or by team, ordered by urgency and then by open matters, with minutes allotted by urgency.

The invite is for a meeting inside the period it covers, in the firm's time zone (a VTIMEZONE and TZID, not UTC),
with a plain-text description, the HTML agenda attached, and the organizer and attendees from the config.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta, timezone
from html import escape
from typing import Mapping, Sequence
from zoneinfo import ZoneInfo

from ..store.tasks import AlertedChange, StoredTask
from .lawyer import describe, gist, key_dates
from .render import link

MINUTES = {"URGENT": 10, "ACTION": 5, "INFO": 2}
RANK = {"URGENT": 0, "ACTION": 1, "INFO": 2}
WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


@dataclass(frozen=True)
class AgendaItem:
    title: str
    url: str
    urgency: str
    minutes: int
    document: str                      # "Federal Register final rule, U.S. Citizenship and Immigration Services"
    summary: str                       # the item's own first two sentences
    dates: tuple[str, ...]             # "Effective: 2026-12-18 (in 21 days)"
    case_types: tuple[str, ...]        # every type it reaches, the section's first
    matters: tuple[tuple[str, int], ...]  # open matters per case type reached
    why: str
    tasks: tuple[tuple[str, str, str], ...]  # (team, status, due)
    note: str = ""        # the coordinator's, from the agenda builder
    presenter: str = ""
    change_id: int = 0

    @property
    def also(self) -> tuple[str, ...]:
        return self.case_types[1:]


@dataclass(frozen=True)
class Agenda:
    start: date
    end: date
    team: str | None
    sections: tuple[tuple[str, tuple[AgendaItem, ...]], ...]
    tasks: tuple[StoredTask, ...]
    group: str = "case_type"

    @property
    def minutes(self) -> int:
        """Each change once, even when grouped under several teams; two minutes per open task."""
        unique = {(i.title, i.url): i.minutes for _, items in self.sections for i in items}
        return sum(unique.values()) + 2 * len(self.tasks)


def build_agenda(changes: Sequence[AlertedChange], tasks: Sequence[StoredTask], open_matters: Mapping[str, int],
                 start: date, end: date, team: str | None = None, team_case_types: set[str] | None = None,
                 group: str = "case_type", teams_by_type: Mapping[str, set[str]] | None = None) -> Agenda:
    """`teams_by_type`: case type -> teams with open matters of it (grouping by team)."""
    grouped: dict[str, list[AgendaItem]] = {}
    for change in changes:
        codes = [c for c in change.case_types or ("Other",) if team_case_types is None or c in team_case_types]
        if not codes:
            continue
        codes.sort(key=lambda c: (-open_matters.get(c, 0), c))
        item = _item(change, codes, open_matters, end)
        if group == "team":
            teams = sorted({t for c in codes for t in (teams_by_type or {}).get(c, ())}) or ["all teams"]
            for name in ([team] if team else teams):
                grouped.setdefault(name, []).append(item)
        else:  # discussed once, under the case type with the most open matters; the others are named beside it
            grouped.setdefault(codes[0], []).append(item)

    def section_key(entry):
        name, items = entry
        return (min(RANK[i.urgency] for i in items), -sum(n for i in items for _, n in i.matters[:1]), name)
    sections = tuple((name, tuple(sorted(items, key=lambda i: (RANK[i.urgency], i.title))))
                     for name, items in sorted(grouped.items(), key=section_key))
    return Agenda(start, end, team, sections, tuple(tasks), group)


def _item(change: AlertedChange, codes: list[str], open_matters: Mapping[str, int], end: date) -> AgendaItem:
    doc_type, agency = describe(change.kind, change.facts)
    return AgendaItem(
        title=change.title, url=change.url, urgency=change.urgency, minutes=MINUTES[change.urgency],
        document=f"{doc_type}, {agency}", summary=gist(change.summary),
        dates=tuple(d.text() for d in key_dates(change.facts, end)), case_types=tuple(codes),
        matters=tuple((c, open_matters.get(c, 0)) for c in codes), why=change.rationale, tasks=change.tasks,
        change_id=change.change_id)


@dataclass(frozen=True)
class Planned:
    """One line of an agenda the coordinator arranged (the web page's agenda builder)."""

    change_id: int
    minutes: int
    note: str = ""
    presenter: str = ""


def arranged_agenda(changes: Sequence[AlertedChange], plan: Sequence[Planned], tasks: Sequence[StoredTask],
                    open_matters: Mapping[str, int], start: date, end: date, team: str | None = None,
                    title: str = "Agenda") -> Agenda:
    """The coordinator's agenda: the planned changes in the planned order, one section, their minutes and notes."""
    by_id = {c.change_id: c for c in changes}
    items = []
    for line in plan:
        change = by_id.get(line.change_id)
        if change is None:
            continue
        codes = sorted(change.case_types or ("Other",), key=lambda c: (-open_matters.get(c, 0), c))
        items.append(replace(_item(change, codes, open_matters, end), minutes=line.minutes, note=line.note,
                             presenter=line.presenter))
    return Agenda(start, end, team, ((title, tuple(items)),) if items else (), tuple(tasks), "arranged")


def _matters_text(item: AgendaItem) -> str:
    return ", ".join(f"{code} {n}" for code, n in item.matters)


def _tasks_text(item: AgendaItem) -> str:
    return "; ".join(f"{team}: {status}, due {due}" for team, status, due in item.tasks) or "none"


def _details(item: AgendaItem) -> list[tuple[str, str]]:
    """What every format shows under an item's title, as (label, value), empty values left out."""
    rows = [("What it says", item.summary), ("Dates", "; ".join(item.dates)),
            ("Reaches", f"{', '.join(item.case_types)} (open matters: {_matters_text(item)})"), ("Why", item.why),
            ("Presenter", item.presenter), ("Note", item.note), ("Training tasks", _tasks_text(item))]
    return [(label, value) for label, value in rows if value]


def _heading(agenda: Agenda, name: str, items: Sequence[AgendaItem]) -> str:
    if agenda.group == "team":
        return f"Team {name}"
    if agenda.group == "arranged":
        return name
    matters = items[0].matters[0][1] if items[0].matters else 0
    return f"{name} ({matters} open matter{'s' if matters != 1 else ''})"


def render_text(agenda: Agenda, meeting: datetime | None = None) -> str:
    """Plain text, no markup: the invite's description, and the agenda e-mail's text part."""
    scope = f" for team {agenda.team}" if agenda.team else ""
    lines = [f"Policy briefing{scope}: {agenda.start} to {agenda.end}"]
    if meeting:
        lines.append(f"Meeting: {meeting:%A %Y-%m-%d %H:%M} {meeting.tzinfo}")
    lines += [f"About {agenda.minutes} minutes.", ""]
    if not agenda.sections:
        lines += ["No alerted changes in this period.", ""]
    number = 0
    for name, items in agenda.sections:
        lines += [_heading(agenda, name, items), ""]
        for item in items:
            number += 1
            lines += [f"{number}. {item.urgency} ({item.minutes} min): {item.title}", f"   {item.document}"]
            lines += [f"   {label}: {value}" for label, value in _details(item)]
            lines += [f"   Link: {item.url}", ""]
    lines.append("Open training tasks")
    lines += [f"- #{t.id} {t.task.title} ({t.task.team}, due {t.task.due}, {t.status})" for t in agenda.tasks] \
        or ["- none"]
    return "\n".join(lines) + "\n"


def render_markdown(agenda: Agenda, meeting: datetime | None = None) -> str:
    scope = f" for team {agenda.team}" if agenda.team else ""
    lines = [f"# Policy briefing{scope}: {agenda.start} to {agenda.end}", ""]
    if meeting:
        lines += [f"Meeting: {meeting:%A %Y-%m-%d %H:%M} {meeting.tzinfo}", ""]
    lines += [f"About {agenda.minutes} minutes.", ""]
    if not agenda.sections:
        lines += ["No alerted changes in this period.", ""]
    for name, items in agenda.sections:
        lines += [f"## {_heading(agenda, name, items)}", ""]
        for item in items:
            also = f" (also {', '.join(item.also)})" if item.also else ""
            lines.append(f"- **{item.urgency}** ({item.minutes} min) [{item.title}]({item.url}){also}")
            lines.append(f"  - {item.document}")
            lines += [f"  - {label.lower()}: {value}" for label, value in _details(item)]
        lines.append("")
    lines.append("## Open training tasks")
    lines += [f"- [ ] #{t.id} {t.task.title} ({t.task.team}, due {t.task.due}, {t.status})" for t in agenda.tasks] \
        or ["- none"]
    return "\n".join(lines) + "\n"


def render_html(agenda: Agenda, meeting: datetime | None = None) -> str:
    colour = {"URGENT": "#b00020", "ACTION": "#b35c00", "INFO": "#33691e"}
    scope = f" for team {escape(agenda.team)}" if agenda.team else ""
    when = f" &middot; meeting {escape(f'{meeting:%A %Y-%m-%d %H:%M} {meeting.tzinfo}')}" if meeting else ""
    parts = ["<!doctype html><html><head><meta charset='utf-8'><title>Policy briefing</title>",
             "<style>body{font-family:sans-serif;max-width:52em;margin:2em auto;line-height:1.4}"
             "h2{border-bottom:1px solid #ccc}.u{font-weight:bold}.d{color:#555;font-size:90%}</style></head><body>",
             f"<h1>Policy briefing{scope}</h1><p>{agenda.start} to {agenda.end}{when} &middot; "
             f"about {agenda.minutes} minutes</p>"]
    if not agenda.sections:
        parts.append("<p>No alerted changes in this period.</p>")
    for name, items in agenda.sections:
        parts.append(f"<h2>{escape(_heading(agenda, name, items))}</h2><ol>")
        for item in items:
            details = [escape(item.document)]
            details += [f"<i>{escape(label)}:</i> {escape(value)}" for label, value in _details(item)]
            parts.append(f"<li><span class='u' style='color:{colour[item.urgency]}'>{item.urgency}</span> "
                         f"({item.minutes} min) {link(item.url, item.title)}"
                         + "".join(f"<div class='d'>{d}</div>" for d in details) + "</li>")
        parts.append("</ol>")
    parts.append("<h2>Open training tasks</h2><ul>")
    parts += [f"<li>#{t.id} {escape(t.task.title)} ({escape(t.task.team)}, due {escape(t.task.due)}, {t.status})</li>"
              for t in agenda.tasks] or ["<li>none</li>"]
    parts.append("</ul></body></html>")
    return "".join(parts)


def meeting_start(meeting: str, start: date, end: date, zone: str) -> datetime:
    """The briefing inside the period it covers: the last `meeting` weekday ("mon 15:00", local time in `zone`) on
    or before `end` and not before `start`; the period's last day when the weekday is not in it."""
    weekday, clock = meeting.split()
    hour, minute = (int(x) for x in clock.split(":"))
    day = end - timedelta(days=(end.weekday() - WEEKDAYS.index(weekday)) % 7)
    if day < start:
        day = end
    return datetime.combine(day, time(hour, minute), tzinfo=ZoneInfo(zone))


def render_ics(agenda: Agenda, meeting: str, zone: str = "America/New_York", organizer: str | None = None,
               attendees: Sequence[str] = (), uid_host: str = "watcher.local",
               now: datetime | None = None) -> bytes:
    from icalendar import Calendar, Event, vCalAddress, vText

    start = meeting_start(meeting, agenda.start, agenda.end, zone)
    calendar = Calendar()
    calendar.add("prodid", "-//watcher//policy briefing//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "REQUEST" if attendees else "PUBLISH")
    event = Event()
    event.add("uid", f"briefing-{agenda.start}-{agenda.end}-{agenda.team or 'all'}@{uid_host}")
    event.add("dtstamp", now or datetime.now(timezone.utc))
    event.add("dtstart", start)
    event.add("dtend", start + timedelta(minutes=max(agenda.minutes, 15)))
    scope = f" ({agenda.team})" if agenda.team else ""
    event.add("summary", f"Policy briefing{scope}: {agenda.start} to {agenda.end}")
    event.add("description", render_text(agenda, start))
    # The formatted agenda travels with the invite: an attachment every client keeps, and X-ALT-DESC, which
    # Outlook shows in place of the plain description.
    html = render_html(agenda, start)
    event.add("x-alt-desc", html, parameters={"FMTTYPE": "text/html"})
    event.add("attach", base64.b64encode(html.encode()).decode(),
              parameters={"FMTTYPE": "text/html", "ENCODING": "BASE64", "VALUE": "BINARY",
                          "X-FILENAME": "briefing.html"})
    if organizer:
        event.add("organizer", vCalAddress(f"mailto:{organizer}"), parameters={"CN": vText("Training coordinator")})
    for address in attendees:
        event.add("attendee", vCalAddress(f"mailto:{address}"),
                  parameters={"ROLE": "REQ-PARTICIPANT", "PARTSTAT": "NEEDS-ACTION", "RSVP": "TRUE"})
    calendar.add_component(event)
    calendar.add_missing_timezones()
    return calendar.to_ical()


def render_calendar(team: str, dated: Sequence, now: datetime | None = None, uid_host: str = "watcher.local") -> bytes:
    """A team's living calendar: one all-day event per dated change (effective date, comment deadline). The UID is
    the change's and the field's, and SEQUENCE counts how often the date moved, so a delay moves the entry in
    Outlook and Google Calendar instead of adding a second one."""
    from icalendar import Calendar, Event

    labels = {"effective_on": "Effective", "comments_close_on": "Comments close"}
    calendar = Calendar()
    calendar.add("prodid", "-//watcher//policy dates//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", f"Immigration policy dates ({team})")
    for item in dated:
        event = Event()
        event.add("uid", f"change-{item.change_id}-{item.field}@{uid_host}")
        event.add("sequence", item.sequence)
        event.add("dtstamp", now or datetime.now(timezone.utc))
        day = date.fromisoformat(item.day)
        event.add("dtstart", day)
        event.add("dtend", day + timedelta(days=1))
        event.add("summary", f"{labels[item.field]}: {item.title}"[:250])
        event.add("description", f"{', '.join(item.case_types)}. {item.url}")
        if item.url.startswith(("https://", "http://")):
            event.add("url", item.url)
        calendar.add_component(event)
    return calendar.to_ical()
