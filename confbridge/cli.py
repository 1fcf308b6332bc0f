"""The ``confbridge`` command.

Thin: parse arguments, load settings, call one service, print.  Feature packages contribute their own
click commands (``confbridge/<feature>/cli.py``), registered at the bottom of this file.
"""

from __future__ import annotations

import importlib
import sys

import click

from confbridge.settings import Settings, SettingsError, load_settings


def get_settings(ctx: click.Context) -> Settings:
    """Settings for this invocation, loaded once; a bad setting ends the command with its message."""
    obj = ctx.ensure_object(dict)
    if "settings" not in obj:
        try:
            obj["settings"] = load_settings(obj.get("config"))
        except SettingsError as exc:
            raise click.ClickException(str(exc)) from None
    settings: Settings = obj["settings"]
    return settings


class _LazyGroup(click.Group):
    """Feature commands are registered on first use, after this module is fully imported (they import
    ``get_settings`` from here)."""

    _registered = False

    def _ensure(self) -> None:
        if not _LazyGroup._registered:
            _LazyGroup._registered = True
            _register(self)

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._ensure()
        return super().list_commands(ctx)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        self._ensure()
        return super().get_command(ctx, cmd_name)


@click.group(cls=_LazyGroup)
@click.option("--config", "config", type=click.Path(dir_okay=False), default=None,
              help="Settings file (default: $CONFBRIDGE_CONFIG or config/confbridge.toml).")
@click.pass_context
def main(ctx: click.Context, config: str | None) -> None:
    """confbridge — lịch và điều khiển hội nghị truyền hình / video-conference scheduler."""
    ctx.ensure_object(dict)["config"] = config


def _register(group: click.Group) -> None:
    from confbridge.core_cli import register as register_core

    register_core(group)
    for module_name in (
        "confbridge.bridges.cli",
        "confbridge.scheduler.cli",
        "confbridge.live.cli",
        "confbridge.invites.cli",
    ):
        importlib.import_module(module_name).register(group)

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
