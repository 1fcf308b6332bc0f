"""Start confbridge entry points as real subprocesses (as systemd would) and read their JSON logs."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[3]


def write_config(path: Path, *, db_url: str, web_port: int, live_port: int, redis_url: str | None = None,
                 smtp_port: int | None = None, web: dict[str, Any] | None = None,
                 live: dict[str, Any] | None = None) -> Path:
    def fmt(value: Any) -> str:
        return json.dumps(value)

    web_values = {"host": "127.0.0.1", "port": web_port, "secret_key_file": str(path.parent / "secret"),
                  **(web or {})}
    live_values: dict[str, Any] = {"host": "127.0.0.1", "port": live_port, **(live or {})}
    if redis_url:
        live_values.update(bus="redis", redis_url=redis_url)
    mail_values: dict[str, Any] = {"outbox_dir": str(path.parent / "mail"), "poll_seconds": 0.5,
                                   "sender": "hoinghi@ubnd.example"}
    if smtp_port:
        mail_values.update(host="127.0.0.1", port=smtp_port)
    sections = {"database": {"url": db_url}, "web": web_values, "live": live_values, "mail": mail_values,
                "emulator": {"enabled": False}, "launch": {"lease_seconds": 2},
                "logging": {"format": "json", "level": "INFO"}}
    lines = [f'data_dir = {fmt(str(path.parent / "data"))}']
    for name, values in sections.items():
        lines.append(f"[{name}]")
        lines += [f"{k} = {fmt(v)}" for k, v in values.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


class Proc:
    """One process, its output (stdout and stderr) in a file; stopped with SIGTERM, killed if it hangs."""

    def __init__(self, args: list[str], log_path: Path, env: dict[str, str] | None = None) -> None:
        environ = {k: v for k, v in os.environ.items() if not k.startswith("CONFBRIDGE_")}
        environ.update(env or {})
        self.log_path = log_path
        self._log = open(log_path, "ab")
        self.proc = subprocess.Popen(args, cwd=log_path.parent, env=environ, stdout=self._log,
                                     stderr=subprocess.STDOUT, start_new_session=True)

    @classmethod
    def confbridge(cls, config: Path, *args: str, log_path: Path) -> Proc:
        return cls([sys.executable, "-m", "confbridge.cli", "--config", str(config), *args], log_path)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        self._log.close()

    def output(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def json_lines(self) -> list[dict[str, Any]]:
        out = []
        for line in self.output().splitlines():
            if line.startswith("{"):
                try:
                    out.append(json.loads(line))
                except ValueError:
                    continue
        return out

    def wired(self) -> list[str]:
        """The "process … wired" messages of the composition root."""
        return [r["message"] for r in self.json_lines() if r.get("logger") == "confbridge.runtime"]


def wait_until(predicate: Callable[[], bool], timeout: float, what: str, proc: Proc | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        if proc is not None and proc.proc.poll() is not None:
            raise AssertionError(f"process exited ({proc.proc.returncode}) before {what}:\n{proc.output()}")
        time.sleep(0.05)
    detail = f"\n{proc.output()}" if proc is not None else ""
    raise AssertionError(f"timed out after {timeout}s waiting for: {what}{detail}")


def port_open(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
        return True
    except OSError:
        return False


class Answer:
    def __init__(self, status: int, headers: Any, body: bytes) -> None:
        self.status_code, self.headers, self.body = status, headers, body

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def json(self) -> Any:
        return json.loads(self.body)


def http(method: str, url: str, *, json_body: Any = None, headers: dict[str, str] | None = None,
         timeout: float = 20) -> Answer:
    """One HTTP request with the standard library (an error status is an answer, not an exception)."""
    import urllib.error
    import urllib.request

    data = json.dumps(json_body).encode() if json_body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers={
        **({"Content-Type": "application/json"} if data is not None else {}), **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return Answer(response.status, response.headers, response.read())
    except urllib.error.HTTPError as exc:
        return Answer(exc.code, exc.headers, exc.read())
