"""``confbridge scheduler``: the only process that launches conferences."""

from __future__ import annotations

import logging

import click

from confbridge.cli import get_settings


@click.command("scheduler")
@click.pass_context
def scheduler_command(ctx: click.Context) -> None:
    """Khởi tạo/kết thúc hội nghị đúng giờ / launch and end booked conferences on time.

    One scheduler is active; others started against the same database stand by.
    """
    from confbridge.scheduler.process import run_scheduler

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    run_scheduler(get_settings(ctx))


def register(main: click.Group) -> None:
    main.add_command(scheduler_command)
