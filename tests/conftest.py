"""Shared fixtures: settings, databases (SQLite and a real PostgreSQL), the app, users, a frozen clock."""

from __future__ import annotations

import shutil
import sqlite3
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session, sessionmaker

from confbridge import clock
from confbridge.db import make_engine, make_session_factory
from confbridge.migrate import upgrade
from confbridge.settings import Settings, load_settings
from tests import services

pytest_plugins = [
    "tests.fixtures.browser",
    "tests.fixtures.mcu",
    "tests.fixtures.smtp",
]


# ---- parallel runs (pytest-xdist: scripts/test.sh runs the suite on several workers) --------------------
# Tests that time what real processes do against the wall clock (take-over within 15 s, an urgent launch
# within 2 s, a meeting seconds long that must go live after a SIGKILL and a restart, a live socket's
# authentication deadline, the national quick run) run one after another on one worker, so that two of
# them never compete for the two cores; every other test goes to whichever worker is free.
SERIAL_GROUPS = {
    "wall-clock": (
        "tests/integration/topology/test_topology.py",
        "tests/integration/topology/test_national_quick.py",
        "tests/integration/scheduler/test_bridge_leases.py",
        "tests/integration/scheduler/test_standby.py",
        "tests/integration/scheduler/test_urgent_meeting.py",
        "tests/integration/scheduler/test_lease.py",
        "tests/integration/scheduler/test_crash_recovery.py",
        "tests/integration/scheduler/test_preflight_crash.py",
        "tests/integration/processes/test_entry_points.py",
        "tests/integration/health/test_live_and_scheduler_probes.py",
    ),
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    group_of = {path: group for group, paths in SERIAL_GROUPS.items() for path in paths}
    for item in items:
        group = group_of.get(item.nodeid.split("::", 1)[0])
        if group:
            item.add_marker(pytest.mark.xdist_group(group))


# ---- services ----------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def postgres_server() -> Iterator[services.Postgres]:
    try:
        pg = services.start_postgres()
    except Exception as exc:  # reported as skip (or failure under CI) below
        services.unavailable(f"PostgreSQL: {exc}")
        raise
    try:
        yield pg
    finally:
        services.stop_postgres(pg)


@pytest.fixture(scope="session")
def postgres_template(postgres_server: services.Postgres) -> str:
    """A database migrated once; each test gets a fresh copy (CREATE DATABASE … TEMPLATE)."""
    admin = create_engine(postgres_server.url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("CREATE DATABASE confbridge_template"))
    admin.dispose()
    engine = make_engine(postgres_server.url("confbridge_template"))
    upgrade(engine)
    engine.dispose()
    return "confbridge_template"


@pytest.fixture(scope="session")
def redis_server() -> Iterator[services.Redis]:
    try:
        server = services.start_redis()
    except Exception as exc:
        services.unavailable(f"Redis: {exc}")
        raise
    try:
        yield server
    finally:
        server.proc.terminate()
        server.proc.wait(10)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    # Fold the WAL into the main file so that copying one file copies the whole database.
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=DELETE")
    conn.close()
    return path


def _sqlite_url(template: Path, tmp_path: Path) -> str:
    path = tmp_path / "confbridge.db"
    shutil.copy(template, path)
    return f"sqlite:///{path}"


def _postgres_url(request: pytest.FixtureRequest, template: str | None = None) -> str:
    """A new database copied from *template* (default: the migrated, empty one)."""
    server: services.Postgres = request.getfixturevalue("postgres_server")
    template = template or request.getfixturevalue("postgres_template")
    name = "t_" + uuid.uuid4().hex[:16]
    admin = create_engine(server.url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    admin.dispose()
    return server.url(name)


@pytest.fixture
def db_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> str:
    """A migrated, empty database; SQLite unless the test is parametrised with ``db_url="postgresql"``."""
    kind = getattr(request, "param", "sqlite")
    if kind == "postgresql":
        return _postgres_url(request)
    return _sqlite_url(sqlite_template, tmp_path)


def both_databases(func: Any) -> Any:
    """Run a test against SQLite and against the real PostgreSQL."""
    return pytest.mark.parametrize("db_url", ["sqlite", "postgresql"], indirect=True)(func)


# ---- settings, engine, session ------------------------------------------------------------------------
@pytest.fixture
def settings(tmp_path: Path, db_url: str) -> Settings:
    return settings_for(tmp_path, db_url)


def settings_for(tmp_path: Path, db_url: str) -> Settings:
    """The ``settings`` fixture's value, for fixtures of a wider scope."""
    base = load_settings(environ={})
    return base.with_overrides(**{
        "data_dir": str(tmp_path / "data"),
        "database.url": db_url,
        "web.secret_key_file": str(tmp_path / "secret_key"),
        "mail.outbox_dir": str(tmp_path / "mail"),
        "emulator.enabled": False,
        "bridges": [],
        # Automatic pre-flight calls would add test conferences to every launch test; their own tests
        # turn them on.
        "launch.preflight_minutes": 0,
    })


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    eng = make_engine(settings.database.url)
    yield eng
    eng.dispose()


@pytest.fixture
def session_factory(engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(engine)


@pytest.fixture
def session(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    s = session_factory()
    yield s
    s.rollback()
    s.close()


# ---- clock ------------------------------------------------------------------------------------------
@pytest.fixture
def frozen_clock() -> Iterator[clock.FrozenClock]:
    """Now = Monday 2026-11-30 00:00 UTC (07:00 in Hà Nội), stepped by the test."""
    fc = clock.FrozenClock(datetime(2026, 11, 30, 0, 0, tzinfo=UTC))
    with clock.use_clock(fc):
        yield fc


# ---- app, users -------------------------------------------------------------------------------------
@pytest.fixture
def app(settings: Settings, engine: Engine) -> Flask:
    from confbridge.app import create_app

    return create_app(settings, engine=engine, testing=True)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@dataclass
class TestUser:
    id: int
    username: str
    password: str
    role: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@pytest.fixture
def make_user(session_factory: sessionmaker[Session]) -> Any:
    from confbridge.auth.service import create_user, issue_token

    counter = {"n": 0}

    def make(role: str = "secretary", username: str | None = None, email: str | None = None) -> TestUser:
        counter["n"] += 1
        name = username or f"{role}{counter['n']}"
        password = f"pw-{uuid.uuid4().hex}"
        with session_factory.begin() as s:
            user = create_user(s, name, password, role, email=email or f"{name}@ubnd.example")
            token, _ = issue_token(s, user, hours=24 * 30)  # outlives frozen-clock jumps
            return TestUser(user.id, name, password, role, token)

    return make


@pytest.fixture
def admin(make_user: Any) -> TestUser:
    return make_user("admin", "admin")


@pytest.fixture
def secretary(make_user: Any) -> TestUser:
    return make_user("secretary", "thuky")


@pytest.fixture
def technician(make_user: Any) -> TestUser:
    return make_user("technician", "kythuat")
