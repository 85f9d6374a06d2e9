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
from html import escape
from typing import Mapping, Sequence

from ..models import Decision, Match, Status, TrainingTask

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
    return cut("".join(pieces) + _defuse(text[last:]), limit)


def _defuse(text: str) -> str:
    """Plain text between URLs: no broadcast mention, and no character left that starts markup or a chat token."""
    text = _BROADCAST.sub(lambda m: f"(at){m.group(1)}", text)
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


def _dates(facts) -> list[str]:
    out = []
    if facts.get("effective_on"):
        out.append(f"Effective: {facts['effective_on']}")
    if facts.get("comments_close_on"):
        out.append(f"Comments close: {facts['comments_close_on']}")
    return out


def render_alert(decision: Decision, matches: Sequence[Match], ref: str,
                 open_matters: Mapping[str, int] | None = None, urgency=None, tasks: Sequence[TrainingTask] = (),
                 impact=None, matter_refs: Sequence[str] = ()) -> tuple[str, str, str]:
    counts = open_matters or {}
    change = decision.change
    level = getattr(urgency, "name", urgency or "INFO")
    label = "New" if decision.status is Status.NEW else f"Updated (v{decision.version})"
    codes = ", ".join(m.case_type for m in matches)
    subject = cut(f"[watcher] {level}: {change.title} ({codes})", MAX_SUBJECT)
    published = change.published.date().isoformat() if change.published else "date unknown"
    lines = [f"{level} - {label}: {change.title}", f"Source: {change.source_id}, published {published}", *_dates(change.facts), ""]
    if decision.status is Status.UPDATED and decision.previous:
        if decision.previous.title != change.title:
            lines += [f"Title was: {decision.previous.title}"]
        if decision.previous.summary != change.summary:
            lines += ["The summary changed. It was:", decision.previous.summary]
        lines.append("")
    lines += [change.summary, ""]
    moved = movement_lines(change.facts)
    if moved:
        lines += [f"Movement since {change.facts.get('previous_month')}:", *moved, ""]
    lines += ["Why it matters:"]
    lines += [f"- {m.case_type}: {m.rationale} (score {m.score:.2f}, {m.method}){_matters(counts.get(m.case_type))}"
              for m in matches]
    if impact is not None and (impact.became_current or impact.fell_behind):
        lines += [f"Open matters that became current: {len(impact.became_current)}; "
                  f"fell behind: {len(impact.fell_behind)}"]
    if matter_refs:
        lines += [f"Your team's open matters: {', '.join(matter_refs)}"]
    for task in tasks:
        lines += [f"Training task for {task.team}: {task.title} (due {task.due})"]
    lines += ["", f"Link: {change.url}", f"Ref: {ref}"]
    text = "\n".join(lines)
    return subject, text, _html(decision, matches, ref, counts, level, label, published, moved, impact, matter_refs,
                                tasks)


def _html(decision, matches, ref, counts, level, label, published, moved, impact, matter_refs, tasks) -> str:
    change = decision.change
    colour = {"URGENT": "#b00020", "ACTION": "#b35c00"}.get(level, "#33691e")
    items = "".join(f"<li><b>{escape(m.case_type)}</b>: {escape(m.rationale)}{escape(_matters(counts.get(m.case_type)))}</li>"
                    for m in matches)
    parts = [f'<p style="color:{colour};font-weight:bold">{escape(level)}</p>',
             f"<h2>{escape(label)}: {escape(change.title)}</h2>",
             f"<p>Source: {escape(change.source_id)}, published {escape(published)}</p>"]
    parts += [f"<p>{escape(d)}</p>" for d in _dates(change.facts)]
    if decision.status is Status.UPDATED and decision.previous and decision.previous.title != change.title:
        parts.append(f"<p><i>Title was:</i> {escape(decision.previous.title)}</p>")
    parts.append(f"<p>{escape(change.summary)}</p>")
    if moved:
        parts.append("<h3>Movement</h3><ul>" + "".join(f"<li>{escape(line)}</li>" for line in moved) + "</ul>")
    parts.append(f"<h3>Why it matters</h3><ul>{items}</ul>")
    if impact is not None and (impact.became_current or impact.fell_behind):
        parts.append(f"<p>Open matters that became current: {len(impact.became_current)}; "
                     f"fell behind: {len(impact.fell_behind)}</p>")
    if matter_refs:
        parts.append(f"<p>Your team's open matters: {escape(', '.join(matter_refs))}</p>")
    for task in tasks:
        parts.append(f"<p>Training task for {escape(task.team)}: {escape(task.title)} (due {escape(task.due)})</p>")
    parts.append(f"<p>{link(change.url)}</p>" + paragraphs(f"Ref: {ref}"))
    return "".join(parts)


def render_digest(mode: str, entries: Sequence[tuple[str, str, str]]) -> tuple[str, str, str]:
    """A digest of (subject, text, html) entries: one subject, the entries one after another."""
    subject = f"[watcher] {mode.capitalize()} digest: {len(entries)} change{'s' if len(entries) != 1 else ''}"
    text = "\n\n----------\n\n".join(t for _, t, _ in entries)
    html = "<hr>".join(h for _, _, h in entries)
    return subject, text, html
