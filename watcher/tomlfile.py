"""A TOML file read as tables that know where they came from, so every configuration error can name its file
and path (`sources.toml: source[2].url: must be https`) in one line.
"""

from __future__ import annotations

import difflib
import tomllib
from pathlib import Path
from typing import Any

from .errors import ConfigError


class Section:
    """A TOML table plus where it came from, so every error can say `file: path.key: problem`."""

    def __init__(self, file: str, path: str, data: Any):
        self.file, self.path = file, path
        if not isinstance(data, dict):
            raise self.error(f"must be a table, got {type(data).__name__}")
        self.data = data

    def where(self, key: str | None = None) -> str:
        path = f"{self.path}.{key}" if self.path and key else (key or self.path)
        return f"{self.file}: {path}" if path else self.file

    def error(self, message: str, key: str | None = None) -> ConfigError:
        return ConfigError(f"{self.where(key)}: {message}")

    def allow(self, *keys: str) -> None:
        for key in self.data:
            if key not in keys:
                raise self.error("unknown key" + did_you_mean(key, keys), key)

    def get(self, key: str, kind: type | tuple[type, ...], default: Any = ..., *, required: bool = False) -> Any:
        if key not in self.data:
            if required or default is ...:
                typo = difflib.get_close_matches(key, [str(k) for k in self.data], n=1, cutoff=0.75)
                raise self.error("is required" + (f" (is '{typo[0]}' a typo of '{key}'?)" if typo else ""), key)
            return default
        value = self.data[key]
        # bool is an int in Python; a number must not accept `true`.
        if isinstance(value, bool) and bool not in _as_tuple(kind):
            raise self.error(f"must be {_kind_name(kind)}, got a boolean", key)
        if not isinstance(value, kind):
            raise self.error(f"must be {_kind_name(kind)}, got {type(value).__name__}", key)
        return value

    def text(self, key: str, default: Any = ..., *, required: bool = False) -> str:
        value = self.get(key, str, default, required=required)
        if isinstance(value, str) and required and not value.strip():
            raise self.error("must not be empty", key)
        return value

    def strings(self, key: str, default: tuple[str, ...] = ()) -> tuple[str, ...]:
        values = self.get(key, list, list(default))
        for i, value in enumerate(values):
            if not isinstance(value, str) or not value.strip():
                raise self.error(f"[{i}] must be a non-empty string", key)
        return tuple(values)

    def number(self, key: str, default: float, *, minimum: float = 0) -> float:
        value = self.get(key, (int, float), default)
        if value <= minimum:
            raise self.error(f"must be greater than {minimum}", key)
        return float(value)

    def section(self, key: str) -> Section:
        return Section(self.file, self.where(key).split(": ", 1)[-1], self.data.get(key, {}))

    def items(self, key: str) -> list[Section]:
        values = self.get(key, list, [])
        return [Section(self.file, f"{key}[{i}]", v) for i, v in enumerate(values)]


def did_you_mean(key: str, known) -> str:
    close = difflib.get_close_matches(key, list(known), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _as_tuple(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


def _kind_name(kind: type | tuple[type, ...]) -> str:
    names = {str: "a string", int: "an integer", float: "a number", bool: "true or false",
             list: "a list", dict: "a table"}
    return " or ".join(names.get(k, k.__name__) for k in _as_tuple(kind))


def read_toml(path: Path) -> Section:
    try:
        with path.open("rb") as handle:
            return Section(path.name, "", tomllib.load(handle))
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path.name}: invalid TOML: {exc}") from None
