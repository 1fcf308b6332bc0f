"""What every ``confbridge`` command shares: its settings, its runtime, and the check that a port is free.

Feature packages' commands import from here (never from ``confbridge.cli``, which imports them).
"""

from __future__ import annotations

import errno
import socket

import click

from confbridge.runtime import Kind, Runtime, open_runtime
from confbridge.settings import Settings, SettingsError, load_settings


def get_settings(ctx: click.Context) -> Settings:
    """Settings for this invocation, loaded once; a bad setting ends the command with its message."""
    obj = ctx.ensure_object(dict)
    if "settings" not in obj:
        try:
            obj["settings"] = load_settings(obj.get("config"))
        except SettingsError as exc:
            raise click.ClickException(str(exc)) from None
    settings: Settings = obj["settings"]
    return settings


def get_runtime(ctx: click.Context, kind: Kind = "cli", settings: Settings | None = None) -> Runtime:
    """The process's runtime (:func:`confbridge.runtime.open_runtime`), closed when the command ends."""
    obj = ctx.ensure_object(dict)
    if "runtime" not in obj:
        runtime = open_runtime(settings or get_settings(ctx), kind)
        obj["runtime"] = runtime
        ctx.call_on_close(runtime.close)
    opened: Runtime = obj["runtime"]
    return opened


def port_problem(host: str, port: int, setting: str) -> str | None:
    """A message naming *setting* when ``host:port`` cannot be listened on (busy, not allowed), else None."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, port))
        except OSError as exc:
            env = "CONFBRIDGE_" + setting.replace(".", "_").upper()
            busy = exc.errno == errno.EADDRINUSE
            why = "is in use by another process" if busy else f"cannot be used ({exc.strerror})"
            return (f"{host}:{port} {why}: change [{setting.split('.')[0]}] {setting.split('.')[1]} "
                    f"(or {env}) or stop the other process")
    return None


def require_ports(checks: list[tuple[str, int, str]]) -> None:
    """End the command before anything starts when one of *checks* (host, port, setting) is unusable."""
    problems = [p for host, port, setting in checks if (p := port_problem(host, port, setting))]
    if problems:
        raise click.ClickException("; ".join(problems))
