"""Briefing agendas: pure composition from the alerted changes and open tasks, rendered as Markdown, HTML or
an iCalendar invite that imports into Outlook and Google Calendar.

Items are grouped by case type, ordered by urgency and then by how many open matters the type has, with
minutes allotted by urgency, so a training coordinator can run the meeting from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from html import escape
from typing import Mapping, Sequence

from ..store.tasks import AlertedChange, StoredTask
from .render import link

MINUTES = {"URGENT": 10, "ACTION": 5, "INFO": 2}
RANK = {"URGENT": 0, "ACTION": 1, "INFO": 2}
WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


@dataclass(frozen=True)
class AgendaItem:
    case_type: str
    title: str
    url: str
    urgency: str
    minutes: int
    open_matters: int
    why: str
    also: tuple[str, ...] = ()  # the other case types it matters to (each change is discussed once)


@dataclass(frozen=True)
class Agenda:
    start: date
    end: date
    team: str | None
    sections: tuple[tuple[str, tuple[AgendaItem, ...]], ...]
    tasks: tuple[StoredTask, ...]

    @property
    def minutes(self) -> int:
        return sum(i.minutes for _, items in self.sections for i in items) + 2 * len(self.tasks)


def build_agenda(changes: Sequence[AlertedChange], tasks: Sequence[StoredTask], open_matters: Mapping[str, int],
                 start: date, end: date, team: str | None = None, team_case_types: set[str] | None = None) -> Agenda:
    grouped: dict[str, list[AgendaItem]] = {}
    for change in changes:
        codes = [c for c in change.case_types or ("Other",) if team_case_types is None or c in team_case_types]
        if not codes:
            continue
        # Discussed once, under the case type with the most open matters; the others are named beside it.
        primary = sorted(codes, key=lambda c: (-open_matters.get(c, 0), c))[0]
        grouped.setdefault(primary, []).append(AgendaItem(
            primary, change.title, change.url, change.urgency, MINUTES[change.urgency],
            open_matters.get(primary, 0), change.rationale, tuple(c for c in codes if c != primary)))
    def section_key(item):
        code, items = item
        return (min(RANK[i.urgency] for i in items), -open_matters.get(code, 0), code)
    sections = tuple((code, tuple(sorted(items, key=lambda i: (RANK[i.urgency], i.title))))
                     for code, items in sorted(grouped.items(), key=section_key))
    return Agenda(start, end, team, sections, tuple(tasks))


def render_markdown(agenda: Agenda) -> str:
    scope = f" for team {agenda.team}" if agenda.team else ""
    lines = [f"# Policy briefing{scope}: {agenda.start} to {agenda.end}", "",
             f"About {agenda.minutes} minutes.", ""]
    if not agenda.sections:
        lines += ["No alerted changes in this period.", ""]
    for code, items in agenda.sections:
        matters = items[0].open_matters
        lines.append(f"## {code} ({matters} open matter{'s' if matters != 1 else ''})")
        for item in items:
            also = f" (also {', '.join(item.also)})" if item.also else ""
            lines.append(f"- **{item.urgency}** ({item.minutes} min) [{item.title}]({item.url}){also}")
            if item.why:
                lines.append(f"  - why: {item.why}")
        lines.append("")
    lines.append("## Open training tasks")
    lines += [f"- [ ] #{t.id} {t.task.title} ({t.task.team}, due {t.task.due}, {t.status})" for t in agenda.tasks] \
        or ["- none"]
    return "\n".join(lines) + "\n"


def render_html(agenda: Agenda) -> str:
    colour = {"URGENT": "#b00020", "ACTION": "#b35c00", "INFO": "#33691e"}
    scope = f" for team {escape(agenda.team)}" if agenda.team else ""
    parts = ["<!doctype html><html><head><meta charset='utf-8'><title>Policy briefing</title>",
             "<style>body{font-family:sans-serif;max-width:52em;margin:2em auto;line-height:1.4}"
             "h2{border-bottom:1px solid #ccc}.u{font-weight:bold}.why{color:#555;font-size:90%}</style></head><body>",
             f"<h1>Policy briefing{scope}</h1><p>{agenda.start} to {agenda.end} &middot; about {agenda.minutes} minutes</p>"]
    if not agenda.sections:
        parts.append("<p>No alerted changes in this period.</p>")
    for code, items in agenda.sections:
        parts.append(f"<h2>{escape(code)} <small>({items[0].open_matters} open matters)</small></h2><ul>")
        for item in items:
            parts.append(f"<li><span class='u' style='color:{colour[item.urgency]}'>{item.urgency}</span> "
                         f"({item.minutes} min) {link(item.url, item.title)}"
                         + (f" <i>(also {escape(', '.join(item.also))})</i>" if item.also else "")
                         + (f"<div class='why'>{escape(item.why)}</div>" if item.why else "") + "</li>")
        parts.append("</ul>")
    parts.append("<h2>Open training tasks</h2><ul>")
    parts += [f"<li>#{t.id} {escape(t.task.title)} ({escape(t.task.team)}, due {escape(t.task.due)}, {t.status})</li>"
              for t in agenda.tasks] or ["<li>none</li>"]
    parts.append("</ul></body></html>")
    return "".join(parts)


def meeting_start(meeting: str, after: date) -> datetime:
    """The next `meeting` ("mon 15:00", UTC) on or after the day after `after`."""
    weekday, clock = meeting.split()
    hour, minute = (int(x) for x in clock.split(":"))
    day = after + timedelta(days=1)
    day += timedelta(days=(WEEKDAYS.index(weekday) - day.weekday()) % 7)
    return datetime.combine(day, time(hour, minute), tzinfo=timezone.utc)


def render_ics(agenda: Agenda, meeting: str, uid_host: str = "watcher.local") -> bytes:
    from icalendar import Calendar, Event

    start = meeting_start(meeting, agenda.end)
    calendar = Calendar()
    calendar.add("prodid", "-//watcher//policy briefing//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    event = Event()
    event.add("uid", f"briefing-{agenda.start}-{agenda.end}-{agenda.team or 'all'}@{uid_host}")
    event.add("dtstamp", datetime.now(timezone.utc))
    event.add("dtstart", start)
    event.add("dtend", start + timedelta(minutes=max(agenda.minutes, 15)))
    scope = f" ({agenda.team})" if agenda.team else ""
    event.add("summary", f"Policy briefing{scope}: {agenda.start} to {agenda.end}")
    event.add("description", render_markdown(agenda))
    calendar.add_component(event)
    return calendar.to_ical()
