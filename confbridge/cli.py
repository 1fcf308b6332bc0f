"""The ``confbridge`` command.

Thin: parse arguments, load settings, call one service, print.  Feature packages contribute their own
click commands (``confbridge/<feature>/cli.py``); they take their settings and runtime from
:mod:`confbridge.cli_context`, so importing them here makes no import circle.
"""

from __future__ import annotations

import sys

import click

from confbridge import core_cli
from confbridge.bridges import cli as bridges_cli
from confbridge.invites import cli as invites_cli
from confbridge.live import cli as live_cli
from confbridge.scheduler import cli as scheduler_cli


@click.group()
@click.option("--config", "config", type=click.Path(dir_okay=False), default=None,
              help="Settings file (default: $CONFBRIDGE_CONFIG or config/confbridge.toml).")
@click.pass_context
def main(ctx: click.Context, config: str | None) -> None:
    """confbridge — video-conference scheduler and bridge manager."""
    ctx.ensure_object(dict)["config"] = config


for _module in (core_cli, bridges_cli, scheduler_cli, live_cli, invites_cli):
    _module.register(main)

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
