"""Reachability probes for endpoints that are in no call.

A Cisco MCU cannot tell whether an idle room system is up, so the probe is configurable
(``monitor.probe``): ``none`` (only calls tell), ``tcp`` (connect to the SIP host of the address on
``monitor.probe_port``), ``emulator`` (the embedded default: every endpoint is simulated by the MCU
emulator, whose control API says which ones it keeps offline).
"""

from __future__ import annotations

import json
import socket
import urllib.request
from collections.abc import Iterable
from typing import Protocol
from urllib.parse import urlsplit

from confbridge.settings import MonitorSettings

LOOPBACK = {"127.0.0.1", "::1", "localhost"}
UNREACHABLE_BEHAVIOURS = {"offline", "unreachable"}


class Target(Protocol):
    """What a probe needs of an endpoint (an ``Endpoint`` row, or a plain copy of its fields)."""

    @property
    def id(self) -> int: ...

    @property
    def address(self) -> str: ...


class Probe(Protocol):
    def reachable(self, endpoints: Iterable[Target]) -> dict[int, bool | None]:
        """``True`` reachable, ``False`` not, ``None`` cannot tell."""
        ...


class NoProbe:
    def reachable(self, endpoints: Iterable[Target]) -> dict[int, bool | None]:
        return {e.id: None for e in endpoints}


class EmulatorProbe:
    """Ask the emulator's control API (loopback only) which simulated endpoints are offline."""

    def __init__(self, control_url: str, timeout: float = 2.0) -> None:
        host = urlsplit(control_url).hostname or ""
        if host not in LOOPBACK:
            raise ValueError("monitor.probe_url: the emulator probe only talks to a loopback address")
        self.url = control_url.rstrip("/") + "/endpoints"
        self.timeout = timeout

    def reachable(self, endpoints: Iterable[Target]) -> dict[int, bool | None]:
        endpoints = list(endpoints)
        try:
            with urllib.request.urlopen(self.url, timeout=self.timeout) as resp:  # noqa: S310 - loopback only
                behaviours = json.loads(resp.read())
        except (OSError, ValueError):
            return {e.id: None for e in endpoints}
        return {e.id: (behaviours.get(e.address) or {}).get("behaviour") not in UNREACHABLE_BEHAVIOURS
                for e in endpoints}


def sip_host(address: str) -> str | None:
    """The host part of a SIP URI-like address (``name@host[:port]``); None for E.164 numbers."""
    if "@" not in address:
        return None
    host = address.rsplit("@", 1)[1].split(";", 1)[0]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


class TcpProbe:
    def __init__(self, port: int, timeout: float) -> None:
        self.port = port
        self.timeout = timeout

    def reachable(self, endpoints: Iterable[Target]) -> dict[int, bool | None]:
        out: dict[int, bool | None] = {}
        for e in endpoints:
            host = sip_host(e.address)
            if host is None:
                out[e.id] = None
                continue
            try:
                with socket.create_connection((host, self.port), timeout=self.timeout):
                    out[e.id] = True
            except OSError:
                out[e.id] = False
        return out


def make_probe(settings: MonitorSettings) -> Probe:
    if settings.probe == "emulator":
        return EmulatorProbe(settings.probe_url, settings.probe_timeout_seconds)
    if settings.probe == "tcp":
        return TcpProbe(settings.probe_port, settings.probe_timeout_seconds)
    return NoProbe()
