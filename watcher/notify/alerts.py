"""Pure composition of alerts: a Decision plus its matches, urgency and the routes -> Messages."""

from __future__ import annotations

import hashlib
import re
from dataclasses import replace
from datetime import date
from typing import Mapping, Sequence

from ..config import RouteConfig, TargetConfig
from ..models import Decision, Match, Matter, Message, Status, TrainingTask
from ..urgency import Urgency
from .bulletin import BulletinImpact, bulletin_impact
from .render import render_alert

CONSOLE = "console"
_MODE_RANK = {"immediate": 0, "daily": 1, "weekly": 2}


def message_ref(source_id: str, item_key: str, version: int | str) -> str:
    """Short and stable: the same change version always gets the same Ref, across retries and restarts."""
    digest = hashlib.sha256(f"{source_id}\x00{item_key}\x00{version}".encode()).hexdigest()
    return f"W-{digest[:10].upper()}"


def route_targets(matches: Sequence[Match], urgency: Urgency, routes: Sequence[RouteConfig],
                  targets: Sequence[TargetConfig]) -> dict[str, str]:
    """Target name -> delivery mode for a change with these matches (console when no target exists)."""
    if not matches:
        return {}
    if not targets:
        return {CONSOLE: "immediate"}
    codes = {m.case_type for m in matches}
    modes: dict[str, str] = {}
    for route in routes:
        if not ("*" in route.case_types or codes & set(route.case_types)):
            continue
        if urgency < Urgency[route.min_urgency]:
            continue
        for target in targets:
            if set(target.tags) & set(route.tags):
                current = modes.get(target.name)
                if current is None or _MODE_RANK[route.mode] < _MODE_RANK[current]:
                    modes[target.name] = route.mode  # the most immediate route wins
    return modes


# Which bulletin categories each case type follows (CONSULAR and I-485 follow every category).
BULLETIN_FAMILIES = {"I-130": ("F",), "PERM-I-140": ("EB1", "EB2", "EB3", "EB4"), "EB-5": ("EB5",)}


def covered_codes(name: str, routes: Sequence[RouteConfig], targets: Sequence[TargetConfig]) -> frozenset[str]:
    tags = next((set(t.tags) for t in targets if t.name == name), set())
    return frozenset(code for r in routes if tags & set(r.tags) for code in r.case_types)


def bulletin_prefixes(codes: frozenset[str]) -> tuple[str, ...] | None:
    """Category prefixes a route's case types follow; None means every category."""
    if not codes or "*" in codes or codes & {"CONSULAR", "I-485"}:
        return None
    return tuple(p for code in sorted(codes) for p in BULLETIN_FAMILIES.get(code, ()))


def _bulletin_for(decision: Decision, prefixes: tuple[str, ...] | None) -> Decision:
    """The bulletin decision with only the movement rows these categories cover."""
    if prefixes is None:
        return decision
    rows = [r for r in decision.change.facts.get("movement") or [] if r["category"].startswith(prefixes)]
    change = replace(decision.change, facts={**decision.change.facts, "movement": rows})
    return replace(decision, change=change)


def compose(decision: Decision, matches: Sequence[Match], routes: Sequence[RouteConfig],
            targets: Sequence[TargetConfig], open_matters: Mapping[str, int] | None = None,
            urgency: Urgency = Urgency.INFO, tasks: Sequence[TrainingTask] = (),
            matters: Sequence[Matter] = (), today: date | None = None,
            feedback: Sequence[tuple[str, str]] = (), impact: BulletinImpact | None = None) -> list[Message]:
    """One message for every routed target; a team target that opted in gets its own variant listing that
    team's open matter references, and for a bulletin the matters it moved (e-mail only, never a client name:
    matters carry none). Other targets get counts. `impact`: the bulletin's, when the caller has it already."""
    if decision.status is Status.UNCHANGED:
        return []
    schedule = route_targets(matches, urgency, routes, targets)
    if not schedule:
        return []
    change = decision.change
    ref = message_ref(change.source_id, change.item_key, decision.version)
    if impact is None and change.kind == "visa_bulletin":
        impact = bulletin_impact(change, matters)
    counts_only = replace(impact, named=False) if impact else None
    by_name = {t.name: t for t in targets}
    with_refs = [n for n in schedule if n in by_name and by_name[n].include_matter_refs
                 and by_name[n].format in ("auto", "email")]
    plain = [n for n in schedule if n not in with_refs]
    messages = []
    if change.kind == "visa_bulletin":  # each target sees the movement of the categories its routes cover
        groups: dict[tuple[str, ...] | None, list[str]] = {}
        for name in plain:
            groups.setdefault(bulletin_prefixes(covered_codes(name, routes, targets)), []).append(name)
        for prefixes, names in groups.items():
            group_ref = ref if prefixes is None else f"{ref}-{hashlib.sha256('|'.join(prefixes).encode()).hexdigest()[:4].upper()}"
            messages.append(_message(_bulletin_for(decision, prefixes), matches, group_ref, open_matters or {}, urgency,
                                     tasks, counts_only, (), tuple(names), schedule, today, feedback))
    elif plain:
        messages.append(_message(decision, matches, ref, open_matters or {}, urgency, tasks, counts_only, (),
                                 tuple(plain), schedule, today, feedback))
    codes = {m.case_type for m in matches}
    for name in with_refs:  # config.py requires a team beside include_matter_refs
        team = by_name[name].team
        refs = tuple(m.ref for m in matters if m.team == team and m.case_type in codes)
        team_ref = f"{ref}-{hashlib.sha256(team.encode()).hexdigest()[:4].upper()}"
        own = replace(impact, moves=tuple(m for m in impact.moves if m.team == team)) if impact else None
        messages.append(_message(decision, matches, team_ref, open_matters or {}, urgency, tasks, own,
                                 () if impact else refs, (name,), schedule, today, feedback))
    return messages


def _message(decision, matches, ref, open_matters, urgency, tasks, impact, matter_refs, names, schedule,
             today, feedback=()) -> Message:
    subject, text, html = render_alert(decision, matches, ref, open_matters, urgency, tasks, impact, matter_refs,
                                       today, feedback)
    return Message(ref=ref, item_key=decision.change.item_key, version=decision.version, subject=subject, text=text,
                   html=html, targets=tuple(names), kind="alert", urgency=urgency.name,
                   schedule={n: schedule[n] for n in names})


# Countries designated for TPS or named by a parole process, as a caseload's chargeability/country column spells
# them after import (upper case). An alert about one of them counts that country's matters only.
DESIGNATED = ("AFGHANISTAN", "BURMA", "MYANMAR", "CAMEROON", "CUBA", "EL SALVADOR", "ETHIOPIA", "HAITI", "HONDURAS",
              "LEBANON", "NEPAL", "NICARAGUA", "SOMALIA", "SOUTH SUDAN", "SUDAN", "SYRIA", "UKRAINE", "VENEZUELA",
              "YEMEN", "GUATEMALA", "COLOMBIA", "ECUADOR")
COUNTRY_SCOPED = ("TPS", "PAROLE")


def designated_countries(change) -> set[str]:
    text = f" {change.title} {change.summary} ".upper()
    found = {c for c in DESIGNATED if re.search(rf"\b{re.escape(c)}\b", text)}
    # "South Sudan" also contains "Sudan": keep the longer name alone when only it is meant.
    if "SOUTH SUDAN" in found and not re.search(r"(?<!SOUTH )\bSUDAN\b", text):
        found.discard("SUDAN")
    return found


def scope_to_countries(change, matches: Sequence[Match], matters: Sequence[Matter],
                       counts: Mapping[str, int]) -> tuple[list[Matter], dict[str, int]]:
    """For a TPS or parole change naming countries: only the matters of those countries (when the caseload says
    which country a matter is), and the counts recomputed from them."""
    countries = designated_countries(change)
    codes = {m.case_type for m in matches} & set(COUNTRY_SCOPED)
    if not countries or not codes:
        return list(matters), dict(counts)
    scoped = [m for m in matters if m.case_type not in codes or m.country is None or m.country in countries]
    known = {m.case_type for m in matters if m.case_type in codes and m.country is not None}
    new_counts = dict(counts)
    for code in known:
        new_counts[code] = sum(1 for m in scoped if m.case_type == code)
    return scoped, new_counts
