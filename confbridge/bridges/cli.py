"""``confbridge mcu-emulator`` and ``confbridge bridges probe NAME``."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from confbridge.bridges.base import AuthError, BridgeError
from confbridge.i18n import N_, cli_text
from confbridge.settings import SettingsError


@click.command("mcu-emulator")
@click.option("--host", default="127.0.0.1", show_default=True, help="Loopback address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=8091, show_default=True,
              help="XML-RPC port (0: any free port; the ready line says which).")
@click.option("--control-port", type=click.IntRange(0, 65535), default=0, show_default=True,
              help="JSON control API port (0: any free port).")
@click.option("--username", default="admin", show_default=True)
@click.option("--password-env", default=None, help="Environment variable holding the API password.")
@click.option("--password-file", type=click.Path(dir_okay=False), default=None,
              help="File holding the API password.")
@click.option("--latency-ms", type=click.IntRange(0, 60000), default=0, show_default=True,
              help="Added to every API call.")
@click.option("--max-concurrent", type=click.IntRange(1, 64), default=4, show_default=True,
              help="Concurrent API requests before fault 203.")
@click.option("--over-limit", type=click.Choice(["fault", "queue"]), default="fault", show_default=True)
@click.option("--page-size", type=click.IntRange(1, 1000), default=5, show_default=True,
              help="participant.enumerate page size.")
@click.option("--scenario", type=click.Choice(["demo", "none"]), default="none", show_default=True)
@click.option("--endpoints-file", type=click.Path(dir_okay=False, exists=True), default=None)
@click.option("--answer-delay", type=click.FloatRange(0, 600), default=0.2, show_default=True,
              help="Seconds before an unscripted address answers.")
@click.option("--auth-fault", type=click.Choice(["14", "15"]), default="15", show_default=True)
@click.option("--api-version", default="2.9", show_default=True)
@click.option("--video-ports", type=click.IntRange(1, 100000), default=40, show_default=True)
@click.option("--max-conferences", type=click.IntRange(1, 100000), default=200, show_default=True)
@click.option("--max-participants", type=click.IntRange(1, 100000), default=500, show_default=True)
def mcu_emulator(host: str, port: int, control_port: int, username: str, password_env: str | None,
                 password_file: str | None, latency_ms: int, max_concurrent: int, over_limit: str,
                 page_size: int, scenario: str, endpoints_file: str | None, answer_delay: float,
                 auth_fault: str, api_version: str, video_ports: int, max_conferences: int,
                 max_participants: int) -> None:
    """Run the Cisco TelePresence MCU emulator (XML-RPC API 2.9) until SIGTERM."""
    from confbridge.bridges.emulator import EmulatorOptions, is_loopback, serve

    if not is_loopback(host):
        raise click.BadParameter("the emulator listens on loopback only", param_hint="--host")
    password = ""
    if password_env:
        if password_env not in os.environ:
            raise click.ClickException(cli_text(N_("--password-env: chưa đặt biến môi trường %(name)s"),
                                                name=password_env))
        password = os.environ[password_env]
    elif password_file:
        password = Path(password_file).read_text(encoding="utf-8").strip()
    else:
        click.echo(cli_text(N_("mcu-emulator: chưa cấu hình mật khẩu: mật khẩu nào cũng được chấp nhận")), err=True)
    serve(EmulatorOptions(
        host=host, port=port, control_port=control_port, username=username, password=password,
        latency_ms=latency_ms, max_concurrent=max_concurrent, over_limit=over_limit, page_size=page_size,
        scenario=scenario, endpoints_file=endpoints_file, default_answer_delay=answer_delay,
        auth_fault=int(auth_fault), api_version=api_version, video_ports=video_ports,
        max_conferences=max_conferences, max_participants=max_participants,
    ))


def describe_error(exc: BaseException) -> str:
    """One line a technician can act on (never containing the password)."""
    from confbridge.bridges.xmlrpc_transport import NotAnMcuApi, TimedOut, Unreachable

    if isinstance(exc, AuthError):
        return cli_text(N_("đăng nhập thất bại (kiểm tra tên đăng nhập và mật khẩu)"))
    if isinstance(exc, Unreachable):
        return cli_text(N_("không kết nối được (%(detail)s)"), detail=exc.message)
    if isinstance(exc, TimedOut):
        return cli_text(N_("quá thời gian chờ (%(detail)s)"), detail=exc.message)
    if isinstance(exc, NotAnMcuApi):
        return cli_text(N_("không phải API của MCU (%(detail)s)"), detail=exc.message)
    if isinstance(exc, BridgeError):
        return exc.message
    return str(exc)


@click.group("bridges")
def bridges_group() -> None:
    """Video bridges (MCU): probe and inspect."""


@bridges_group.command("probe")
@click.argument("name")
@click.pass_context
def probe(ctx: click.Context, name: str) -> None:
    """Print model, versions, ports and health of bridge NAME, or one line saying what is wrong."""
    from confbridge.bridges.registry import make_driver
    from confbridge.cli_context import get_settings

    bridge = get_settings(ctx).bridge(name)
    if bridge is None:
        raise click.ClickException(cli_text(N_("không có MCU tên “%(name)s” trong cấu hình"), name=name))
    try:
        # A probe answers "is it there?" now: one try, no backoff.
        driver = make_driver(bridge.model_copy(update={"retry_attempts": 1}))
    except SettingsError as exc:
        raise click.ClickException(cli_text(N_("MCU “%(name)s”: %(error)s"), name=name, error=exc)) from None
    try:
        info = driver.probe()
        health = driver.health()
    except BridgeError as exc:
        raise click.ClickException(cli_text(N_("MCU “%(name)s” tại %(url)s: %(error)s"), name=name, url=bridge.url,
                                            error=describe_error(exc))) from None
    finally:
        driver.close()
    unknown = "?"
    click.echo(cli_text(N_("MCU:       %(name)s (%(url)s)"), name=name, url=bridge.url))
    click.echo(cli_text(N_("thiết bị:  %(model)s (số sê-ri %(serial)s)"), model=info.model,
                        serial=info.serial or unknown))
    click.echo(cli_text(N_("phần mềm:  %(software)s   API %(api)s"), software=info.software_version,
                        api=info.api_version))
    click.echo(cli_text(N_("cổng:      hình %(video)s, chỉ tiếng %(audio)s"),
                        video=unknown if info.video_ports is None else info.video_ports,
                        audio=unknown if info.audio_ports is None else info.audio_ports))
    click.echo(cli_text(N_("đồng hồ:   %(clock)s"), clock=info.clock.isoformat() if info.clock else unknown))
    click.echo(cli_text(N_("tình trạng: %(state)s (%(detail)s)"), detail=health.detail,
                        state=cli_text(N_("tốt") if health.ok else N_("CÓ LỖI"))))
    sys.stdout.flush()


def register(main: click.Group) -> None:
    main.add_command(mcu_emulator)
    main.add_command(bridges_group)
