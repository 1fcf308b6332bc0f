"""Core commands: run, web, db upgrade, user add/passwd, demo seed, endpoints import."""

from __future__ import annotations

import logging
import signal
import sys
import threading
from pathlib import Path
from typing import Any

import click

from confbridge.cli_context import get_runtime, get_settings, require_ports
from confbridge.i18n import N_, cli_locale, cli_text
from confbridge.runtime import Runtime
from confbridge.settings import Settings

log = logging.getLogger("confbridge")


def _engine(settings: Settings) -> Any:
    from confbridge.db import make_engine

    return make_engine(settings.database.url, settings.database.echo)


def _migrate(settings: Settings) -> None:
    from confbridge.migrate import upgrade

    engine = _engine(settings)
    try:
        upgrade(engine)
    finally:
        engine.dispose()


# ---- db -----------------------------------------------------------------------------------------------
@click.group("db")
def db_group() -> None:
    """Database: migrations, backup and restore."""


@db_group.command("upgrade")
@click.option("--revision", default="head", show_default=True)
@click.pass_context
def db_upgrade(ctx: click.Context, revision: str) -> None:
    """Migrate the database to the newest schema."""
    from confbridge.migrate import upgrade

    settings = get_settings(ctx)
    engine = _engine(settings)
    upgrade(engine, revision)
    engine.dispose()
    click.echo(cli_text(N_("Cơ sở dữ liệu ở phiên bản %(revision)s"), revision=revision))


@db_group.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_context
def db_backup(ctx: click.Context, file: Path) -> None:
    """Back the database up into FILE (SQLite: online backup; PostgreSQL: pg_dump custom format)."""
    from confbridge.backup import BackupError, backup

    try:
        backup(get_settings(ctx).database.url, file)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(cli_text(N_("Đã ghi bản sao lưu vào %(file)s"), file=file))


@db_group.command("restore")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_context
def db_restore(ctx: click.Context, file: Path) -> None:
    """Restore FILE into the (empty) configured database; then run `confbridge db upgrade`."""
    from confbridge.backup import BackupError, restore

    try:
        restore(get_settings(ctx).database.url, file)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(cli_text(N_("Đã khôi phục %(file)s"), file=file))


# ---- users --------------------------------------------------------------------------------------------
@click.group("user")
def user_group() -> None:
    """User accounts."""


def _read_password() -> str:
    if sys.stdin.isatty():
        first = click.prompt(cli_text(N_("Mật khẩu")), hide_input=True)
        second = click.prompt(cli_text(N_("Nhập lại mật khẩu")), hide_input=True)
        if first != second:
            raise click.ClickException(cli_text(N_("Hai mật khẩu không khớp.")))
        return str(first)
    return sys.stdin.readline().rstrip("\r\n")


@user_group.command("add")
@click.argument("username")
@click.option("--role", type=click.Choice(["admin", "secretary", "technician", "approver"]), required=True)
@click.option("--email", default=None)
@click.option("--name", "display_name", default="", help="Display name")
@click.pass_context
def user_add(ctx: click.Context, username: str, role: str, email: str | None, display_name: str) -> None:
    """Create a user; the password is read from standard input (never from the command line)."""
    from confbridge.auth.service import create_user
    from confbridge.db import unit_of_work
    from confbridge.errors import DomainError

    password = _read_password()
    runtime = get_runtime(ctx)
    try:
        with unit_of_work(runtime.session_factory) as session:
            create_user(session, username, password, role, email=email, display_name=display_name)
    except DomainError as exc:
        details = "; ".join(f"{k}: {v}" for k, v in getattr(exc, "fields", {}).items())
        raise click.ClickException(exc.message + (f" ({details})" if details else "")) from None
    click.echo(cli_text(N_("Đã tạo tài khoản %(username)s (%(role)s)."), username=username, role=role))


@user_group.command("passwd")
@click.argument("username")
@click.pass_context
def user_passwd(ctx: click.Context, username: str) -> None:
    """Set a user's password (read from standard input); their sessions and tokens end."""
    from confbridge.auth.service import get_user, set_password
    from confbridge.db import unit_of_work
    from confbridge.errors import DomainError

    password = _read_password()
    try:
        with unit_of_work(get_runtime(ctx).session_factory) as session:
            set_password(session, get_user(session, username), password, None)
    except DomainError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(cli_text(N_("Đã đổi mật khẩu của %(username)s."), username=username))


# ---- endpoints ----------------------------------------------------------------------------------------
@click.group("endpoints")
def endpoints_group() -> None:
    """The endpoint directory."""


@endpoints_group.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.pass_context
def endpoints_import(ctx: click.Context, path: Path) -> None:
    """Import endpoints from a CSV (name,site,protocol,address,seats) or TOML file."""
    from confbridge.db import unit_of_work
    from confbridge.directory.service import import_csv, import_toml

    with unit_of_work(get_runtime(ctx).session_factory) as session:
        if path.suffix.lower() == ".toml":
            report = import_toml(session, path, None)
        else:
            report = import_csv(session, path.read_text(encoding="utf-8"), None)
    click.echo(cli_text(N_("Đã tạo %(created)s, cập nhật %(updated)s, lỗi %(errors)s."),
                        created=len(report.created), updated=len(report.updated), errors=len(report.errors)))
    for row, message in report.error_lines(cli_locale()):
        click.echo("  " + cli_text(N_("dòng %(row)s: %(message)s"), row=row, message=message), err=True)


# ---- demo ---------------------------------------------------------------------------------------------
@click.group("demo")
def demo_group() -> None:
    """Demo data."""


def _seed(runtime: Runtime, upcoming: bool) -> dict[str, str]:
    from confbridge import demo
    from confbridge.db import unit_of_work

    with unit_of_work(runtime.session_factory) as session:
        result = demo.seed(session, runtime.settings)
        if upcoming:
            demo.ensure_upcoming(session, runtime.settings)
    return result.passwords


def _print_credentials(passwords: dict[str, str]) -> None:
    if not passwords:
        click.echo(cli_text(N_("Tài khoản demo đã có từ lần chạy trước (mật khẩu chỉ in một lần; đặt lại bằng "
                               "`confbridge user passwd NAME`).")))
        return
    click.echo(cli_text(N_("Tài khoản đăng nhập (chỉ in một lần):")))
    for username, password in passwords.items():
        click.echo(f"  {username:<9} {password}")


@demo_group.command("seed")
@click.pass_context
def demo_seed(ctx: click.Context) -> None:
    """Endpoints, users with generated passwords, and a week of meetings."""
    settings = get_settings(ctx)
    _migrate(settings)
    _print_credentials(_seed(get_runtime(ctx), upcoming=False))


# ---- web and run ----------------------------------------------------------------------------------------
def _web_ports(settings: Settings) -> list[tuple[str, int, str]]:
    return [(settings.web.host, settings.web.port, "web.port")]


def _run_ports(settings: Settings) -> list[tuple[str, int, str]]:
    checks = [*_web_ports(settings), (settings.live.host, settings.live.port, "live.port")]
    if settings.emulator.enabled:
        checks += [(settings.emulator.host, settings.emulator.port, "emulator.port"),
                   (settings.emulator.host, settings.emulator.control_port, "emulator.control_port")]
    return checks


@click.command("web")
@click.pass_context
def web_command(ctx: click.Context) -> None:
    """Serve the web app and REST API (gunicorn when [web] workers > 1, else the development server)."""
    from confbridge.webserver import serve_development, serve_gunicorn

    settings = get_settings(ctx)
    require_ports(_web_ports(settings))
    scheme = "https" if settings.web.tls else "http"
    click.echo(cli_text(N_("confbridge web tại %(url)s (%(workers)s tiến trình)"),
                        url=f"{scheme}://{settings.web.host}:{settings.web.port}", workers=settings.web.workers))
    if settings.web.workers > 1:
        from confbridge.logs import configure_logging

        configure_logging(settings.logging)  # the master's own lines; each worker opens its runtime
        serve_gunicorn(settings)
        return
    runtime = get_runtime(ctx, "web")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        serve_development(runtime, stop)
    except KeyboardInterrupt:
        stop.set()


@click.command("run")
@click.option("--no-demo", is_flag=True, help="Do not seed demo data.")
@click.pass_context
def run_command(ctx: click.Context, no_demo: bool) -> None:
    """Everything in one process tree: migrate, seed the demo, then the MCU emulator, the scheduler
    (which also delivers the invitation outbox), the live server and the web app (embedded default)."""
    from confbridge.public_urls import live_url
    from confbridge.webserver import serve_development

    settings = get_settings(ctx)
    # Before anything starts: a busy port ends the command naming the setting to change.
    require_ports(_run_ports(settings))
    runtime = get_runtime(ctx, "run")  # one in-process bus shared by web, scheduler and live server
    _migrate(settings)
    passwords = {} if no_demo else _seed(runtime, upcoming=True)
    stop = threading.Event()

    def _stop(*_: object) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    emulator = None
    if settings.emulator.enabled:
        from confbridge.bridges.emulator.launcher import start_from_settings

        emulator = start_from_settings(settings)
        if emulator is not None:
            click.echo(cli_text(N_("MCU giả lập: %(url)s (điều khiển %(control)s)"), url=emulator.url,
                                control=emulator.control_url))

    from confbridge.live.runner import start_live_thread
    from confbridge.scheduler.process import run_scheduler

    try:
        live = start_live_thread(runtime)
    except RuntimeError as exc:
        if emulator is not None:
            emulator.stop()
        raise click.ClickException(cli_text(N_("%(error)s: đổi [live] port (hoặc CONFBRIDGE_LIVE_PORT)"),
                                            error=exc)) from None
    scheduler = threading.Thread(target=run_scheduler, args=(settings, stop), kwargs={"runtime": runtime},
                                 name="scheduler", daemon=True)
    scheduler.start()
    click.echo(cli_text(N_("confbridge: %(web)s  (trực tiếp %(live)s)"),
                        web=f"http://{settings.web.host}:{settings.web.port}", live=live_url(settings)))
    if not no_demo:
        _print_credentials(passwords)
    try:
        serve_development(runtime, stop)
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        live.stop()
        scheduler.join(10)
        if emulator is not None:
            emulator.stop()


def register(main: click.Group) -> None:
    for command in (db_group, user_group, endpoints_group, demo_group, web_command, run_command):
        main.add_command(command)
