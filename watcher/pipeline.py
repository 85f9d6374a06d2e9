"""Run one source end to end. Catches and records every expected error per source; never raises into the
scheduler, so one failing source never stops the others (invariant 3).

fetch (I/O) -> parse (pure) -> classify (pure) -> match -> compose (pure) -> one transaction.
"""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Callable, Sequence

from . import decide
from .config import RouteConfig, TargetConfig
from .errors import FetchError, WatcherError
from .http import HttpClient
from .matching.language import announced, originals, translation_of
from .matching.matcher import Matcher
from .meaning import canonical_url, plain
from .models import Change, Decision, Match, Message, SourceRun, Status, TrainingTask
from .notify.alerts import CONSOLE, compose, message_ref, scope_to_countries
from .notify.bulletin import bulletin_impact
from .notify.training import compose_tasks, task_key
from .urgency import urgency
from .notify.health import compose_health, compose_mass_change
from .sources.base import Source
from .store import CycleResult, Store

log = logging.getLogger(__name__)
# One announcement in two feeds (USCIS posts an alert as a stakeholder message too) is one change: a title another
# source stored within this window is not announced again.
SAME_ANNOUNCEMENT = timedelta(days=4)


@dataclass(frozen=True)
class Context:
    store: Store
    http: HttpClient
    matcher: Matcher
    routes: Sequence[RouteConfig]
    targets: Sequence[TargetConfig]
    now: Callable[[], datetime]
    ops_targets: tuple[str, ...] = ()  # who hears about source health (console when no target exists)
    due_days: int = 7                  # training tasks without an effective date
    # Sources sharing a host: a 429 Retry-After defers them all (a rate limit is per host, RELIABILITY A5).
    host_peers: Callable[[str], tuple[str, ...]] = lambda source_id: ()
    # With [web] public_url: (source id, item key, case type, verdict) -> a signed one-click feedback link.
    feedback_link: Callable[[str, str, str, str], str] | None = None


def run_source(ctx: Context, source: Source, *, force: bool = False) -> SourceRun:
    """One cycle. `force` ignores the backoff window (used by `watcher check`).

    A database that cannot be written (locked past busy_timeout, full, read-only) fails the cycle as a whole:
    nothing of it was committed, so the next tick simply tries again.
    """
    try:
        return _run_source(ctx, source, force)
    except sqlite3.Error as exc:
        log.error("source %s: database error, cycle not recorded, retried next tick: %s", source.config.id, exc)
        return SourceRun(source.config.id, "error", error_class="storage", error_message=str(exc))


def _run_source(ctx: Context, source: Source, force: bool) -> SourceRun:
    started = ctx.now()
    state = ctx.store.sources.get(source.config.id)
    if not force and not decide.is_due(state, started):
        return SourceRun(source.config.id, "skipped")
    if not force and source.config.fallback_for and not _primary_down(ctx, source.config.fallback_for):
        return SourceRun(source.config.id, "standby")
    try:
        run = _cycle(ctx, source, started)
    except WatcherError as exc:
        run = _record_failure(ctx, source.config.id, exc, started)
    except Exception as exc:  # a bug in one parser must not stop the service; it is still recorded
        log.exception("unexpected error in source %s", source.config.id)
        run = _record_failure(ctx, source.config.id, exc, started, error_class="bug")
    with ctx.store.transaction():
        ctx.store.runs.record(run, started, ctx.now())
    _update_health(ctx, source, started)
    return run


def ops_targets(ctx: Context) -> tuple[str, ...]:
    """Who hears about source health: the [ops] targets, or the console when no target is configured."""
    return ctx.ops_targets if ctx.targets else (CONSOLE,)


def _primary_down(ctx: Context, primaries: Sequence[str]) -> bool:
    return any(ctx.store.sources.get(p).health in ("failing", "parser_broken") for p in primaries)


def _update_health(ctx: Context, source: Source, now: datetime) -> None:
    """Report a change of health once, on the transition; staying failing or staying ok says nothing."""
    state = ctx.store.sources.get(source.config.id)
    health = decide.source_health(state, now, source.config.silent_after)
    if health == state.health:
        return
    targets = ops_targets(ctx)
    message = compose_health(state, health, now, targets, source.config.name)
    with ctx.store.transaction():
        ctx.store.sources.set_health(source.config.id, health, now)
        if message:
            ctx.store.outbox.enqueue(message, None, now)


def _cycle(ctx: Context, source: Source, now: datetime) -> SourceRun:
    source_id = source.config.id
    state = ctx.store.sources.get(source_id)
    conditional = decide.send_validators(state, now)
    fetched = source.fetch(ctx.http, state.validators if conditional else None)
    if fetched.not_modified:
        with ctx.store.transaction():
            ctx.store.sources.record_success(source_id, validators=fetched.validators, now=now,
                                             new_items=False, item_count=None, unconditional=False)
        return SourceRun(source_id, "not_modified", bytes_received=fetched.bytes_received)
    documents = source.follow(ctx.http, fetched)
    changes = source.collect(documents)
    changes = source.relate(changes, lambda key: ctx.store.changes.previous_facts(source_id, key))
    changes = _with_referenced_memoranda(ctx, changes)
    decisions = decide.classify(changes, ctx.store.changes.latest_versions(source_id, [c.item_key for c in changes]))
    baseline = not state.baseline_done
    # An item another source already stored (the same page through a feed and its HTML fallback, or one ruling
    # from the Supreme Court's page and from CourtListener) is kept but never announced twice.
    fresh = {d.change.item_key: d.change for d in decisions if d.status is Status.NEW}
    dockets = {key: decide.docket_key(c.kind, c.facts) for key, c in fresh.items()}
    urls = ctx.store.changes.urls_elsewhere(source_id, [c.url for c in fresh.values()])
    titles = ctx.store.changes.titles_elsewhere(source_id, [c.title for c in fresh.values()], now - SAME_ANNOUNCEMENT)
    stored_dockets = ctx.store.changes.dockets_elsewhere(source_id, filter(None, dockets.values()))
    copies = _presidential_elsewhere(ctx, source_id, fresh)
    elsewhere = {key for key, c in fresh.items() if canonical_url(c.url) in urls or dockets[key] in stored_dockets
                 or plain(c.title).lower() in titles} | set(copies)
    new_count = _count(decisions, Status.NEW)
    mass = not baseline and decide.mass_change(new_count, len(changes))
    # The first fetch is a silent baseline (C4); a mass change is held for a person to look at.
    matches, messages, tasks = _match_and_compose(ctx, source_id, decisions, elsewhere, _translations(ctx, decisions),
                                                  baseline or mass, now)
    if mass:
        log.warning("source %s: %d of %d items new at once; client alerts held", source_id, new_count, len(changes))
        held = compose_mass_change(source_id, new_count, len(changes), now, ops_targets(ctx))
        messages = [held] if held else []
    ctx.store.commit_cycle(CycleResult(
        source_id=source_id, decisions=decisions, matches=matches, messages=messages,
        validators=fetched.validators, baseline=baseline, item_count=len(changes),
        unconditional=not conditional, tasks=tasks, copies=copies,
        annotations=_cancellations(ctx, decisions) if not baseline else ()), now)
    return SourceRun(source_id, "baseline" if baseline else "ok", new=new_count,
                     updated=_count(decisions, Status.UPDATED),
                     messages=len(messages), bytes_received=sum(d.bytes_received for d in documents))


def _presidential_elsewhere(ctx: Context, source_id: str, fresh: dict[str, Change]) -> dict[str, int]:
    """The new presidential documents another source already stored, with that change's id: the White House posts a
    proclamation the day it is signed, the Federal Register publishes it days later; the firm hears of it once, and
    the White House's change gains the citation as a new version (store.commit_cycle)."""
    identities = {key: decide.presidential_identity(c.kind, c.title, c.facts) for key, c in fresh.items()}
    identities = {key: i for key, i in identities.items() if i}
    if not identities:
        return {}
    since = (min(datetime.fromisoformat(i[1]) for i in identities.values()) - decide.SAME_SIGNING).date()
    stored = ctx.store.changes.presidential_elsewhere(source_id, since.isoformat())
    found = {key: next((change_id for change_id, theirs in stored if decide.same_presidential(mine, theirs)), None)
             for key, mine in identities.items()}
    return {key: change_id for key, change_id in found.items() if change_id is not None}


def _with_referenced_memoranda(ctx: Context, changes: list[Change]) -> list[Change]:
    """An EOIR memorandum that cancels, reinstates or amends others gets their subjects where watcher stored them
    ("DM 22-03": "Administrative Closure"), so its alert says what guidance it ends. The same lookup every cycle, so
    an unchanged memorandum stays unchanged."""
    numbers = {n for c in changes if c.kind == "eoir_policy_memo"
               for verb in decide.MEMO_VERBS for n in c.facts.get(verb) or ()}
    stored = ctx.store.changes.memoranda(numbers)
    if not stored:
        return changes
    out = []
    for change in changes:
        named = {n: stored[n][1] for verb in decide.MEMO_VERBS for n in change.facts.get(verb) or () if n in stored}
        out.append(replace(change, facts={**change.facts, "referenced": named}) if named else change)
    return out


def _cancellations(ctx: Context, decisions: Sequence[Decision]) -> list[tuple[int, str, str]]:
    """A new memorandum that cancels stored ones: each cancelled one gains a version saying by which (the list
    drops it, so nothing else would ever mark it)."""
    cancelled = {n: d.change.facts["number"] for d in decisions if d.status is Status.NEW
                 and d.change.kind == "eoir_policy_memo" for n in d.change.facts.get("cancels") or ()}
    stored = ctx.store.changes.memoranda(cancelled)
    return [(stored[n][0], "cancelled_by", by) for n, by in cancelled.items() if n in stored]


@dataclass(frozen=True)
class Original:
    """The item a translation repeats: one of this cycle (item_key) or one stored earlier (change_id)."""

    title: str
    item_key: str | None = None
    change_id: int | None = None


def _translations(ctx: Context, decisions: Sequence[Decision]) -> dict[str, Original]:
    """The new or updated items that translate another (language.originals), by item key, with their original
    in this cycle or stored earlier by any source."""
    changed = [d.change for d in decisions if d.status is not Status.UNCHANGED]
    bases = [translation_of(c.title, c.summary) for c in changed]
    if not any(bases):
        return {}
    wanted = {b.lower() for b in bases if b}
    stored = announced(wanted, ctx.store.changes.titled(wanted, exclude=[d.previous.change_id for d in decisions
                                                                         if d.previous and d.status is Status.UPDATED]))
    found = {}
    for row, original in originals([(c.title, c.summary) for c in changed], stored).items():
        if original is not None:
            found[changed[row].item_key] = Original(changed[original].title, item_key=changed[original].item_key)
        else:
            change_id, title = stored[bases[row].lower()]
            found[changed[row].item_key] = Original(title, change_id=change_id)
    return found


def _as_translation(ctx: Context, original: Original, matches: dict[str, list[Match]]) -> list[Match]:
    found = matches[original.item_key] if original.item_key else ctx.store.changes.current_matches(original.change_id)
    return [Match(m.case_type, m.score, "translation", f"a translation of '{original.title[:70]}'") for m in found]


def _match_and_compose(ctx: Context, source_id: str, decisions: Sequence[Decision], elsewhere: set[str],
                       translations: dict[str, Original], silent: bool,
                       now: datetime) -> tuple[dict[str, list[Match]], list[Message], list[TrainingTask]]:
    """Match every new or updated change; compose its alerts and training tasks unless the cycle is silent or
    another source already stored the item (`elsewhere`: the item keys of such new items).

    A translation (`translations`: item key -> its original) gets its original's matches and no alert of its own:
    the firm hears of the announcement once, not once per language."""
    matches: dict[str, list[Match]] = {}
    messages, tasks = [], []
    open_matters = ctx.store.matters.open_counts()
    # Originals first, so each translation finds its original's matches.
    for decision in sorted(decisions, key=lambda d: d.change.item_key in translations):
        if decision.status is Status.UNCHANGED:
            continue
        if decision.change.item_key in translations:
            matches[decision.change.item_key] = _as_translation(ctx, translations[decision.change.item_key], matches)
            continue
        found = matches[decision.change.item_key] = ctx.matcher.match(decision.change)
        if silent or decision.change.item_key in elsewhere or not found or not decision.announce:
            continue
        change = decision.change
        # A bulletin moves every matter with a priority date, whatever case type it is filed under.
        scope = [] if change.kind == "visa_bulletin" else [m.case_type for m in found]
        matters, counts = scope_to_countries(change, found, ctx.store.matters.open_matters(scope), open_matters)
        level = urgency(change, found, counts, now)
        ref = message_ref(source_id, change.item_key, decision.version)
        teams = {m.team for m in matters} | {"all"}
        existing = ctx.store.tasks.open_dues([task_key(change, team) for team in sorted(teams)])
        moved = bulletin_impact(change, matters, ctx.store.changes.facts_of_kind("chart_choice", change.item_key)) \
            if change.kind == "visa_bulletin" else None
        new_tasks = compose_tasks(decision, found, level, matters, now, ctx.due_days, ref, existing,
                                  moved.became_current + moved.fell_behind if moved else ())
        tasks += new_tasks
        feedback = [(f"Not relevant to {m.case_type}", ctx.feedback_link(source_id, change.item_key, m.case_type,
                                                                          "not_relevant"))
                    for m in found] if ctx.feedback_link else []
        messages += compose(decision, found, ctx.routes, ctx.targets, counts, level, new_tasks, matters, now.date(),
                            feedback, moved)
    return matches, messages, tasks


def _record_failure(ctx: Context, source_id: str, exc: Exception, now: datetime,
                    error_class: str | None = None) -> SourceRun:
    error_class = error_class or getattr(exc, "error_class", "error")
    message = f"{type(exc).__name__}: {exc}" if error_class == "bug" else str(exc)
    retry_after = exc.retry_after if isinstance(exc, FetchError) else None
    state = ctx.store.sources.get(source_id)
    with ctx.store.transaction():
        ctx.store.sources.record_failure(
            source_id, error_class=error_class, message=message, now=now,
            backoff_until=decide.source_backoff(state.consecutive_failures + 1, now, retry_after))
        if error_class == "rate_limited" and retry_after:
            for peer in ctx.host_peers(source_id):
                ctx.store.sources.defer(peer, retry_after)
    log.warning("source %s failed (%s): %s", source_id, error_class, message)
    return SourceRun(source_id, "error", error_class=error_class, error_message=message)


def _count(decisions: Sequence[Decision], status: Status) -> int:
    return sum(1 for d in decisions if d.status is status)
