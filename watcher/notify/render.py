"""Rendering alerts as plain text and HTML. Upstream text is untrusted: HTML is always escaped."""

from __future__ import annotations

from html import escape
from typing import Mapping, Sequence

from ..models import Decision, Match, Status

MAX_SUBJECT = 150
MAX_MOVEMENT_ROWS = 60


def movement_line(row) -> str:
    kind = row["movement"].replace("_", " ")
    days = "" if row["days"] is None else f" {row['days']:+d} days"
    return f"{row['chart'].replace('_', ' ')} {row['category']} {row['area']}: {row['from']} -> {row['to']} ({kind}{days})"


def movement_lines(facts) -> list[str]:
    """The Visa Bulletin movement table as lines of text (the cells that moved)."""
    rows = facts.get("movement") or []
    lines = [movement_line(row) for row in rows[:MAX_MOVEMENT_ROWS]]
    if len(rows) > MAX_MOVEMENT_ROWS:
        lines.append(f"... and {len(rows) - MAX_MOVEMENT_ROWS} more cells")
    return lines


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _matters(count: int | None) -> str:
    if count is None:
        return ""
    return f"; {count} open matter{'s' if count != 1 else ''}"


def render_alert(decision: Decision, matches: Sequence[Match], ref: str,
                 open_matters: Mapping[str, int] | None = None) -> tuple[str, str, str]:
    counts = open_matters or {}
    change = decision.change
    label = "New" if decision.status is Status.NEW else f"Updated (v{decision.version})"
    codes = ", ".join(m.case_type for m in matches)
    subject = _cut(f"[watcher] {label}: {change.title} ({codes})", MAX_SUBJECT)
    published = change.published.date().isoformat() if change.published else "date unknown"
    lines = [f"{label}: {change.title}", f"Source: {change.source_id}, published {published}", ""]
    if decision.status is Status.UPDATED and decision.previous:
        if decision.previous.title != change.title:
            lines += [f"Title was: {decision.previous.title}"]
        if decision.previous.summary != change.summary:
            lines += ["The summary changed."]
        lines.append("")
    lines += [change.summary, ""]
    moved = movement_lines(change.facts)
    if moved:
        lines += [f"Movement since {change.facts.get('previous_month')}:", *moved, ""]
    lines += ["Why it matters:"]
    lines += [f"- {m.case_type}: {m.rationale} (score {m.score:.2f}, {m.method}){_matters(counts.get(m.case_type))}"
              for m in matches]
    lines += ["", f"Link: {change.url}", f"Ref: {ref}"]
    text = "\n".join(lines)
    items = "".join(f"<li><b>{escape(m.case_type)}</b>: {escape(m.rationale)}{escape(_matters(counts.get(m.case_type)))}</li>"
                    for m in matches)
    html = (f"<h2>{escape(label)}: {escape(change.title)}</h2>"
            f"<p>Source: {escape(change.source_id)}, published {escape(published)}</p>"
            f"<p>{escape(change.summary)}</p>"
            + ("<h3>Movement</h3><ul>" + "".join(f"<li>{escape(line)}</li>" for line in moved) + "</ul>" if moved else "")
            + f"<h3>Why it matters</h3><ul>{items}</ul>"
            f'<p><a href="{escape(change.url, quote=True)}">{escape(change.url)}</a></p>'
            f"<p>Ref: {escape(ref)}</p>")
    return subject, text, html
