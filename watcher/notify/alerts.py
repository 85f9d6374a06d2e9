"""Pure composition of alerts: a Decision plus its matches and the routes -> Messages."""

from __future__ import annotations

import hashlib
from typing import Mapping, Sequence

from ..config import RouteConfig, TargetConfig
from ..models import Decision, Match, Message, Status
from .render import render_alert

CONSOLE = "console"


def message_ref(source_id: str, item_key: str, version: int) -> str:
    """Short and stable: the same change version always gets the same Ref, across retries and restarts."""
    digest = hashlib.sha256(f"{source_id}\x00{item_key}\x00{version}".encode()).hexdigest()
    return f"W-{digest[:10].upper()}"


def route_targets(matches: Sequence[Match], routes: Sequence[RouteConfig],
                  targets: Sequence[TargetConfig]) -> tuple[str, ...]:
    """Names of the targets that should hear about a change with these matches (console when none exist)."""
    if not matches:
        return ()
    if not targets:
        return (CONSOLE,)
    codes = {m.case_type for m in matches}
    tags = {tag for route in routes if "*" in route.case_types or codes & set(route.case_types)
            for tag in route.tags}
    return tuple(t.name for t in targets if tags & set(t.tags))


def compose(decision: Decision, matches: Sequence[Match], routes: Sequence[RouteConfig],
            targets: Sequence[TargetConfig], open_matters: Mapping[str, int] | None = None) -> Message | None:
    if decision.status is Status.UNCHANGED:
        return None
    names = route_targets(matches, routes, targets)
    if not names:
        return None
    change = decision.change
    ref = message_ref(change.source_id, change.item_key, decision.version)
    subject, text, html = render_alert(decision, matches, ref, open_matters or {})
    return Message(ref=ref, item_key=change.item_key, version=decision.version, subject=subject,
                   text=text, html=html, targets=names)
