"""A throwaway redis-server on loopback for the benchmarks (Debian's ``redis-server``; no persistence).

    with throwaway_redis() as url:   # redis://127.0.0.1:PORT/0
        ...
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def throwaway_redis(timeout: float = 15) -> Iterator[str]:
    """Start redis-server on a free port, yield its URL, stop it."""
    server = shutil.which("redis-server")
    if not server:
        raise SystemExit("redis-server not found (apt-get install redis-server)")
    port = _free_port()
    proc = subprocess.Popen([server, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise SystemExit(f"redis-server exited ({proc.returncode}) before listening on {port}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise SystemExit(f"redis-server not listening on {port} after {timeout:.0f} s") from None
                time.sleep(0.1)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
