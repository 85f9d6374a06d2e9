"""CLI commands for training coordinators: tasks and briefing agendas."""

from __future__ import annotations

import sys
from datetime import datetime, timezone

import click

from .errors import InputError
from .notify.agenda import meeting_start, render_html, render_ics, render_markdown
from .notify.weekly import make_agenda
from .cli_common import load_config, open_store


def _store(ctx: click.Context):
    config = load_config(ctx)
    return config, open_store(ctx, config)


@click.group()
def tasks() -> None:
    """Staff-training tasks created for ACTION and URGENT changes."""


@tasks.command("list")
@click.option("--status", type=click.Choice(["open", "acknowledged", "done", "all"]), default="open", show_default=True)
@click.option("--team", default=None)
@click.pass_context
def tasks_list(ctx: click.Context, status: str, team: str | None) -> None:
    _, store = _store(ctx)
    rows = store.tasks.listing(None if status == "all" else status, team)
    if not rows:
        click.echo("no tasks")
    for row in rows:
        task = row.task
        click.echo(f"#{row.id:<4} {task.due}  {task.urgency:<6} {row.status:<12} {task.team:<14} {task.title}")
        for item in task.checklist:
            click.echo(f"        - {item}")


def _set(ctx: click.Context, task_id: int, status: str) -> None:
    _, store = _store(ctx)
    with store.transaction():
        found = store.tasks.set_status(task_id, status, datetime.now(timezone.utc))
    if not found:
        raise InputError(f"tasks: no task #{task_id} (see `watcher tasks list --status all`)")
    click.echo(f"task #{task_id}: {status}")


@tasks.command("done")
@click.argument("task_id", type=int)
@click.pass_context
def tasks_done(ctx: click.Context, task_id: int) -> None:
    """Mark a task done."""
    _set(ctx, task_id, "done")


@tasks.command("ack")
@click.argument("task_id", type=int)
@click.pass_context
def tasks_ack(ctx: click.Context, task_id: int) -> None:
    """Acknowledge a task (seen, not yet done)."""
    _set(ctx, task_id, "acknowledged")


@click.command()
@click.option("--from", "start", required=True, type=click.DateTime(formats=["%Y-%m-%d"]))
@click.option("--to", "end", required=True, type=click.DateTime(formats=["%Y-%m-%d"]))
@click.option("--format", "fmt", type=click.Choice(["md", "html", "ics"]), default="md", show_default=True)
@click.option("--team", default=None, help="Only the case types this team has open matters in.")
@click.option("--group", type=click.Choice(["case_type", "team"]), default=None,
              help="Sections by case type or by team (default: [agenda] group).")
@click.pass_context
def agenda(ctx: click.Context, start: datetime, end: datetime, fmt: str, team: str | None, group: str | None) -> None:
    """A briefing agenda of the changes announced from --from to --to (inclusive); `ics` is the invite for a
    meeting inside that period, in [agenda] timezone."""
    if end < start:
        raise InputError("agenda: --to is before --from")
    config, store = _store(ctx)
    settings = config.agenda
    result = make_agenda(store, start.date(), end.date(), team, group or settings.group)
    meeting = meeting_start(settings.meeting, result.start, result.end, settings.timezone)
    if fmt == "ics":
        sys.stdout.buffer.write(render_ics(result, settings.meeting, settings.timezone, settings.organizer,
                                           settings.attendees))
    else:
        click.echo(render_markdown(result, meeting) if fmt == "md" else render_html(result, meeting))


def register(group: click.Group) -> None:
    group.add_command(tasks)
    group.add_command(agenda)
