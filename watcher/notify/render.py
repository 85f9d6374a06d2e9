"""Rendering messages: e-mail HTML (escaped) and plain text, and chat-safe text.

Upstream text is untrusted. All HTML is built through `paragraphs` and `link` (or `escape` on every value):
every link is built by us from the stored URL, shown in full, and live only for http(s). For chat targets
(Slack, Discord and the like) `safe_text` defuses anything a chat service would turn live: `<!channel>` and
`<@U123>` tokens, `<https://evil|uscis.gov>` disguised links, markdown links (with a title, or by reference),
bidi overrides and zero-width characters, and cuts to the service's size limit. URLs themselves pass through
byte for byte: a link that no longer matches its target is worse than markup.
"""

from __future__ import annotations

import re
from datetime import date
from html import escape
from typing import Mapping, Sequence

from ..models import Decision, Match, Status, TrainingTask
from .lawyer import describe, gist, key_dates, operative

MAX_SUBJECT = 150
MAX_MOVEMENT_ROWS = 60
LIMITS = {"slack": 3500, "text": 4000, "email": 100_000}
_INVISIBLE = re.compile(r"[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")
_CHAT_LINK = re.compile(r"<((?:https?|mailto|ftp)://?[^>|\s]*)\|([^>]*)>", re.IGNORECASE)
_CHAT_TOKEN = re.compile(r"<[!@#]([^>|]*)(?:\|([^>]*))?>")
_MARKDOWN_LINK = re.compile(r"\[([^\]]*)\]\(\s*<?([^)\s>]*)>?(?:\s+(?:\"[^\"]*\"|'[^']*'|\([^)]*\)))?\s*\)")
_BROADCAST = re.compile(r"@(channel|here|everyone|all)\b", re.IGNORECASE)
_URL = re.compile(r"https?://[^\s<>\"'\[\]()]+", re.IGNORECASE)
# Markup characters in plain text, replaced by look-alikes.
_MARKUP = {"*": "∗", "_": "ˍ", "~": "∼", "`": "\u02bc", "<": "‹", ">": "›", "|": "∣"}
# What is left of markdown link syntax once inline links are rewritten: `[text][ref]`, `[text](`, `[ref]: url`.
# Its brackets become look-alikes; a plain "[watcher]" stays as it is.
_BRACKETS = re.compile(r"\[([^\]\n]*)\](?=\s*[\[(:])")
_MARKUP_CHARS = re.compile("[" + re.escape("".join(_MARKUP)) + "]")


def cut_lines(text: str, limit: int) -> str:
    """A message cut to `limit` at line ends: the head first, then as much detail as fits, a line saying how much
    was cut and where to read it, and always its Link and Ref lines (the way back to the full alert)."""
    if len(text) <= limit:
        return text
    lines = text.split("\n")
    keep = [line for line in lines if line.startswith(("Link: ", "Ref: "))]
    room = limit - sum(len(line) + 1 for line in keep) - 120
    kept: list[str] = []
    for line in lines:
        if line in keep:
            continue
        if len(line) + 1 > room:
            if not kept and room > 1:  # one line longer than the channel: its head, cut mid-line
                kept.append(cut(line, room - 1))
            break
        kept.append(line)
        room -= len(line) + 1
    dropped = len(lines) - len(kept) - len(keep)
    note = (f"… {dropped} more line{'s' if dropped != 1 else ''} cut to fit this channel; the e-mail alert has them "
            "all." if dropped else "… the rest was cut to fit this channel; the e-mail alert has it all.")
    return cut("\n".join(kept + [note, *keep]), limit)


def cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def safe_text(text: str, limit: int) -> str:
    """Text no chat service can turn into a mention, a hidden link or markup; URLs kept byte for byte."""
    text = _INVISIBLE.sub("", text)
    text = _CHAT_LINK.sub(lambda m: f"{m.group(2)} ({m.group(1)})", text)
    text = _CHAT_TOKEN.sub(lambda m: m.group(2) or m.group(1), text)
    text = _MARKDOWN_LINK.sub(lambda m: f"{m.group(1)} ({m.group(2)})", text)
    pieces, last = [], 0
    for url in _URL.finditer(text):
        pieces += [_defuse(text[last:url.start()]), url.group(0)]
        last = url.end()
    return cut_lines("".join(pieces) + _defuse(text[last:]), limit)


def _defuse(text: str) -> str:
    """Plain text between URLs: no broadcast mention, and no character left that starts markup or a chat token."""
    text = _BROADCAST.sub(lambda m: f"(at){m.group(1)}", text)
    text = text.replace("->", "→")  # our own "was -> now" arrows, before ">" becomes a look-alike
    text = _BRACKETS.sub(lambda m: f"⟦{m.group(1)}⟧", text)
    return _MARKUP_CHARS.sub(lambda m: _MARKUP[m.group(0)], text)


def paragraphs(*texts: str) -> str:
    """Plain text as HTML paragraphs, every one escaped: the one way a message's text becomes HTML."""
    return "".join(f"<p>{escape(t)}</p>" for t in texts)


def link(url: str, label: str | None = None) -> str:
    """An escaped link, live only for http(s); anything else is shown as text and cannot be clicked."""
    if not re.match(r"https?://", url or "", re.IGNORECASE):
        return escape(label or url or "")
    return f'<a href="{escape(url, quote=True)}">{escape(label or url)}</a>'


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


def _matters(count: int | None) -> str:
    if count is None:
        return ""
    return f"; {count} open matter{'s' if count != 1 else ''}"


def render_alert(decision: Decision, matches: Sequence[Match], ref: str,
                 open_matters: Mapping[str, int] | None = None, urgency=None, tasks: Sequence[TrainingTask] = (),
                 impact=None, matter_refs: Sequence[str] = (), today: date | None = None,
                 feedback: Sequence[tuple[str, str]] = ()) -> tuple[str, str, str]:
    """Subject, text and HTML of one alert. The text's head (what, why, urgency, link, Ref) comes first and the
    detail (matters, tasks, movement rows) after it, so a chat post cut to its limit keeps the head."""
    counts = open_matters or {}
    change = decision.change
    level = getattr(urgency, "name", urgency or "INFO")
    doc_type, agency = describe(change.kind, change.facts)
    update = decision.status is Status.UPDATED
    codes = ", ".join(m.case_type for m in matches)
    subject = cut(f"[watcher] {level}{' UPDATE' if update else ''}: {change.title} ({codes})", MAX_SUBJECT)
    # A list that dates nothing (EOIR's memoranda) says so rather than leaving the line out: the reader knows to
    # open the document for its date.
    published = change.published.date().isoformat() if change.published else "date not given by the source"
    kind_line = f"{level}: {doc_type}, {agency}" + (f" (update {decision.version})" if update else "")
    head = [kind_line, change.title, f"Published {published}"]
    if update:
        head += ["", "What changed:", *[f"- {c.line()}" for c in decision.changed]]
    said = gist(change.summary)
    if said:
        head += ["", f"What it says: {said}"]
    head += [f"{label}: {value}" for label, value in operative(change)]
    dates = [d.text() for d in key_dates(change.facts, today)]
    if dates:
        head += [" | ".join(dates)]
    head += ["", "Who it reaches and why:"]
    head += [f"- {m.case_type}: {m.rationale}{_matters(counts.get(m.case_type))}" for m in matches]
    head += ["", f"Link: {change.url}", f"Ref: {ref}"]
    detail = _detail(change, impact, matter_refs, tasks)
    detail += [f"{label}? {url}" for label, url in feedback]
    text = "\n".join(head + ([""] + detail if detail else []))
    return subject, text, _html(change, matches, ref, counts, level, kind_line, published, said, dates, decision,
                                impact, matter_refs, tasks, feedback)


def _detail(change, impact, matter_refs, tasks) -> list[str]:
    lines = []
    if matter_refs:
        lines += [f"Your team's open matters: {', '.join(matter_refs)}"]
    if impact is not None:
        lines += _impact_lines(impact)
    for task in tasks:
        lines += [_task_line(task)]
    moved = movement_lines(change.facts)
    if moved:
        lines += [f"Cut-off movement since the {change.facts.get('previous_month')} bulletin:", *moved]
    return lines


def _impact_lines(impact) -> list[str]:
    charts = impact.adjustment_line()
    head = [charts] if charts else []
    compared = f" (compared with the {impact.compared_with} bulletin)" if impact.compared_with else ""
    if not impact.moves:
        return head + [f"Open matters the bulletin moved{compared}: none"]
    if not getattr(impact, "named", True):
        return head + [f"Open matters the bulletin moved{compared}: {len(impact.became_current)} became current, "
                       f"{len(impact.fell_behind)} fell behind (matter references go to opted-in team e-mail only)"]
    lines = head + [f"Open matters the bulletin moved{compared}:"]
    for team, moves in impact.by_team().items():
        lines += [f"Team {team}:", *[f"- {m.line()}" for m in moves]]
    return lines


def _task_line(task: TrainingTask) -> str:
    was = getattr(task, "was_due", None)
    if was:
        moved = f"due {task.due}, was {was}" if was != task.due else f"due {task.due}, unchanged"
        return f"Training task for {task.team} updated: {task.title} ({moved})"
    return f"Training task for {task.team}: {task.title} (due {task.due})"


def _html(change, matches, ref, counts, level, kind_line, published, said, dates, decision, impact, matter_refs,
          tasks, feedback=()) -> str:
    colour = {"URGENT": "#b00020", "ACTION": "#b35c00"}.get(level, "#33691e")
    items = "".join(f"<li><b>{escape(m.case_type)}</b>: {escape(m.rationale)}{escape(_matters(counts.get(m.case_type)))}</li>"
                    for m in matches)
    parts = [f'<p style="color:{colour};font-weight:bold">{escape(kind_line)}</p>',
             f"<h2>{escape(change.title)}</h2>", paragraphs(f"Published {published}")]
    if decision.status is Status.UPDATED:
        parts.append("<h3>What changed</h3><ul>" + "".join(f"<li>{escape(c.line())}</li>" for c in decision.changed)
                     + "</ul>")
    if said:
        parts.append(f"<p><i>What it says:</i> {escape(said)}</p>")
    parts += [f"<p><i>{escape(label)}:</i> {escape(value)}</p>" for label, value in operative(change)]
    if dates:
        parts.append(paragraphs(" | ".join(dates)))
    parts.append(f"<h3>Who it reaches and why</h3><ul>{items}</ul>")
    parts.append(f"<p>{link(change.url)}</p>" + paragraphs(f"Ref: {ref}"))
    detail = _detail(change, impact, matter_refs, tasks)
    if detail:
        parts.append("<hr>" + "".join(f"<div>{escape(line)}</div>" for line in detail))
    if feedback:
        parts.append("<p>" + " · ".join(link(url, label) for label, url in feedback) + "</p>")
    return "".join(parts)


def render_digest(mode: str, entries: Sequence[tuple[str, str, str]]) -> tuple[str, str, str]:
    """A digest of (subject, text, html) entries: one subject, the entries one after another."""
    subject = f"[watcher] {mode.capitalize()} digest: {len(entries)} change{'s' if len(entries) != 1 else ''}"
    text = "\n\n----------\n\n".join(t for _, t, _ in entries)
    html = "<hr>".join(h for _, _, h in entries)
    return subject, text, html
