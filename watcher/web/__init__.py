"""`watcher web`: the firm's web page. Server-rendered HTML (Flask, Jinja2 templates with autoescaping), served by
waitress on 127.0.0.1 behind the firm's reverse proxy; no JavaScript needed to read or act.

Who may do what is `ROLES_MAY`; every page needs a session, every POST a CSRF token, and nothing is written without
the user's name beside it. See docs/architecture.md ("Web") for why Flask and waitress.
"""

from __future__ import annotations

from .app import ROLES_MAY, create_app

__all__ = ["ROLES_MAY", "create_app"]
