"""Secrets the configuration names but never holds: targets' apprise URLs and API tokens, read from a systemd
credential or an environment variable when they are needed."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Mapping

from .config import TargetConfig
from .errors import ConfigError

UNIT_PREFIX = "watcher_"  # LoadCredential=watcher:<directory> names each file watcher_<file>


def resolve_secret(target: TargetConfig, environ: Mapping[str, str] = os.environ) -> str:
    """Read a target's apprise URL from its credential file or environment variable."""
    return read_secret(f"watcher.toml: target '{target.name}'", env=target.url_env,
                       credential=target.url_credential, environ=environ)


def read_secret(owner: str, *, env: str | None, credential: str | None,
                environ: Mapping[str, str] = os.environ) -> str:
    """A secret from $CREDENTIALS_DIRECTORY/<credential> (systemd LoadCredential=) or an environment variable."""
    if credential:
        directory = environ.get("CREDENTIALS_DIRECTORY")
        if not directory:
            raise ConfigError(f"{owner}: credential '{credential}' needs $CREDENTIALS_DIRECTORY "
                              "(systemd LoadCredential=)")
        # The unit loads the whole directory (LoadCredential=watcher:/etc/watcher/credentials), which systemd
        # names "watcher_<file>"; `--credentials DIR` outside systemd, or one LoadCredential= per file, gives the
        # bare name. Both spellings are read, so the config names the file the admin wrote.
        path = Path(directory) / credential
        if not path.exists() and (Path(directory) / f"{UNIT_PREFIX}{credential}").exists():
            path = Path(directory) / f"{UNIT_PREFIX}{credential}"
        try:
            value = path.read_text().strip()
        except OSError as exc:
            raise ConfigError(f"{owner}: cannot read credential '{credential}': {exc.strerror}") from None
    else:
        value = environ.get(env or "", "").strip()
        if not value:
            raise ConfigError(f"{owner}: environment variable '{env}' is not set")
    return value
