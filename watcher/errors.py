"""One exception family. Every error the service expects carries a short class for `watcher status`."""

from __future__ import annotations

from datetime import datetime


class WatcherError(Exception):
    """Base of every error watcher raises on purpose; anything else is a bug."""

    error_class = "error"


class ConfigError(WatcherError):
    """Bad configuration; the message names the file and the path (`sources.toml: source[2].url: ...`)."""

    error_class = "config"


class FetchError(WatcherError):
    """A fetch failed. `error_class` is one of the classes listed in FETCH_CLASSES."""

    def __init__(self, error_class: str, message: str, *, retry_after: datetime | None = None):
        super().__init__(message)
        self.error_class = error_class
        self.retry_after = retry_after


# The operator-facing classes (RELIABILITY A11); `watcher status` shows exactly these words.
FETCH_CLASSES = (
    "dns", "tls", "connect", "timeout", "deadline", "transport", "blocked", "forbidden",
    "unauthorized", "not_found", "rate_limited", "server_error", "http_error", "too_large",
    "empty", "redirect", "refused_url",
)


class ParseError(WatcherError):
    """An upstream response could not be read, or yielded nothing ("parser broken")."""

    error_class = "parse"

    def __init__(self, message: str, *, broken: bool = False):
        super().__init__(message)
        if broken:
            self.error_class = "parser_broken"


class StorageError(WatcherError):
    """The SQLite file cannot be used safely (locked, foreign, newer schema, corrupt)."""

    error_class = "storage"


class DeliveryError(WatcherError):
    """A target could not be reached or refused the message."""

    error_class = "delivery"


class MatcherError(WatcherError):
    """The matcher's worker process died, hung or failed; the cycle stores nothing and is retried."""

    error_class = "matcher"


class InputError(WatcherError):
    """Bad user input on the command line or in an imported file."""

    error_class = "input"
