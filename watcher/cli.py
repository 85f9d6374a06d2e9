"""The `watcher` command. Expected errors print one line naming what and where, and exit 2."""

from __future__ import annotations

import json
import logging
import os
import sys
import textwrap
from datetime import datetime, timezone
from pathlib import Path

import click

from . import app as app_module
from .errors import InputError, WatcherError
from .models import Fetched, SourceState, Validators


class WatcherGroup(click.Group):
    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except WatcherError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(2)


@click.group(cls=WatcherGroup)
@click.option("--config", "config_dir", envvar="WATCHER_CONFIG", default="config", show_default=True,
              type=click.Path(file_okay=False), help="Directory holding watcher.toml, sources.toml, case_types.toml.")
@click.option("--db", envvar="WATCHER_DB", type=click.Path(dir_okay=False), default=None,
              help="SQLite file (overrides storage.path).")
@click.option("-v", "--verbose", is_flag=True, help="Debug logging.")
@click.pass_context
def main(ctx: click.Context, config_dir: str, db: str | None, verbose: bool) -> None:
    """Keeps an immigration law firm current with policy changes."""
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # it logs every URL; our own lines say enough
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # two lines per job; missed or failed jobs still show
    ctx.obj = {"config_dir": config_dir, "db": db}


def _app(ctx: click.Context, *, create: bool = False, isolate_matcher: bool = False) -> app_module.App:
    from .cli_common import announce_creation

    config = app_module.load_config(ctx.obj["config_dir"], ctx.obj["db"])
    announce_creation(config.storage_path, create)
    app = app_module.build_app(config, create=create, environ=_environ(ctx), isolate_matcher=isolate_matcher)
    ctx.call_on_close(app.close)
    return app


def _environ(ctx: click.Context) -> dict[str, str]:
    """The environment, with $CREDENTIALS_DIRECTORY set from --credentials: the production config's
    `url_credential` targets can be checked before the unit starts (systemd sets it only inside the unit)."""
    environ = dict(os.environ)
    if ctx.obj.get("credentials"):
        environ["CREDENTIALS_DIRECTORY"] = str(ctx.obj["credentials"])
    return environ


def credentials_option(command):
    """`--credentials DIR`: read systemd credentials (one file per name) from DIR, outside systemd."""
    def remember(ctx: click.Context, _param, value):
        if value is not None:
            ctx.ensure_object(dict)["credentials"] = value
        return value
    return click.option("--credentials", type=click.Path(exists=True, file_okay=False, path_type=Path),
                        default=None, expose_value=False, callback=remember,
                        help="Directory holding the systemd credentials (as LoadCredential= would provide).")(command)


@main.group()
def config() -> None:
    """Inspect the configuration."""


@config.command("check")
@credentials_option
@click.pass_context
def config_check(ctx: click.Context) -> None:
    """Validate the three files, the source kinds and the targets; exit non-zero on any error."""
    from .notify.dispatch import build_targets
    from .credentials import resolve_secret

    cfg = app_module.load_config(ctx.obj["config_dir"], ctx.obj["db"])
    app_module.build_sources(cfg)
    environ = _environ(ctx)
    build_targets({t.name: resolve_secret(t, environ) for t in cfg.targets})
    click.echo(f"config OK: {len(cfg.sources)} sources, {len(cfg.case_types)} case types, "
               f"{len(cfg.relations)} cross-cutting relations, "
               f"{len(cfg.targets) or 'no'} targets{'' if cfg.targets else ' (alerts go to the console)'}, "
               f"database {cfg.storage_path}")


@main.command()
@click.pass_context
def run(ctx: click.Context) -> None:
    """Run the service: poll every source on its schedule and deliver alerts, until SIGTERM or Ctrl-C."""
    from .scheduler import Service

    # The model lives in a worker process started by the first item that needs it (matching/worker.py): READY
    # waits for neither model nor training, and the service's own process stays small.
    app = _app(ctx, create=True, isolate_matcher=True)
    Service(app).serve()


@main.command("test-send")
@click.argument("target")
@credentials_option
@click.pass_context
def test_send(ctx: click.Context, target: str) -> None:
    """Send one test message to TARGET now (not through the outbox), and say whether it was accepted."""
    from .credentials import resolve_secret
    from .notify.dispatch import Dispatcher, build_targets

    config = app_module.load_config(ctx.obj["config_dir"], ctx.obj["db"])
    chosen = [t for t in config.targets if t.name == target]
    if not chosen:
        known = ", ".join(t.name for t in config.targets) or "none configured"
        raise InputError(f"test-send: unknown target '{target}' (targets: {known})")
    url = resolve_secret(chosen[0], _environ(ctx))
    built = build_targets({target: url}, {target: chosen[0].format})
    now = datetime.now(timezone.utc)
    error = Dispatcher(None, built, now=lambda: now).send(
        target, "[watcher] Test message",
        f"This is a test message from watcher, sent {now:%Y-%m-%d %H:%M} UTC by `watcher test-send {target}`. "
        "Alerts for this target will arrive the same way.")
    if error:
        raise InputError(f"test-send: target '{target}' did not accept the message: {error}")
    click.echo(f"test message accepted by target '{target}'")


@main.command()
@click.argument("destination", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--init", is_flag=True, help="Create the database first if it does not exist yet.")
@click.pass_context
def backup(ctx: click.Context, destination: Path, init: bool) -> None:
    """A consistent copy of the database (VACUUM INTO, then an atomic rename); safe while the service runs."""
    from .cli_common import load_config, open_store

    store = open_store(ctx, load_config(ctx), create=init)
    written = store.backup(destination)
    click.echo(f"backup of {store.path.resolve()} written: {written} ({written.stat().st_size} bytes, mode 0600)")


@main.command()
@click.argument("source_id", required=False)
@click.option("--all", "all_sources", is_flag=True, help="Check every enabled source.")
@click.pass_context
def check(ctx: click.Context, source_id: str | None, all_sources: bool) -> None:
    """Run one cycle now (ignoring backoff), deliver what it produced, then exit."""
    from .pipeline import run_source

    if bool(source_id) == all_sources:
        raise InputError("check: give a SOURCE_ID or --all, not both or neither")
    app = _app(ctx, create=True)  # a cycle, like the service's: it may start the database
    chosen = [s for s in app.sources if s.config.enabled] if all_sources else \
        [s for s in app.sources if s.config.id == app.config.source(source_id).id]
    failures = 0
    for source in chosen:
        result = run_source(app.context, source, force=True)
        failures += result.outcome == "error"
        detail = f" [{result.error_class}] {result.error_message}" if result.error_class else ""
        click.echo(f"{result.source_id}: {result.outcome} new={result.new} updated={result.updated} "
                   f"messages={result.messages}{detail}")
    sent = app.dispatcher.run()
    click.echo(f"dispatch: sent={sent.sent} failed={sent.failed} dead={sent.dead}")
    sys.exit(1 if failures else 0)


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M") if moment else "never"


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@credentials_option
@click.pass_context
def status(ctx: click.Context, as_json: bool) -> None:
    """Which database, then per source: health, last success, failures, items, last error; targets; the outbox.
    Needs no secret: a target whose credential cannot be read is listed as such (see --credentials)."""
    from .cli_common import load_config, open_store

    config = load_config(ctx)
    store = open_store(ctx, config)
    states = {s.source_id: s for s in store.sources.all()}
    rows = [(s, states.get(s.id) or SourceState(s.id)) for s in config.sources]
    targets = _target_states(config, _environ(ctx))
    outbox = store.outbox.counts()
    if as_json:
        click.echo(json.dumps({"database": str(store.path.resolve()), "sources": [_status_json(c, st) for c, st in rows],
                               "targets": targets, "outbox": outbox}, indent=2))
        return
    click.echo(f"database: {store.path.resolve()}")
    click.echo(f"{'source':<28} {'kind':<18} {'health':<16} {'last success':<17} {'fails':>5} {'items':>6}")
    for cfg, st in rows:
        click.echo(f"{cfg.id[:28]:<28} {cfg.kind[:18]:<18} {_health(cfg, st):<16} {_when(st.last_success_at):<17} "
                   f"{st.consecutive_failures:>5} {st.item_count:>6}")
        if len(cfg.id) > 28:
            click.echo(f"    id: {cfg.id}")
        if st.last_error_class:
            # Wrapped under the row, never cut: the end of an error message is often the part that explains it.
            for line in textwrap.wrap(f"last error [{st.last_error_class}] {st.last_error_message}", 100,
                                      break_long_words=True, break_on_hyphens=False):
                click.echo(f"    {line}")
    for name, state in targets.items():
        click.echo(f"target {name}: {state}")
    click.echo("outbox: " + (", ".join(f"{k}={v}" for k, v in sorted(outbox.items())) or "empty"))


def _health(cfg, st: SourceState) -> str:
    """`ok` only after a success: a source that was tried and never got through says so."""
    if not cfg.enabled:
        return "disabled"
    if st.last_success_at is None:
        return "never succeeded" if st.last_attempt_at else "not polled yet"
    return st.health


def _target_states(config, environ) -> dict[str, str]:
    from .credentials import resolve_secret
    from .errors import ConfigError

    states = {}
    for target in config.targets:
        try:
            resolve_secret(target, environ)
            states[target.name] = "credential readable"
        except ConfigError as exc:
            states[target.name] = str(exc).split(": ", 2)[-1]
    return states


def _status_json(cfg, st: SourceState) -> dict:
    def iso(moment):
        return moment.isoformat() if moment else None
    return {"id": cfg.id, "kind": cfg.kind, "enabled": cfg.enabled, "state": _health(cfg, st),
            "last_success_at": iso(st.last_success_at),
            "last_attempt_at": iso(st.last_attempt_at), "consecutive_failures": st.consecutive_failures,
            "last_error_class": st.last_error_class, "last_error_message": st.last_error_message,
            "backoff_until": iso(st.backoff_until), "item_count": st.item_count, "health": st.health,
            "health_since": iso(st.health_since), "last_new_item_at": iso(st.last_new_item_at)}


@main.command()
@click.option("--since", type=click.DateTime(formats=["%Y-%m-%d"]), default=None, help="YYYY-MM-DD")
@click.option("--limit", type=click.IntRange(1, 10000), default=200, show_default=True)
@credentials_option  # accepted like status's: it reads no secret, so it never fails for want of one
@click.pass_context
def changes(ctx: click.Context, since: datetime | None, limit: int) -> None:
    """List stored changes, newest first (baseline items included), each with the id `feedback` takes."""
    from .cli_common import load_config, open_store

    store = open_store(ctx, load_config(ctx))
    since = since.replace(tzinfo=timezone.utc) if since else None
    for c in store.changes.listing(since, limit):
        codes = ",".join(c.case_types) or "-"
        click.echo(f"{c.id:>6}  {c.updated_at[:16]}  {c.source_id:<24} v{c.version}  [{codes}]  "
                   f"{c.title[:90]}  {c.url}")


@main.command()
@click.argument("kind")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--url", default="https://example.invalid/saved", help="The URL the page was saved from.")
def parse(kind: str, file: Path, url: str) -> None:
    """Print, as JSON lines, the changes source KIND extracts from a saved response FILE."""
    from .config import Schedule, SourceConfig
    from .sources.base import build, load_kinds

    source = build(SourceConfig(id=f"file-{kind}", kind=kind, url=url, schedule=Schedule()), load_kinds())
    fetched = Fetched(url=url, status=200, body=file.read_bytes(), headers={}, validators=Validators())
    for change in source.parse(fetched):
        record = {"id": change.item_key, "source": change.source_id, "kind": change.kind, "title": change.title,
                  "summary": change.summary, "url": change.url,
                  "published": change.published.isoformat() if change.published else None, "facts": change.facts}
        click.echo(json.dumps(record, ensure_ascii=False, default=str))


@main.group()
def users() -> None:
    """Accounts for the web page (`watcher web`)."""


@users.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(["attorney", "coordinator", "admin"]), required=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input (for scripts).")
@click.pass_context
def users_add(ctx: click.Context, name: str, role: str, password_stdin: bool) -> None:
    """Add an account; the password is asked for (twice) unless --password-stdin."""
    from .cli_common import load_config, open_store

    store = open_store(ctx, load_config(ctx), create=True)  # accounts may come before the service's first start
    password = sys.stdin.readline().rstrip("\n") if password_stdin else \
        click.prompt("Password (12 characters or more)", hide_input=True, confirmation_prompt=True)
    with store.transaction():
        user = store.web.add_user(name, role, password, datetime.now(timezone.utc))
    click.echo(f"user {user.name} added ({user.role})")


@users.command("list")
@click.pass_context
def users_list(ctx: click.Context) -> None:
    from .cli_common import load_config, open_store

    for user in open_store(ctx, load_config(ctx)).web.users():
        click.echo(f"{user.name:<24} {user.role}")


@users.command("disable")
@click.argument("name")
@click.pass_context
def users_disable(ctx: click.Context, name: str) -> None:
    """Sign the account out everywhere and refuse it from now on."""
    from .cli_common import load_config, open_store

    store = open_store(ctx, load_config(ctx))
    with store.transaction():
        if not store.web.disable_user(name):
            raise InputError(f"users disable: no user '{name}'")
    click.echo(f"user {name} disabled")


@main.command()
@click.option("--host", default=None, help="Address to listen on (default: [web] host, 127.0.0.1).")
@click.option("--port", type=click.IntRange(1, 65535), default=None, help="Port (default: [web] port, 8640).")
@click.pass_context
def web(ctx: click.Context, host: str | None, port: int | None) -> None:
    """Serve the web page (changes, feedback, tasks, health) until SIGTERM; meant to sit behind a reverse proxy."""
    import waitress

    from .cli_common import load_config, open_store
    from .web import create_app

    config = load_config(ctx)
    store = open_store(ctx, config)
    host, port = host or config.web.host, port or config.web.port
    click.echo(f"watcher web on http://{host}:{port} (database {store.path.resolve()})", err=True)
    waitress.serve(create_app(config, store), host=host, port=port, threads=4, ident="watcher",
                   url_scheme="https" if config.web.public_url and config.web.public_url.startswith("https") else "http")


from .cli_matching import register as register_matching  # noqa: E402  (commands defined there)
from .cli_notify import register as register_notify  # noqa: E402

register_matching(main)
register_notify(main)

if __name__ == "__main__":
    main()
