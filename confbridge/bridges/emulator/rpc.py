"""The device's XML-RPC front: authentication, the concurrency limit, latency and injected faults.

``Dispatcher.handle(body)`` turns one request body into one response body, exactly as the device
would: faults are ``<fault>`` replies with the device's codes and strings, results are structs
(``allow_none`` is off, so a ``None`` would be a bug, not a ``<nil/>``).
"""

from __future__ import annotations

import hmac
import logging
import threading
import time
import xmlrpc.client
from dataclasses import dataclass, field
from typing import Any

from confbridge.bridges.emulator.api import Api
from confbridge.bridges.emulator.params import Params, fault
from confbridge.bridges.xmlrpc_transport import safe_loads

log = logging.getLogger(__name__)


@dataclass
class FaultPlan:
    """What the control API injected: consumed by the RPC front."""

    latency_ms: int = 0
    fail: list[dict[str, Any]] = field(default_factory=list)  # {method, code, count}
    timeout: list[dict[str, Any]] = field(default_factory=list)  # {method, seconds, count}
    drop_connections: int = 0
    http_500: int = 0
    malformed: int = 0

    def take(self, rules: list[dict[str, Any]], method: str) -> dict[str, Any] | None:
        for rule in rules:
            if rule.get("method", "*") in ("*", method) and rule.get("count", 1) > 0:
                rule["count"] = rule.get("count", 1) - 1
                return rule
        return None


@dataclass
class Stats:
    calls: dict[str, int] = field(default_factory=dict)
    in_flight: int = 0
    max_in_flight: int = 0
    rejected_busy: int = 0
    auth_failures: int = 0
    dropped: int = 0
    injected_faults: int = 0


class Dispatcher:
    def __init__(self, api: Api, *, username: str, password: str, max_concurrent: int = 4,
                 over_limit: str = "fault", auth_fault: int = 15) -> None:
        self.api = api
        self.username = username
        self._password = password
        self.max_concurrent = max_concurrent
        self.over_limit = over_limit
        self.auth_fault = auth_fault
        self.plan = FaultPlan()
        self.stats = Stats()
        self.lock = threading.Lock()
        self._queue = threading.Condition(self.lock)

    def reset(self) -> None:
        with self.lock:
            self.plan = FaultPlan()
            self.stats = Stats(in_flight=self.stats.in_flight)

    def transport_fault(self) -> str | None:
        """``drop`` / ``http500`` / ``malformed`` when the control API asked for one on this request."""
        with self.lock:
            for name in ("drop_connections", "http_500", "malformed"):
                if getattr(self.plan, name) > 0:
                    setattr(self.plan, name, getattr(self.plan, name) - 1)
                    if name == "drop_connections":
                        self.stats.dropped += 1
                    return name
        return None

    def handle(self, body: bytes) -> bytes:
        # The limit of concurrent API requests (vendor fault 203 "too many asynchronous requests").
        with self.lock:
            if self.stats.in_flight >= self.max_concurrent:
                if self.over_limit == "fault":
                    self.stats.rejected_busy += 1
                    return _dump(fault(203))
                while self.stats.in_flight >= self.max_concurrent:
                    self._queue.wait()
            self.stats.in_flight += 1
            self.stats.max_in_flight = max(self.stats.max_in_flight, self.stats.in_flight)
            latency = self.plan.latency_ms / 1000
        try:
            if latency:
                time.sleep(latency)
            return self._handle(body)
        finally:
            with self.lock:
                self.stats.in_flight -= 1
                self._queue.notify()

    def _handle(self, body: bytes) -> bytes:
        try:
            args, method = safe_loads(body)
        except Exception:
            return _dump(fault(103, "methodCall"))
        if not method:
            return _dump(fault(103, "methodCall"))
        try:
            return _dump((self._call(method, args),))
        except xmlrpc.client.Fault as f:
            return _dump(f)
        except Exception:
            log.exception("emulator bug in %s", method)
            return _dump(fault(201))

    def _call(self, method: str, args: tuple[Any, ...]) -> dict[str, Any]:
        if not args:
            raise fault(101, "authenticationUser")
        if len(args) != 1 or not isinstance(args[0], dict):
            raise fault(103, "params")
        params = Params(args[0])
        user = params.string("authenticationUser", required=True)
        password = params.string("authenticationPassword", max_len=255) or ""
        # The empty-password rule: "ignored if the user has no password set".
        if not (hmac.compare_digest(user or "", self.username)
                and (not self._password or hmac.compare_digest(password, self._password))):
            with self.lock:
                self.stats.auth_failures += 1
            raise fault(self.auth_fault)
        with self.lock:
            self.stats.calls[method] = self.stats.calls.get(method, 0) + 1
            failing = self.plan.take(self.plan.fail, method)
            slow = self.plan.take(self.plan.timeout, method)
            if failing:
                self.stats.injected_faults += 1
        handler = self.api.methods.get(method)
        if handler is None:
            raise fault(1)
        if failing:
            raise fault(int(failing.get("code", 201)))
        result = handler(params)
        if slow:
            # The operation has happened; the reply comes too late: the client sees a timeout.
            time.sleep(float(slow.get("seconds", 5)))
        return result


def _dump(value: tuple[Any, ...] | xmlrpc.client.Fault) -> bytes:
    text = xmlrpc.client.dumps(value, methodresponse=True, encoding="utf-8", allow_none=False)
    return text.encode("utf-8")
