"""watcher: keeps an immigration law firm current with policy changes."""

__version__ = "0.1.0"
