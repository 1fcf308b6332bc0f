"""``confbridge scheduler``: the only process that launches conferences (and, when active, delivers the
invitation outbox)."""

from __future__ import annotations

import click

from confbridge.cli_context import get_runtime, get_settings


@click.command("scheduler")
@click.pass_context
def scheduler_command(ctx: click.Context) -> None:
    """Launch and end booked conferences on time.

    Several started against the same database share the bridges (a lease per bridge); one alone drives all.
    """
    from confbridge.scheduler.process import run_scheduler

    settings = get_settings(ctx)
    run_scheduler(settings, runtime=get_runtime(ctx, "scheduler", settings))


def register(main: click.Group) -> None:
    main.add_command(scheduler_command)
