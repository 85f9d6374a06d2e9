"""Pure composition of source-health messages for the ops target: one on each transition, one on recovery."""

from __future__ import annotations

from datetime import datetime
from html import escape

from ..models import Message, SourceState
from .alerts import message_ref

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
                   html=f"<p>{escape(body)}</p><p>Ref: {escape(ref)}</p>", targets=targets)
