"""The weekly agenda: built from the store and queued to the training coordinators' targets."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

from ..config import Config
from ..models import Message
from ..store import Store
from .agenda import Agenda, build_agenda, render_html, render_markdown
from .alerts import CONSOLE, message_ref
from .render import paragraphs


def make_agenda(store: Store, start: date, end: date, team: str | None = None) -> Agenda:
    begin = datetime.combine(start, time(), tzinfo=timezone.utc)
    finish = datetime.combine(end, time(), tzinfo=timezone.utc) + timedelta(days=1)
    team_types = {m.case_type for m in store.matters.open_matters() if m.team == team} if team else None
    return build_agenda(store.tasks.alerted_between(begin, finish), store.tasks.listing("open", team),
                        store.matters.open_counts(), start, end, team, team_types)


def queue_weekly_agenda(store: Store, config: Config, now: datetime) -> Message | None:
    """The past seven days' agenda, queued once per week (the Ref is the week's)."""
    targets = tuple(t.name for t in config.targets if set(t.tags) & set(config.agenda.tags))
    if not targets and not config.targets:
        targets = (CONSOLE,)
    if not targets:
        return None
    end = now.date() - timedelta(days=1)
    start = end - timedelta(days=6)
    agenda = make_agenda(store, start, end)
    ref = message_ref("agenda", start.isoformat(), end.isoformat())
    message = Message(ref=ref, item_key=f"agenda:{start}", version=0,
                      subject=f"[watcher] Weekly policy briefing agenda {start} to {end}",
                      text=render_markdown(agenda) + f"\nRef: {ref}\n", html=render_html(agenda) + paragraphs(f"Ref: {ref}"),
                      targets=targets, kind="agenda")
    with store.transaction():
        store.outbox.enqueue(message, None, now)
    return message
