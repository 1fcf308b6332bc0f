"""Real services for the test suite: a throwaway PostgreSQL cluster and a Redis server on loopback.

Each is started once per test session in a temporary folder and stopped at the end.  Under CI
(``CI=true``) a service that cannot start fails the tests that need it; elsewhere they are skipped with
the reason.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

PG_BIN_DIRS = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def unavailable(reason: str) -> None:
    """Fail under CI, skip elsewhere."""
    if in_ci():
        pytest.fail(f"required service unavailable under CI: {reason}", pytrace=False)
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pg_tool(name: str) -> str | None:
    for bin_dir in PG_BIN_DIRS:
        if (bin_dir / name).exists():
            return str(bin_dir / name)
    return shutil.which(name)


@dataclass
class Postgres:
    base_dir: Path
    port: int
    user: str
    proc: subprocess.Popen[bytes] | None = None
    command: tuple[str, ...] = ()

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://{self.user}@127.0.0.1:{self.port}/{database}"


def _as_user_prefix() -> tuple[list[str], str]:
    """initdb refuses to run as root: run the server as the 'postgres' system user then."""
    if os.geteuid() != 0:
        return [], pwd.getpwuid(os.geteuid()).pw_name
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        return [], "root"
    return ["runuser", "-u", "postgres", "--"], "postgres"


def start_postgres() -> Postgres:
    initdb, postgres = _pg_tool("initdb"), _pg_tool("postgres")
    if not initdb or not postgres:
        raise RuntimeError("PostgreSQL server binaries not found (apt-get install postgresql)")
    prefix, user = _as_user_prefix()
    base = Path(tempfile.mkdtemp(prefix="confbridge-pg-"))
    shutil.chown(base, user=user) if os.geteuid() == 0 else None
    data = base / "data"
    subprocess.run(
        [*prefix, initdb, "-D", str(data), "-U", user, "-A", "trust", "-E", "UTF8", "--no-locale"],
        check=True, capture_output=True,
    )
    port = free_port()
    command = (*prefix, postgres, "-D", str(data), "-p", str(port), "-h", "127.0.0.1", "-k", str(base),
               "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
               "-c", "max_connections=200")
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=open(base / "server.log", "ab"))
    pg = Postgres(base, port, user, proc, command)
    if _wait_accepting(pg):
        return pg
    stop_postgres(pg)
    raise RuntimeError(f"PostgreSQL did not start; log: {(base / 'server.log').read_text()[-2000:]}")


def _fast_shutdown(pg: Postgres) -> None:
    """SIGINT to the postmaster itself (runuser, when used, would turn the signal into SIGTERM: a smart
    shutdown that waits for every client to leave)."""
    import signal

    assert pg.proc is not None
    try:
        postmaster = int((pg.base_dir / "data" / "postmaster.pid").read_text().split()[0])
        os.kill(postmaster, signal.SIGINT)
    except (OSError, ValueError, IndexError):  # not written yet, or already gone
        pg.proc.terminate()


def restart_postgres(pg: Postgres) -> None:
    """Restart the server as for maintenance: fast shutdown (SIGINT: sessions are disconnected), then the
    same server on the same port and data."""
    assert pg.proc is not None and pg.command
    _fast_shutdown(pg)
    pg.proc.wait(30)
    pg.proc = subprocess.Popen(pg.command, stdout=subprocess.DEVNULL,
                               stderr=open(pg.base_dir / "server.log", "ab"))
    if not _wait_accepting(pg):
        raise RuntimeError(f"PostgreSQL did not restart; log: {(pg.base_dir / 'server.log').read_text()[-2000:]}")


def _wait_accepting(pg: Postgres) -> bool:
    port, user, proc = pg.port, pg.user, pg.proc
    assert proc is not None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                pass
            import psycopg

            with psycopg.connect(f"host=127.0.0.1 port={port} user={user} dbname=postgres", connect_timeout=2):
                return True
        except Exception:  # not accepting connections yet
            if proc.poll() is not None:
                return False
            time.sleep(0.1)
    return False


def stop_postgres(pg: Postgres) -> None:
    if pg.proc is not None and pg.proc.poll() is None:
        # A fast shutdown (SIGINT to the postmaster): SIGTERM (which runuser would pass on) is a smart
        # shutdown that waits for every client to leave, up to the 15 s below at the session's end.
        _fast_shutdown(pg)
        try:
            pg.proc.wait(15)
        except subprocess.TimeoutExpired:
            pg.proc.kill()
    shutil.rmtree(pg.base_dir, ignore_errors=True)


@dataclass
class Redis:
    port: int
    proc: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"


def start_redis() -> Redis:
    server = shutil.which("redis-server")
    if not server:
        raise RuntimeError("redis-server not found (apt-get install redis-server)")
    port = free_port()
    proc = subprocess.Popen(
        [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return Redis(port, proc)
        except OSError:
            if proc.poll() is not None:
                break
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("redis-server did not start")
