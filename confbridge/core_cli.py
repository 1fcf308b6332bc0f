"""Core commands: run, web, db upgrade, user add/passwd, demo seed, endpoints import."""

from __future__ import annotations

import logging
import signal
import sys
import threading
from pathlib import Path
from typing import Any

import click

from confbridge.cli import get_settings
from confbridge.settings import Settings

log = logging.getLogger("confbridge")


def _setup_logging() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # Their INFO lines (every job run, every migration plugin) drown what an operator needs to see.
    for noisy in ("apscheduler", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


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
    """Database schema (Alembic migrations)."""


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
    click.echo(f"database at {revision}")


# ---- users --------------------------------------------------------------------------------------------
@click.group("user")
def user_group() -> None:
    """User accounts."""


def _read_password() -> str:
    if sys.stdin.isatty():
        first = click.prompt("Mật khẩu / Password", hide_input=True)
        second = click.prompt("Nhập lại / Repeat", hide_input=True)
        if first != second:
            raise click.ClickException("the passwords differ")
        return str(first)
    return sys.stdin.readline().rstrip("\r\n")


@user_group.command("add")
@click.argument("username")
@click.option("--role", type=click.Choice(["admin", "secretary", "technician"]), required=True)
@click.option("--email", default=None)
@click.option("--name", "display_name", default="", help="Display name")
@click.pass_context
def user_add(ctx: click.Context, username: str, role: str, email: str | None, display_name: str) -> None:
    """Create a user; the password is read from standard input (never from the command line)."""
    from confbridge.auth.service import create_user
    from confbridge.db import make_session_factory, unit_of_work
    from confbridge.errors import DomainError

    settings = get_settings(ctx)
    password = _read_password()
    engine = _engine(settings)
    try:
        with unit_of_work(make_session_factory(engine)) as session:
            create_user(session, username, password, role, email=email, display_name=display_name)
    except DomainError as exc:
        details = "; ".join(f"{k}: {v}" for k, v in getattr(exc, "fields", {}).items())
        raise click.ClickException(exc.message + (f" ({details})" if details else "")) from None
    finally:
        engine.dispose()
    click.echo(f"user {username} ({role}) created")


@user_group.command("passwd")
@click.argument("username")
@click.pass_context
def user_passwd(ctx: click.Context, username: str) -> None:
    """Set a user's password (read from standard input); their sessions and tokens end."""
    from confbridge.auth.service import get_user, set_password
    from confbridge.db import make_session_factory, unit_of_work
    from confbridge.errors import DomainError

    settings = get_settings(ctx)
    password = _read_password()
    engine = _engine(settings)
    try:
        with unit_of_work(make_session_factory(engine)) as session:
            set_password(session, get_user(session, username), password, None)
    except DomainError as exc:
        raise click.ClickException(exc.message) from None
    finally:
        engine.dispose()
    click.echo(f"password of {username} changed")


# ---- endpoints ----------------------------------------------------------------------------------------
@click.group("endpoints")
def endpoints_group() -> None:
    """The endpoint directory."""


@endpoints_group.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.pass_context
def endpoints_import(ctx: click.Context, path: Path) -> None:
    """Import endpoints from a CSV (name,site,protocol,address,seats) or TOML file."""
    from confbridge.db import make_session_factory, unit_of_work
    from confbridge.directory.service import import_csv, import_toml

    settings = get_settings(ctx)
    engine = _engine(settings)
    try:
        with unit_of_work(make_session_factory(engine)) as session:
            if path.suffix.lower() == ".toml":
                report = import_toml(session, path, None)
            else:
                report = import_csv(session, path.read_text(encoding="utf-8"), None)
    finally:
        engine.dispose()
    click.echo(f"created {len(report.created)}, updated {len(report.updated)}, errors {len(report.errors)}")
    for row, message in report.errors:
        click.echo(f"  row {row}: {message}", err=True)


# ---- demo ---------------------------------------------------------------------------------------------
@click.group("demo")
def demo_group() -> None:
    """Demo data."""


def _seed(settings: Settings, upcoming: bool) -> dict[str, str]:
    from confbridge import demo
    from confbridge.db import make_session_factory, unit_of_work

    _install_hooks(settings)
    engine = _engine(settings)
    try:
        with unit_of_work(make_session_factory(engine)) as session:
            result = demo.seed(session, settings)
            if upcoming:
                demo.ensure_upcoming(session, settings)
    finally:
        engine.dispose()
    return result.passwords


def _print_credentials(passwords: dict[str, str]) -> None:
    if not passwords:
        click.echo("Tài khoản demo đã có từ lần chạy trước (mật khẩu chỉ in một lần; đặt lại bằng "
                   "`confbridge user passwd NAME`).")
        click.echo("Demo accounts exist already (reset a password with `confbridge user passwd NAME`).")
        return
    click.echo("Tài khoản đăng nhập (chỉ in một lần) / Sign-in credentials (printed once):")
    for username, password in passwords.items():
        click.echo(f"  {username:<9} {password}")


@demo_group.command("seed")
@click.pass_context
def demo_seed(ctx: click.Context) -> None:
    """Endpoints, users with generated passwords, and a week of meetings."""
    settings = get_settings(ctx)
    _migrate(settings)
    _print_credentials(_seed(settings, upcoming=False))


def _install_hooks(settings: Settings) -> None:
    from confbridge.invites.hooks import install

    install(settings)


# ---- web and run ----------------------------------------------------------------------------------------
def _serve_web(settings: Settings, stop: threading.Event) -> None:
    from werkzeug.serving import make_server

    from confbridge.app import create_app

    app = create_app(settings)
    server = make_server(settings.web.host, settings.web.port, app, threaded=True)
    def _shutdown() -> None:
        stop.wait()
        server.shutdown()

    threading.Thread(target=_shutdown, daemon=True, name="web-stop").start()
    server.serve_forever()


@click.command("web")
@click.pass_context
def web_command(ctx: click.Context) -> None:
    """Serve the web app and REST API (development server; use gunicorn 'confbridge.wsgi:app' in production)."""
    settings = get_settings(ctx)
    _setup_logging()
    _install_hooks(settings)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    click.echo(f"confbridge web on http://{settings.web.host}:{settings.web.port}")
    try:
        _serve_web(settings, stop)
    except KeyboardInterrupt:
        stop.set()


@click.command("run")
@click.option("--no-demo", is_flag=True, help="Do not seed demo data.")
@click.pass_context
def run_command(ctx: click.Context, no_demo: bool) -> None:
    """Everything in one process tree: migrate, seed the demo, then the MCU emulator, the scheduler,
    the live server, the mail worker and the web app (embedded default)."""
    settings = get_settings(ctx)
    _setup_logging()
    _migrate(settings)
    passwords = {} if no_demo else _seed(settings, upcoming=True)
    _install_hooks(settings)
    stop = threading.Event()

    def _stop(*_: object) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    emulator = None
    if settings.emulator.enabled:
        from confbridge.bridges.emulator.launcher import start_from_settings

        emulator = start_from_settings(settings)
        if emulator is not None:
            click.echo(f"MCU emulator: {emulator.url} (control {emulator.control_url})")

    from confbridge.invites.worker import start_outbox_worker
    from confbridge.live.runner import current_bus, run_live_server
    from confbridge.scheduler.process import run_scheduler

    current_bus(settings)  # one in-process bus shared by web, scheduler and live server
    threads = [
        threading.Thread(target=run_scheduler, args=(settings, stop), name="scheduler", daemon=True),
        threading.Thread(target=run_live_server, args=(settings, stop), name="live", daemon=True),
    ]
    for thread in threads:
        thread.start()
    _worker, worker_stop = start_outbox_worker(settings)
    click.echo(f"confbridge: http://{settings.web.host}:{settings.web.port}  "
               f"(live ws://{settings.live.host}:{settings.live.port})")
    if not no_demo:
        _print_credentials(passwords)
    try:
        _serve_web(settings, stop)
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        worker_stop.set()
        for thread in threads:
            thread.join(10)
        if emulator is not None:
            emulator.stop()


def register(main: click.Group) -> None:
    for command in (db_group, user_group, endpoints_group, demo_group, web_command, run_command):
        main.add_command(command)
