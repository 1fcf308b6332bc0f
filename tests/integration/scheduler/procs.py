"""Start ``confbridge scheduler`` as a real subprocess against a database and an emulator."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.fixtures.mcu import McuEmulator

ROOT = Path(__file__).resolve().parents[3]


def write_config(path: Path, db_url: str, emulator: McuEmulator, extra: str = "", **launch: Any) -> Path:
    """A scheduler settings file; *extra* is appended TOML (other sections)."""
    values = {"lease_seconds": 1.5, "poll_seconds": 0.3, "reconcile_interval_seconds": 2,
              "dial_backoff_seconds": 1, "unreachable_retry_seconds": 1, "preflight_minutes": 0, **launch}
    lines = [
        'timezone = "Asia/Ho_Chi_Minh"',
        f'data_dir = "{path.parent / "data"}"',
        "[database]", f'url = "{db_url}"',
        "[emulator]", "enabled = false",
        "[launch]", *[f"{k} = {v}" for k, v in values.items()],
        "[[bridges]]", 'name = "test-mcu"', 'driver = "cisco-mcu"', f'url = "{emulator.url}"',
        f'username = "{emulator.username}"', f'password_env = "{emulator.password_env}"',
        "max_concurrent_requests = 4", "timeout_seconds = 10", "default = true",
    ]
    path.write_text("\n".join(lines) + "\n" + extra, encoding="utf-8")
    return path


class SchedulerProc:
    def __init__(self, config: Path, log_path: Path, env: dict[str, str] | None = None) -> None:
        environ = {k: v for k, v in os.environ.items() if not k.startswith("CONFBRIDGE_")}
        environ.update(env or {})
        self.log_path = log_path
        self._log = open(log_path, "ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "confbridge.cli", "--config", str(config), "scheduler"],
            cwd=ROOT, env=environ, stdout=self._log, stderr=subprocess.STDOUT,
        )

    @property
    def pid(self) -> int:
        return self.proc.pid

    def kill(self) -> None:
        """SIGKILL: no clean-up, no lease release — a crash."""
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)
        self._log.close()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._log.close()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def wait_until(predicate: Callable[[], bool], timeout: float, what: str, interval: float = 0.05) -> None:
    """Poll a subprocess-driven condition with a bounded timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for: {what}")
