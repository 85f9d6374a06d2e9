"""What every subcommand needs: the configuration, and a store closed when the command ends."""

from __future__ import annotations

import click

from . import app as app_module
from .config import Config
from .store import Store


def load_config(ctx: click.Context) -> Config:
    return app_module.load_config(ctx.obj["config_dir"], ctx.obj["db"])


def open_store(ctx: click.Context, config: Config) -> Store:
    store = Store(config.storage_path)
    ctx.call_on_close(store.close)
    return store
