"""``confbridge db backup FILE`` / ``confbridge db restore FILE``.

- SQLite: the online backup API (``sqlite3.Connection.backup``) copies a consistent snapshot while the
  other processes keep writing; restore copies the file back the same way.
- PostgreSQL: ``pg_dump --format=custom`` and ``pg_restore`` (the client tools of the newest installed
  PostgreSQL; Debian package ``postgresql-client``).  The password, when the URL has one, travels in
  ``PGPASSWORD``, never on a command line.

Restore only goes into an *empty* database (no tables): it never merges into or overwrites live data.
Upgrades stay ``confbridge db upgrade`` (a restored older backup is then migrated).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy import create_engine, inspect
from sqlalchemy.engine import make_url


class BackupError(Exception):
    """The backup or restore cannot be done; the message says why and what to do."""


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError("database.url: an in-memory SQLite database cannot be backed up")
    return Path(database)


def _pg_tool(name: str) -> str:
    candidates = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"),
                        key=lambda p: int(p.parts[-3]) if p.parts[-3].isdigit() else 0, reverse=True)
    found = str(candidates[0]) if candidates else shutil.which(name)
    if not found:
        raise BackupError(f"{name} not found: install the PostgreSQL client tools (apt-get install postgresql-client)")
    return found


def _pg_args(url: str) -> tuple[list[str], dict[str, str]]:
    """libpq connection options and environment for *url* (password only in the environment)."""
    u = make_url(url)
    args = ["--host", u.host or "127.0.0.1", "--port", str(u.port or 5432), "--dbname", u.database or ""]
    if u.username:
        args += ["--username", u.username]
    env = {**os.environ, "PGCONNECT_TIMEOUT": "10"}
    if u.password:
        env["PGPASSWORD"] = str(u.password)
    return args, env


def _run(command: list[str], env: dict[str, str], what: str) -> None:
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip().splitlines()
        raise BackupError(f"{what} failed: {detail[-1] if detail else f'exit {done.returncode}'}")


def backup(url: str, target: Path) -> None:
    """Write a consistent copy of the database at *url* to *target* (which must not exist)."""
    if target.exists():
        raise BackupError(f"{target}: exists already; choose a new file name")
    target.parent.mkdir(parents=True, exist_ok=True)
    if url.startswith("sqlite"):
        source = sqlite3.connect(_sqlite_path(url))
        dest = sqlite3.connect(target)
        try:
            with dest:
                source.backup(dest)
        finally:
            dest.close()
            source.close()
        return
    args, env = _pg_args(url)
    partial = target.with_name(target.name + ".part")
    try:
        _run([_pg_tool("pg_dump"), "--format=custom", "--no-owner", "--file", str(partial), *args], env, "pg_dump")
        partial.rename(target)
    finally:
        partial.unlink(missing_ok=True)


def _tables(url: str) -> list[str]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return list(inspect(conn).get_table_names())
    finally:
        engine.dispose()


def restore(url: str, source: Path) -> None:
    """Load the backup *source* into the empty database at *url*."""
    if not source.is_file():
        raise BackupError(f"{source}: no such backup file")
    if url.startswith("sqlite"):
        path = _sqlite_path(url)
        if path.exists() and _tables(url):
            raise BackupError(f"database.url: {path} is not empty; restore into a new, empty database")
        path.parent.mkdir(parents=True, exist_ok=True)
        src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        dest = sqlite3.connect(path)
        try:
            if src.execute("PRAGMA quick_check").fetchone() != ("ok",):
                raise BackupError(f"{source}: not a sound SQLite backup")
            with dest:
                src.backup(dest)
        except sqlite3.DatabaseError as exc:
            raise BackupError(f"{source}: not an SQLite backup ({exc})") from None
        finally:
            dest.close()
            src.close()
        return
    if _tables(url):
        raise BackupError("database.url: the database is not empty; create an empty one and restore into it")
    args, env = _pg_args(url)
    _run([_pg_tool("pg_restore"), "--no-owner", "--exit-on-error", "--single-transaction", *args, str(source)],
         env, "pg_restore")
