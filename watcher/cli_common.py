"""What every subcommand needs: the configuration, and a store closed when the command ends."""

from __future__ import annotations

import click

from . import app as app_module
from .config import Config
from .store import Store


def announce_creation(path, create: bool) -> None:
    if create and not path.exists():
        click.echo(f"creating a new database at {path.resolve()}", err=True)


def load_config(ctx: click.Context) -> Config:
    return app_module.load_config(ctx.obj["config_dir"], ctx.obj["db"])


def open_store(ctx: click.Context, config: Config, *, create: bool = False) -> Store:
    """The configured database; a missing one is an error unless the command is one that creates it, and then
    creating it is said out loud (a new empty file in the wrong place is how a backup of nothing looked fine)."""
    announce_creation(config.storage_path, create)
    store = Store(config.storage_path, create=create)
    ctx.call_on_close(store.close)
    return store
