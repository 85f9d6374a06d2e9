"""Sessions, CSRF and the login rate limit: small, and each a direct reading of the OWASP cheat sheets.

The session is Flask's signed cookie (itsdangerous, HMAC-SHA512 over the site key kept in the database) carrying
only the user's name, a CSRF token and the time of the last request; the account is re-read on every request, so
a disabled user is out at once. Cookies are HttpOnly, Secure and SameSite=Strict.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections import defaultdict, deque
from typing import Callable

LOGIN_WINDOW = 15 * 60   # seconds
LOGIN_FAILURES = 5       # failed sign-ins per name, and per address, within the window


def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)


def csrf_ok(session_token: str | None, form_token: str | None) -> bool:
    return bool(session_token and form_token) and hmac.compare_digest(session_token, form_token)


class LoginLimiter:
    """At most LOGIN_FAILURES failed sign-ins per user name and per client address in LOGIN_WINDOW seconds."""

    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self.clock = clock
        self._failures: dict[str, deque] = defaultdict(deque)
        self._lock = threading.Lock()

    def blocked(self, *keys: str) -> bool:
        with self._lock:
            return any(len(self._recent(key)) >= LOGIN_FAILURES for key in keys)

    def failed(self, *keys: str) -> None:
        with self._lock:
            for key in keys:
                self._recent(key).append(self.clock())

    def succeeded(self, *keys: str) -> None:
        with self._lock:
            for key in keys:
                self._failures.pop(key, None)

    def _recent(self, key: str) -> deque:
        times, cutoff = self._failures[key], self.clock() - LOGIN_WINDOW
        while times and times[0] < cutoff:
            times.popleft()
        return times
