"""A throwaway PostgreSQL cluster on loopback for the benchmarks (the same way ``tests/services.py``
starts one for the tests; benchmarks never import ``tests/``).

    with throwaway_postgres() as url:   # postgresql+psycopg://user@127.0.0.1:PORT/postgres
        ...

Debian's server binaries (``apt-get install postgresql``); as root the server runs as ``postgres``.
Durability is off (fsync, synchronous commit, full-page writes): a benchmark measures queries, not disks.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PG_BIN_DIRS = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)


def _tool(name: str) -> str:
    for bin_dir in PG_BIN_DIRS:
        if (bin_dir / name).exists():
            return str(bin_dir / name)
    found = shutil.which(name)
    if not found:
        raise SystemExit(f"PostgreSQL's {name} not found (apt-get install postgresql)")
    return found


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run_as() -> tuple[list[str], str]:
    if os.geteuid() != 0:
        return [], pwd.getpwuid(os.geteuid()).pw_name
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        return [], "root"
    return ["runuser", "-u", "postgres", "--"], "postgres"


@contextmanager
def throwaway_postgres(*settings: str) -> Iterator[str]:
    """Start a fresh cluster, yield its SQLAlchemy URL, stop and delete it. *settings*: extra
    ``name=value`` server settings (``shared_buffers=256MB``)."""
    import psycopg

    prefix, user = _run_as()
    base = Path(tempfile.mkdtemp(prefix="confbridge-bench-pg-"))
    if os.geteuid() == 0:
        shutil.chown(base, user=user)
    data = base / "data"
    subprocess.run([*prefix, _tool("initdb"), "-D", str(data), "-U", user, "-A", "trust", "-E", "UTF8",
                    "--no-locale"], check=True, capture_output=True)
    port = _free_port()
    extra = [arg for s in settings for arg in ("-c", s)]
    proc = subprocess.Popen(
        [*prefix, _tool("postgres"), "-D", str(data), "-p", str(port), "-h", "127.0.0.1", "-k", str(base),
         "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
         "-c", "max_connections=200", *extra],
        stdout=subprocess.DEVNULL, stderr=open(base / "server.log", "ab"))
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with psycopg.connect(f"host=127.0.0.1 port={port} user={user} dbname=postgres", connect_timeout=2):
                    break
            except psycopg.OperationalError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    log = (base / "server.log").read_text()[-2000:]
                    raise SystemExit("PostgreSQL did not start: " + log) from None
                time.sleep(0.1)
        yield f"postgresql+psycopg://{user}@127.0.0.1:{port}/postgres"
    finally:
        # A fast shutdown (SIGINT to the postmaster itself: runuser would pass on a polite SIGTERM).
        pid_file = data / "postmaster.pid"
        if pid_file.exists():
            os.kill(int(pid_file.read_text().split()[0]), signal.SIGINT)
        else:
            proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(base, ignore_errors=True)
