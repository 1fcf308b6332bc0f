"""A small, safe XML-RPC client for one bridge: keep-alive, a timeout per call, bounded concurrency.

Why not ``xmlrpc.client.ServerProxy``: it has no per-call concurrency bound, reconnects silently in ways
that hide resets, and its parser expands entities.  Here responses are parsed by
``defusedxml.xmlrpc.DefusedExpatParser`` (no DTDs' entities, no external references), every call has a
socket timeout, and at most ``max_concurrent`` calls per bridge URL are in flight in this process (the
Cisco MCU documents a limit of a few parallel API calls and answers fault 203 beyond it).

Transport failures become normalised errors:
- cannot connect (refused, DNS, connect timeout) -> ``Unreachable`` (TransientError: nothing happened)
- no reply in time after the request was sent   -> ``TimedOut`` (OutcomeUnknown: re-read first)
- connection dropped after sending               -> ``ConnectionDropped`` (OutcomeUnknown)
- HTTP 5xx                                      -> ``TransientError``
- a reply that is not XML-RPC (404, HTML)        -> ``NotAnMcuApi``
A stale keep-alive connection that the device closed while idle (the MCU does this, see CESNET) is
retried once on a fresh connection before anything is reported.
"""

from __future__ import annotations

import http.client
import logging
import socket
import ssl
import threading
import time
import xmlrpc.client
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from defusedxml.xmlrpc import DefusedExpatParser

from confbridge.bridges.base import BridgeError, OutcomeUnknown, TransientError

log = logging.getLogger(__name__)

MAX_RESPONSE_BYTES = 16 * 1024 * 1024


class Unreachable(TransientError):
    """The bridge did not accept a connection."""


class TimedOut(OutcomeUnknown):
    """The bridge did not answer in time; the call may have taken effect."""


class ConnectionDropped(OutcomeUnknown):
    """The connection broke after the request was sent; the call may have taken effect."""


class NotAnMcuApi(BridgeError):
    """Something answered, but not with XML-RPC (wrong URL, wrong device)."""


def safe_loads(data: bytes) -> tuple[tuple[Any, ...], str | None]:
    """Parse an XML-RPC request or response without entity expansion (raises ``xmlrpc.client.Fault``)."""
    unmarshaller = xmlrpc.client.Unmarshaller(use_datetime=False, use_builtin_types=False)
    parser = DefusedExpatParser(unmarshaller)
    parser.feed(data)
    parser.close()
    return unmarshaller.close(), unmarshaller.getmethodname()


# Reads of the bridge's state go ahead of queued commands: during a launch storm the participant
# enumeration is what tells confbridge that legs connected, and behind a dozen queued dials each page
# waited ~0.6 s.  Commands still get every other slot; reads are few (a poll every second or two).
PRIORITY_METHODS = frozenset({"participant.enumerate"})


@dataclass(frozen=True)
class SlotUse:
    """One call's use of a request slot (monotonic seconds): for the storm benchmark's idle figures."""

    slot: int
    method: str
    asked: float
    started: float
    finished: float


class RequestSlots:
    """At most *size* calls in flight to one device; a freed slot goes to a waiting priority call first.

    ``start_trace()`` records every use (which slot, when asked, when it began and ended) until
    ``stop_trace()``: idle slots while calls wait elsewhere in confbridge are our overhead.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._free = size
        self._free_ids = list(range(size))
        self._waiting_priority = 0
        self._cond = threading.Condition()
        self._trace: list[SlotUse] | None = None

    def start_trace(self) -> list[SlotUse]:
        with self._cond:
            self._trace = []
            return self._trace

    def stop_trace(self) -> list[SlotUse]:
        with self._cond:
            trace, self._trace = self._trace or [], None
            return trace

    @contextmanager
    def slot(self, priority: bool = False, label: str = "") -> Iterator[None]:
        asked = time.monotonic()
        with self._cond:
            if priority:
                self._waiting_priority += 1
            try:
                while self._free == 0 or (not priority and self._waiting_priority > 0):
                    self._cond.wait()
            finally:
                if priority:
                    self._waiting_priority -= 1
            self._free -= 1
            slot_id = self._free_ids.pop()
        started = time.monotonic()
        try:
            yield
        finally:
            finished = time.monotonic()
            with self._cond:
                self._free += 1
                self._free_ids.append(slot_id)
                if self._trace is not None:
                    self._trace.append(SlotUse(slot_id, label, asked, started, finished))
                self._cond.notify_all()


_limits: dict[str, RequestSlots] = {}
_limits_lock = threading.Lock()


def limiter_for(url: str, max_concurrent: int) -> RequestSlots:
    """The one set of request slots bounding calls to *url* in this process (shared by every driver)."""
    with _limits_lock:
        if url not in _limits:
            _limits[url] = RequestSlots(max_concurrent)
        return _limits[url]


class XmlRpcTransport:
    """Calls methods on one XML-RPC endpoint; thread-safe."""

    def __init__(self, url: str, *, timeout: float, max_concurrent: int, ca_file: str | None = None) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"bridge url must be http(s)://host[:port]/RPC2, got {url!r}")
        self.url = url
        self._https = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port or (443 if self._https else 80)
        self._path = parts.path or "/RPC2"
        self.timeout = timeout
        # https with a private CA: verify against that bundle (never "no verification").
        self._context = ssl.create_default_context(cafile=ca_file) if self._https else None
        self._limit = limiter_for(url, max_concurrent)
        self._idle: list[http.client.HTTPConnection] = []
        self._idle_lock = threading.Lock()

    @property
    def address(self) -> str:
        return f"{self._host}:{self._port}"

    def _new_connection(self) -> http.client.HTTPConnection:
        if self._https:
            return http.client.HTTPSConnection(self._host, self._port, timeout=self.timeout, context=self._context)
        return http.client.HTTPConnection(self._host, self._port, timeout=self.timeout)

    def _checkout(self) -> tuple[http.client.HTTPConnection, bool]:
        with self._idle_lock:
            if self._idle:
                return self._idle.pop(), True
        return self._new_connection(), False

    def _checkin(self, conn: http.client.HTTPConnection) -> None:
        with self._idle_lock:
            self._idle.append(conn)

    def close(self) -> None:
        with self._idle_lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()

    def call(self, method: str, params: dict[str, Any]) -> Any:
        """Call *method* with one struct; returns the result or raises a ``BridgeError``/``Fault``."""
        body = xmlrpc.client.dumps((params,), method, encoding="utf-8", allow_none=False).encode("utf-8")
        with self._limit.slot(priority=method in PRIORITY_METHODS, label=method):
            started = time.monotonic()
            try:
                return self._call_once(method, body)
            finally:
                log.debug("%s %s took %.3fs", self.address, method, time.monotonic() - started)

    def _call_once(self, method: str, body: bytes) -> Any:
        for attempt in (1, 2):
            conn, reused = self._checkout()
            try:
                data, status, content_type = self._exchange(conn, body)
            except (ConnectionRefusedError, socket.gaierror) as exc:
                conn.close()
                raise Unreachable(f"{method}: cannot connect to {self.address} ({_why(exc)})") from None
            except _ConnectTimeout:
                conn.close()
                raise Unreachable(f"{method}: cannot connect to {self.address} (timed out)") from None
            except TimeoutError:
                conn.close()
                raise TimedOut(f"{method}: no answer from {self.address} within {self.timeout:g}s") from None
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError,
                    http.client.IncompleteRead) as exc:
                conn.close()
                if reused and attempt == 1:
                    continue  # the device closed an idle keep-alive connection: retry on a fresh one
                raise ConnectionDropped(f"{method}: connection to {self.address} dropped ({_why(exc)})") \
                    from None
            except OSError as exc:
                conn.close()
                raise Unreachable(f"{method}: cannot reach {self.address} ({_why(exc)})") from None
            self._checkin(conn)
            return self._decode(method, data, status, content_type)
        raise AssertionError("unreachable")  # pragma: no cover

    def _exchange(self, conn: http.client.HTTPConnection, body: bytes) -> tuple[bytes, int, str]:
        if conn.sock is None:
            try:
                conn.connect()
            except TimeoutError:
                raise _ConnectTimeout() from None
        conn.request("POST", self._path, body, {"Content-Type": "text/xml; charset=utf-8",
                                               "User-Agent": "confbridge"})
        response = conn.getresponse()
        data = response.read(MAX_RESPONSE_BYTES + 1)
        if response.will_close:
            conn.close()
        return data, response.status, response.getheader("Content-Type", "")

    def _decode(self, method: str, data: bytes, status: int, content_type: str) -> Any:
        if status >= 500:
            raise TransientError(f"{method}: {self.address} answered HTTP {status}")
        if status != 200:
            raise NotAnMcuApi(f"{method}: {self.address} answered HTTP {status}, not an MCU XML-RPC API")
        if len(data) > MAX_RESPONSE_BYTES:
            raise NotAnMcuApi(f"{method}: reply from {self.address} is too large")
        try:
            result, _ = safe_loads(data)
        except xmlrpc.client.Fault:
            raise
        except Exception:
            raise NotAnMcuApi(f"{method}: reply from {self.address} is not XML-RPC") from None
        if len(result) != 1:
            raise NotAnMcuApi(f"{method}: reply from {self.address} has {len(result)} values, expected 1")
        return result[0]


class _ConnectTimeout(Exception):
    pass


def _why(exc: BaseException) -> str:
    return getattr(exc, "strerror", None) or type(exc).__name__
