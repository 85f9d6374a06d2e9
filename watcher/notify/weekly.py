"""The weekly agenda: built from the store and queued to the training coordinators' targets, with the invite."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time, timedelta, timezone

from ..config import Config
from ..models import Message
from ..store import Store
from .agenda import Agenda, build_agenda, meeting_start, render_html, render_ics, render_text
from .alerts import CONSOLE, message_ref
from .render import paragraphs


def make_agenda(store: Store, start: date, end: date, team: str | None = None, group: str = "case_type") -> Agenda:
    begin = datetime.combine(start, time(), tzinfo=timezone.utc)
    finish = datetime.combine(end, time(), tzinfo=timezone.utc) + timedelta(days=1)
    matters = store.matters.open_matters()
    team_types = {m.case_type for m in matters if m.team == team} if team else None
    teams_by_type: dict[str, set[str]] = {}
    for matter in matters:
        teams_by_type.setdefault(matter.case_type, set()).add(matter.team)
    return build_agenda(store.tasks.alerted_between(begin, finish), store.tasks.listing("open", team),
                        store.matters.open_counts(), start, end, team, team_types, group, teams_by_type)


def agenda_message(agenda: Agenda, config: Config, now: datetime, ref_key: str) -> Message:
    """The agenda as an e-mail with the invite attached (targets are the caller's to set)."""
    settings = config.agenda
    meeting = meeting_start(settings.meeting, agenda.start, agenda.end, settings.timezone)
    invite = render_ics(agenda, settings.meeting, settings.timezone, settings.organizer, settings.attendees, now=now)
    ref = message_ref("agenda", ref_key, 0)
    return Message(ref=ref, item_key=f"agenda:{agenda.start}", version=0,
                   subject=f"[watcher] Policy briefing {meeting:%a %Y-%m-%d %H:%M} ({agenda.start} to {agenda.end})",
                   text=render_text(agenda, meeting) + f"\nThe calendar invite is attached (briefing.ics).\nRef: {ref}\n",
                   html=render_html(agenda, meeting) + paragraphs("The calendar invite is attached (briefing.ics).",
                                                                  f"Ref: {ref}"),
                   targets=(), kind="agenda", attachment=("briefing.ics", invite))


def queue_weekly_agenda(store: Store, config: Config, now: datetime) -> Message | None:
    """The seven days up to today, with the invite for this week's briefing attached; queued once per week."""
    targets = tuple(t.name for t in config.targets if set(t.tags) & set(config.agenda.tags))
    if not targets and not config.targets:
        targets = (CONSOLE,)
    if not targets:
        return None
    end = now.date()
    start = end - timedelta(days=6)
    agenda = make_agenda(store, start, end, group=config.agenda.group)
    message = replace(agenda_message(agenda, config, now, f"{start.isoformat()}\x00{end.isoformat()}"), targets=targets)
    with store.transaction():
        store.outbox.enqueue(message, None, now)
    return message
