"""The one redaction function for anything that may hold a target's secret (an apprise URL, or text quoting one).

Apprise URLs carry their secrets in every part: Slack, Discord and Telegram tokens in the host and path, an SMTP
password in the userinfo, API keys in the query. Where apprise can read a URL, its own privacy form is used
(`T...2/A...D`); where it cannot (a malformed URL is exactly what `config check` reports), only the scheme is
shown, plus the host for schemes whose host is a server name.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import apprise

# Schemes whose host part is a machine, not a token; for the rest (slack://TOKEN/...) even the host is secret.
SERVER_SCHEMES = {"mailto", "mailtos", "json", "jsons", "xml", "xmls", "form", "forms", "http", "https",
                  "workflow", "workflows"}
_URL = re.compile(r"\b[a-z][a-z0-9+.-]{1,20}://[^\s'\"<>]+", re.IGNORECASE)


def redact_url(url: str) -> str:
    plugin = None
    try:
        plugin = apprise.Apprise.instantiate(url, suppress_exceptions=True)
    except Exception:  # a plugin that raises on a malformed URL must not leak it through a traceback
        plugin = None
    if plugin:
        return plugin.url(privacy=True).split("?")[0]
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:
        return "<unreadable URL>"
    scheme = parts.scheme.lower()
    shown = f"{scheme}://"
    if scheme in SERVER_SCHEMES and host:
        shown += ("***@" if parts.username or parts.password else "") + host
    return shown + "/***" if url[len(scheme) + 3:].strip("/") else shown


def redact(text: str) -> str:
    """Every URL in `text` (an error message, a log line) in its redacted form."""
    return _URL.sub(lambda m: redact_url(m.group(0)), text)
