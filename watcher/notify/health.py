"""Pure composition of source-health messages for the ops target: one on each transition, one on recovery."""

from __future__ import annotations

from datetime import datetime

from typing import Mapping, Sequence

from ..models import Message, SourceState
from .alerts import message_ref
from .render import paragraphs

EXPLAIN = {
    "failing": "is FAILING: {n} consecutive fetch errors. Last error [{cls}]: {msg}",
    "parser_broken": "has a BROKEN PARSER: the page was fetched but yielded nothing usable. Last error: {msg}",
    "silent": "is SILENT: no new item since {news}, longer than expected for this source.",
}


def compose_health(state: SourceState, new: str, now: datetime, targets: tuple[str, ...],
                   source_name: str = "") -> Message | None:
    if not targets:
        return None
    label = source_name or state.source_id
    if new == "ok":
        subject = f"[watcher ops] RECOVERED: {label}"
        body = f"Source {label} is OK again (it was {state.health.replace('_', ' ')} since " \
               f"{state.health_since:%Y-%m-%d %H:%M} UTC)." if state.health_since else f"Source {label} is OK again."
    else:
        news = state.last_new_item_at or state.last_success_at
        subject = f"[watcher ops] {new.replace('_', ' ').upper()}: {label}"
        body = f"Source {label} " + EXPLAIN[new].format(
            n=state.consecutive_failures, cls=state.last_error_class, msg=state.last_error_message or "",
            news=f"{news:%Y-%m-%d}" if news else "never")
        body += " watcher keeps retrying with capped backoff; `watcher status` shows the details."
    ref = message_ref(state.source_id, f"health:{new}", int(now.timestamp()))
    text = f"{body}\n\nRef: {ref}"
    return Message(ref=ref, item_key=f"health:{state.source_id}", version=0, subject=subject, text=text,
                   html=paragraphs(body, f"Ref: {ref}"), targets=targets)


def compose_heartbeat(states: Sequence[SourceState], outbox: Mapping[str, int], now: datetime,
                      targets: tuple[str, ...]) -> Message | None:
    """The daily sign of life: a quiet alerting system must look different from a broken one (G3)."""
    if not targets:
        return None
    counts: dict[str, int] = {}
    for state in states:
        counts[state.health] = counts.get(state.health, 0) + 1
    problems = [f"{s.source_id} ({s.health.replace('_', ' ')}: {s.last_error_class or 'no new items'})"
                for s in states if s.health != "ok"]
    body = (f"Sources: {counts.get('ok', 0)} ok, {counts.get('failing', 0)} failing, "
            f"{counts.get('silent', 0)} silent, {counts.get('parser_broken', 0)} parser broken. "
            f"Outbox: {outbox.get('pending', 0) + outbox.get('sending', 0)} waiting, "
            f"{outbox.get('dead', 0)} dead letters.")
    if problems:
        body += " Needs attention: " + "; ".join(problems) + "."
    ref = message_ref("heartbeat", now.date().isoformat(), 0)
    return Message(ref=ref, item_key=f"heartbeat:{now.date()}", version=0,
                   subject=f"[watcher ops] Daily heartbeat {now.date()}: "
                           f"{'all sources ok' if not problems else f'{len(problems)} need attention'}",
                   text=f"{body}\n\nRef: {ref}", html=paragraphs(body, f"Ref: {ref}"),
                   targets=targets, kind="health")


def compose_mass_change(source_id: str, new: int, total: int, now: datetime, targets: tuple[str, ...]) -> Message | None:
    """One ops message instead of a flood: most of a feed's items looked new at once (an id scheme change)."""
    if not targets:
        return None
    ref = message_ref(source_id, "mass-change", int(now.timestamp()))
    body = (f"Source {source_id}: {new} of {total} items appeared new in one fetch. This usually means the "
            "publisher changed its item ids, not that {new} things changed. The items were stored; no client "
            "alerts were sent for them. Check the source and `watcher changes`.").replace("{new}", str(new))
    return Message(ref=ref, item_key=f"mass:{source_id}", version=0,
                   subject=f"[watcher ops] {source_id}: {new} items looked new at once; alerts held",
                   text=f"{body}\n\nRef: {ref}", html=paragraphs(body, f"Ref: {ref}"),
                   targets=targets, kind="health")
