"""``confbridge db backup`` / ``db restore`` round trips on SQLite and PostgreSQL, run as a user would."""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.orm import Session, sessionmaker

from confbridge.auth.models import User
from confbridge.db import make_engine, make_session_factory
from confbridge.directory.models import Endpoint
from tests import services
from tests.conftest import both_databases
from tests.factories import seed_endpoints


def confbridge(db_url: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    config = tmp_path / f"cb-{uuid.uuid4().hex[:6]}.toml"
    config.write_text(f'[database]\nurl = "{db_url}"\n[web]\nsecret_key_file = "{tmp_path / "secret"}"\n',
                      encoding="utf-8")
    return subprocess.run([sys.executable, "-m", "confbridge.cli", "--config", str(config), *args],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path, check=False)


def _empty_database(request: pytest.FixtureRequest, db_url: str, tmp_path: Path) -> str:
    if db_url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / 'restored' / 'confbridge.db'}"
    server: services.Postgres = request.getfixturevalue("postgres_server")
    name = "r_" + uuid.uuid4().hex[:16]
    admin = create_engine(server.url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return server.url(name)


def _contents(url: str) -> tuple[list[str], list[tuple[str, str]], str | None]:
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as s:
            users = sorted(s.scalars(select(User.username)))
            endpoints = sorted((e.name, e.address) for e in s.scalars(select(Endpoint)))
            version = s.execute(text("SELECT version_num FROM alembic_version")).scalar()
            return users, endpoints, version
    finally:
        engine.dispose()


@both_databases
def test_backup_then_restore_into_an_empty_database_gives_the_same_data(
    request: pytest.FixtureRequest, db_url: str, tmp_path: Path, session_factory: sessionmaker[Session],
    make_user: Any,
) -> None:
    make_user("secretary", "thuky")
    make_user("technician", "kythuat")
    seed_endpoints(session_factory, 3)
    before = _contents(db_url)
    assert before[0] == ["kythuat", "thuky"] and len(before[1]) == 3 and before[2]

    backup_file = tmp_path / "backups" / "confbridge.backup"
    made = confbridge(db_url, tmp_path, "db", "backup", str(backup_file))
    assert made.returncode == 0, made.stderr
    assert backup_file.stat().st_size > 0
    again = confbridge(db_url, tmp_path, "db", "backup", str(backup_file))
    assert again.returncode != 0 and "exists already" in again.stderr

    # Restoring over the live database is refused: it is not empty.
    refused = confbridge(db_url, tmp_path, "db", "restore", str(backup_file))
    assert refused.returncode != 0 and "not empty" in refused.stderr

    target = _empty_database(request, db_url, tmp_path)
    restored = confbridge(target, tmp_path, "db", "restore", str(backup_file))
    assert restored.returncode == 0, restored.stderr
    assert _contents(target) == before
    # The restored database works as one: upgrade is a no-op, a login's password hash is intact.
    assert confbridge(target, tmp_path, "db", "upgrade").returncode == 0
    engine = make_engine(target)
    with make_session_factory(engine)() as s:
        assert s.scalar(select(func.count()).select_from(User)) == 2
    engine.dispose()


def test_sqlite_backup_is_consistent_while_another_process_holds_a_write_transaction(
    db_url: str, tmp_path: Path, session_factory: sessionmaker[Session],
) -> None:
    seed_endpoints(session_factory, 2)
    engine = make_engine(db_url)
    with engine.connect() as writer:
        writer.execute(text("DELETE FROM endpoints"))  # uncommitted while the backup runs
        made = confbridge(db_url, tmp_path, "db", "backup", str(tmp_path / "b.sqlite"))
        writer.rollback()
    engine.dispose()
    assert made.returncode == 0, made.stderr
    restored = f"sqlite:///{tmp_path / 'restored.db'}"
    assert confbridge(restored, tmp_path, "db", "restore", str(tmp_path / "b.sqlite")).returncode == 0
    assert len(_contents(restored)[1]) == 2


def test_restore_names_a_file_that_is_not_a_backup(tmp_path: Path) -> None:
    bogus = tmp_path / "notes.txt"
    bogus.write_text("không phải bản sao lưu", encoding="utf-8")
    done = confbridge(f"sqlite:///{tmp_path / 'new.db'}", tmp_path, "db", "restore", str(bogus))
    assert done.returncode != 0 and "notes.txt" in done.stderr and "Traceback" not in done.stderr
