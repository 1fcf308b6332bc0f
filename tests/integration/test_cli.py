"""The documented command line, run as a user would: real subprocesses against a temporary database."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from confbridge.auth.models import User
from confbridge.auth.passwords import verify_password
from confbridge.booking.models import Meeting
from confbridge.db import make_engine, make_session_factory
from confbridge.directory.models import Endpoint
from confbridge.settings import PROJECT_ROOT


def confbridge(config: Path, *args: str, stdin: str = "", cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "confbridge.cli", "--config", str(config), *args],
        input=stdin, capture_output=True, text=True, timeout=120, cwd=cwd, check=False,
    )


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "confbridge.toml"
    endpoints = PROJECT_ROOT / "config" / "endpoints" / "kien-giang.toml"
    path.write_text(
        f'endpoints_file = "{endpoints}"\n'
        f'[database]\nurl = "sqlite:///{tmp_path / "cb.db"}"\n'
        f'[web]\nsecret_key_file = "{tmp_path / "secret"}"\n',
        encoding="utf-8",
    )
    return path


def test_db_upgrade_then_user_add_reads_the_password_from_stdin(config: Path, tmp_path: Path) -> None:
    assert confbridge(config, "db", "upgrade", cwd=tmp_path).returncode == 0
    done = confbridge(config, "user", "add", "thuky2", "--role", "secretary", "--email", "thuky2@ubnd.example",
                      stdin="mat-khau-rat-dai\n", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "mat-khau-rat-dai" not in done.stdout + done.stderr
    engine = make_engine(f"sqlite:///{tmp_path / 'cb.db'}")
    with make_session_factory(engine)() as s:
        user = s.scalar(select(User).where(User.username == "thuky2"))
        assert user is not None and user.role == "secretary"
        assert user.password_hash.startswith("$argon2") and verify_password(user.password_hash, "mat-khau-rat-dai")
    engine.dispose()
    short = confbridge(config, "user", "add", "x2", "--role", "admin", stdin="ngan\n", cwd=tmp_path)
    assert short.returncode != 0 and "password" in short.stderr
    bad_role = confbridge(config, "user", "add", "x3", "--role", "root", stdin="mat-khau-rat-dai\n", cwd=tmp_path)
    assert bad_role.returncode != 0


def test_demo_seed_prints_generated_passwords_once(config: Path, tmp_path: Path) -> None:
    first = confbridge(config, "demo", "seed", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    lines = {ln.split()[0]: ln.split()[1] for ln in first.stdout.splitlines() if ln.startswith("  ")}
    assert set(lines) == {"admin", "thuky", "kythuat"}
    assert len(set(lines.values())) == 3 and all(len(p) >= 12 for p in lines.values())
    engine = make_engine(f"sqlite:///{tmp_path / 'cb.db'}")
    with make_session_factory(engine)() as s:
        assert s.scalar(select(func.count()).select_from(Endpoint)) == 20
        assert s.scalar(select(func.count()).select_from(Meeting)) >= 3
        admin = s.scalar(select(User).where(User.username == "admin"))
        assert admin is not None and verify_password(admin.password_hash, lines["admin"])
    engine.dispose()
    again = confbridge(config, "demo", "seed", cwd=tmp_path)
    assert again.returncode == 0 and lines["admin"] not in again.stdout


def test_bad_setting_stops_with_the_key_named(config: Path, tmp_path: Path) -> None:
    config.write_text(config.read_text(encoding="utf-8") + "[booking]\nhorizon_dayz = 3\n", encoding="utf-8")
    done = confbridge(config, "db", "upgrade", cwd=tmp_path)
    assert done.returncode != 0 and "booking.horizon_dayz: unknown key" in done.stderr
