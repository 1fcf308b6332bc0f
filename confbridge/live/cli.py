"""``confbridge live``: the websockets live server as a process of its own."""

from __future__ import annotations

import click

from confbridge.cli_context import get_runtime, get_settings, require_ports
from confbridge.i18n import N_, cli_text


@click.command("live")
@click.option("--port", type=int, default=None, help="Override live.port.")
@click.pass_context
def live_command(ctx: click.Context, port: int | None) -> None:
    """The live status server (WebSockets)."""
    from confbridge.live.runner import run_live_server

    settings = get_settings(ctx)
    if port is not None:
        settings = settings.with_overrides(**{"live.port": port})
    require_ports([(settings.live.host, settings.live.port, "live.port")])
    runtime = get_runtime(ctx, "live", settings)
    click.echo(cli_text(N_("máy chủ trực tiếp: %(url)s (bus: %(bus)s)"),
                        url=f"ws://{settings.live.host}:{settings.live.port}", bus=settings.live.bus))
    run_live_server(settings, runtime=runtime)


def register(main: click.Group) -> None:
    main.add_command(live_command)
