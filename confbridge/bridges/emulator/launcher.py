"""Start the emulator as a real child process and wait for its ready line (tests, bench, ``run``)."""

from __future__ import annotations

import os
import queue
import re
import secrets
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

from confbridge.files import private_dir
from confbridge.settings import Settings

READY = re.compile(r"mcu-emulator listening on (?P<url>http://\S+/RPC2) \(control (?P<control>http://\S+)\)")


@dataclass
class EmulatorProcess:
    process: subprocess.Popen[str]
    url: str
    control_url: str

    def stop(self, timeout: float = 5.0) -> int:
        """SIGTERM, then SIGKILL if it does not stop in time; returns the exit code."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout)
        if self.process.stdout:
            self.process.stdout.close()
        return self.process.returncode


def start_emulator(args: list[str], *, env: dict[str, str] | None = None,
                   timeout: float = 20.0) -> EmulatorProcess:
    """Run ``python -m confbridge.bridges.emulator *args``; returns once it is listening."""
    cmd = [sys.executable, "-m", "confbridge.bridges.emulator", *args]
    process = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, env=env,  # noqa: S603 - our module
                               cwd=str(Path(__file__).resolve().parents[3]))
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True, name="mcu-emulator-stdout").start()
    seen: list[str] = []
    while True:
        try:
            line = lines.get(timeout=timeout)
        except queue.Empty:
            process.kill()
            raise RuntimeError(f"mcu-emulator did not start within {timeout}s: {''.join(seen)!r}") from None
        if line is None:
            process.wait(5)
            raise RuntimeError(
                f"mcu-emulator exited ({process.returncode}) before listening: {''.join(seen)!r}")
        seen.append(line)
        match = READY.search(line)
        if match:
            return EmulatorProcess(process, match["url"], match["control"])


def ensure_password_file(path: Path) -> str:
    """The emulator password in *path*, created (mode 0600, random) when missing."""
    if not path.exists():
        private_dir(path.parent)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(secrets.token_urlsafe(18) + "\n")
    return path.read_text(encoding="utf-8").strip()


def start_from_settings(settings: Settings) -> EmulatorProcess | None:
    """Start the embedded-default emulator described by ``[emulator]`` (``confbridge run``).

    Returns ``None`` when ``emulator.enabled`` is false.  The password comes from ``password_env`` or
    ``password_file``; a missing password file is created (0600, random) so that the ``[[bridges]]``
    entry reading the same file can log in.
    """
    emu = settings.emulator
    if not emu.enabled:
        return None
    args = ["--host", emu.host, "--port", str(emu.port), "--control-port", str(emu.control_port),
            "--username", emu.username, "--latency-ms", str(emu.latency_ms), "--scenario", emu.scenario]
    if emu.password_env:
        args += ["--password-env", emu.password_env]
    elif emu.password_file:
        path = settings.path(emu.password_file)
        ensure_password_file(path)
        args += ["--password-file", str(path)]
    if settings.endpoints_file and emu.scenario == "demo":
        args += ["--endpoints-file", str(settings.path(settings.endpoints_file))]
    return start_emulator(args)
