"""The emulator process: the XML-RPC server (``/RPC2``) and the JSON control server, both on loopback.

Control API (JSON over HTTP, for tests and demos; not part of the MCU protocol; no auth, loopback):

- ``GET  /state``      revision, conferences, participants (with ``callState``), feedback receivers and
                       deliveries, request statistics (``max_in_flight``, ``rejected_busy``, ``dropped``…)
- ``GET  /calls``      the call log: every dial attempt ``{id, time, conference, participant, protocol,
                       address, behaviour, outcome}``
- ``GET  /endpoints``  scripted behaviours by address
- ``POST /endpoints``  ``{"address", "behaviour": answer|busy|no_answer|rejected|unreachable|offline,
                       "answer_delay": s, "hangup_after": s|null, "packet_loss": none|warning|critical}``
                       (or a list of those); ``"behaviour": "online"`` is ``answer``
- ``POST /faults``     any of ``{"latency_ms": N, "fail": {"method", "code", "count"}, "timeout":
                       {"method", "seconds", "count"}, "drop_connections": N, "http_500": N,
                       "malformed": N, "max_concurrent": N, "over_limit": fault|queue, "clear": true}``
- ``POST /calls/drop`` ``{"conference", "participant", "protocol"?, "reason"?: remoteTeardown}``
- ``POST /device``     ``{"apiVersion", "model", "health": {field: value}}``
- ``POST /events``     ``{"event": "restart"}``: push an event to every receiver now
- ``POST /reset``      forget conferences, participants, calls, faults, receivers; behaviours back to
                       the scenario
"""

from __future__ import annotations

import json
import logging
import socket
import struct
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from confbridge.bridges.emulator.api import Api, DeviceInfo
from confbridge.bridges.emulator.behaviour import Behaviour
from confbridge.bridges.emulator.feedback import Feedback
from confbridge.bridges.emulator.model import DeviceState
from confbridge.bridges.emulator.rpc import Dispatcher
from confbridge.bridges.emulator.scenario import scenario

log = logging.getLogger(__name__)
MAX_BODY = 1024 * 1024


@dataclass
class EmulatorOptions:
    host: str = "127.0.0.1"
    port: int = 0
    control_port: int = 0
    username: str = "admin"
    password: str = ""
    latency_ms: int = 0
    max_concurrent: int = 4
    over_limit: str = "fault"
    page_size: int = 5
    scenario: str = "none"
    endpoints_file: str | None = None
    default_answer_delay: float = 0.2
    auth_fault: int = 15
    api_version: str = "2.9"
    model: str = "Cisco TelePresence MCU 4510"
    video_ports: int = 40
    max_conferences: int = 200
    max_participants: int = 500


class Emulator:
    """Everything the device is, in one object; ``start()`` binds both servers."""

    def __init__(self, options: EmulatorOptions) -> None:
        self.options = options
        self.feedback = Feedback()
        self.state = DeviceState(default_answer_delay=options.default_answer_delay,
                                 events=self.feedback.notify)
        self.state.scenario = scenario(options.scenario, options.endpoints_file)
        self.state.reset()
        self.device = DeviceInfo(model=options.model, api_version=options.api_version,
                                 video_ports=options.video_ports, serial="EMU4510-0001")
        self.api = Api(self.state, self.device, self.feedback, page_size=options.page_size,
                       max_conferences=options.max_conferences, max_participants=options.max_participants)
        self.rpc = Dispatcher(self.api, username=options.username, password=options.password,
                              max_concurrent=options.max_concurrent, over_limit=options.over_limit,
                              auth_fault=options.auth_fault)
        self.rpc.plan.latency_ms = options.latency_ms
        self._servers: list[ThreadingHTTPServer] = []

    def start(self) -> tuple[int, int]:
        rpc = _Server((self.options.host, self.options.port), _RpcHandler, self)
        control = _Server((self.options.host, self.options.control_port), _ControlHandler, self)
        self._servers = [rpc, control]
        for server in self._servers:
            threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True,
                             name="mcu-emulator-http").start()
        return rpc.server_address[1], control.server_address[1]

    def stop(self) -> None:
        for server in self._servers:
            server.shutdown()
            server.server_close()
        self.state.timers.stop()

    def reset(self) -> None:
        self.state.reset()
        self.feedback.reset()
        latency = self.options.latency_ms
        self.rpc.reset()
        self.rpc.plan.latency_ms = latency

    # ---- control operations --------------------------------------------------------------------------
    def snapshot(self) -> dict[str, Any]:
        with self.state.lock:
            conferences = [{
                "name": c.name, "active": c.active, "completed": c.completed, "description": c.description,
                "pin": c.pin, "durationSeconds": c.duration, "customLayout": c.custom_layout,
                "customLayoutEnabled": c.custom_layout_enabled, "numericId": c.numeric_id,
                "joinAudioMuted": c.join_audio_muted,
                "participants": len(self.state.participants_of(c.name)),
            } for c in self.state.conferences.values()]
            participants = [{
                "conference": p.conference, "name": p.name, "protocol": p.protocol, "type": p.ptype,
                "address": p.address, "callState": p.call_state, "disconnectReason": p.disconnect_reason,
                "audioRxMuted": p.audio_rx_muted, "videoRxMuted": p.video_rx_muted,
                "packetLoss": p.packet_loss, "displayName": p.display_name, "important": p.important,
                "focusType": p.focus_type,
            } for p in self.state.participants.values()]
            revision = self.state.revision
        with self.feedback.lock:
            receivers = {str(i): dict(r) for i, r in self.feedback.receivers.items()}
            deliveries = list(self.feedback.deliveries)
        with self.rpc.lock:
            stats = dict(vars(self.rpc.stats))
            stats["calls"] = dict(self.rpc.stats.calls)
            stats["max_concurrent"] = self.rpc.max_concurrent
            stats["latency_ms"] = self.rpc.plan.latency_ms
        return {"revision": revision, "conferences": conferences, "participants": participants,
                "receivers": receivers, "deliveries": deliveries, "stats": stats}

    def set_endpoints(self, body: Any) -> dict[str, Any]:
        items = body if isinstance(body, list) else [body]
        with self.state.lock:
            for item in items:
                if not isinstance(item, dict) or not item.get("address"):
                    raise ValueError("each endpoint needs an address")
                item = dict(item)
                if item.get("behaviour") == "online":
                    item["behaviour"] = "answer"
                base = self.state.behaviours.get(item["address"]) or Behaviour(
                    answer_delay=self.state.default_answer_delay)
                self.state.behaviours[item["address"]] = Behaviour.from_json(item, base)
        return {"ok": True, "count": len(items)}

    def set_faults(self, body: dict[str, Any]) -> dict[str, Any]:
        with self.rpc.lock:
            plan = self.rpc.plan
            if body.get("clear"):
                latency = plan.latency_ms
                self.rpc.plan = plan = type(plan)(latency_ms=latency)
            for key in ("latency_ms", "drop_connections", "http_500", "malformed"):
                if key in body:
                    setattr(plan, key, int(body[key]))
            for key in ("fail", "timeout"):
                if key in body:
                    rules = body[key] if isinstance(body[key], list) else [body[key]]
                    getattr(plan, key).extend(dict(r) for r in rules)
            if "max_concurrent" in body:
                self.rpc.max_concurrent = int(body["max_concurrent"])
            if "over_limit" in body:
                self.rpc.over_limit = str(body["over_limit"])
        return {"ok": True}

    def drop_call(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        with self.state.lock:
            for p in self.state.participants.values():
                if p.conference == body.get("conference") and p.name == body.get("participant") and \
                        body.get("protocol", p.protocol) == p.protocol:
                    if not self.state.hang_up(p, str(body.get("reason", "remoteTeardown"))):
                        return 409, {"error": f"participant is {p.call_state}, not in a call"}
                    return 200, {"ok": True}
        return 404, {"error": "no such participant"}

    def dial_in(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """A far end dials the conference whose ``numericId`` is ``number`` (not through the API)."""
        number, address = str(body.get("number", "")), str(body.get("address", ""))
        protocol = str(body.get("protocol", "sip"))
        if not number or not address or protocol not in ("sip", "h323"):
            raise ValueError("dial-in needs a number, an address and protocol sip|h323")
        with self.state.lock:
            for conf in self.state.conferences.values():
                if conf.numeric_id == number:
                    if not conf.active:
                        return 409, {"error": f"conference {conf.name} is not active"}
                    part = self.state.dial_in(conf, address, protocol, str(body.get("displayName", "")))
                    return 200, {"conference": conf.name, "participant": part.name}
        return 404, {"error": f"no conference has numeric ID {number}"}

    def set_device(self, body: dict[str, Any]) -> dict[str, Any]:
        if "apiVersion" in body:
            self.device.api_version = str(body["apiVersion"])
        if "model" in body:
            self.device.model = str(body["model"])
        if isinstance(body.get("health"), dict):
            self.device.health_overrides.update(body["health"])
        return {"ok": True}


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler],
                 emulator: Emulator) -> None:
        self.emulator = emulator
        super().__init__(address, handler)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the device
    # One segment per response: without these, Nagle + delayed ACK add ~40 ms to every call.
    disable_nagle_algorithm = True
    wbufsize = 64 * 1024  # flushed by BaseHTTPRequestHandler after each request
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        log.debug(format, *args)

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _body(self) -> bytes | None:
        try:
            length = int(self.headers.get("Content-Length", ""))
        except ValueError:
            self._send(411, b"length required", "text/plain")
            return None
        if length > MAX_BODY:
            self.close_connection = True
            self._send(413, b"request too large", "text/plain")
            return None
        return self.rfile.read(length)


class _RpcHandler(_Handler):
    def do_POST(self) -> None:
        if self.path != "/RPC2":
            self._send(404, b"not found", "text/plain")
            return
        body = self._body()
        if body is None:
            return
        emulator = self.server.emulator
        injected = emulator.rpc.transport_fault()
        if injected == "drop_connections":
            # A reset, as when the device drops a keep-alive connection.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            self.connection.close()
            return
        if injected == "http_500":
            self._send(500, b"internal error", "text/plain")
            return
        if injected == "malformed":
            self._send(200, b"<html><body>oops</body></html>", "text/xml")
            return
        self._send(200, emulator.rpc.handle(body), "text/xml")

    def do_GET(self) -> None:
        self._send(405 if self.path == "/RPC2" else 404, b"method not allowed", "text/plain")

    do_PUT = do_DELETE = do_GET


class _ControlHandler(_Handler):
    def _json(self, status: int, payload: Any) -> None:
        self._send(status, json.dumps(payload, default=str).encode(), "application/json")

    def do_GET(self) -> None:
        emulator = self.server.emulator
        if self.path == "/state":
            self._json(200, emulator.snapshot())
        elif self.path == "/calls":
            with emulator.state.lock:
                self._json(200, {"calls": [dict(c) for c in emulator.state.calls]})
        elif self.path == "/endpoints":
            with emulator.state.lock:
                self._json(200, {a: b.to_json() for a, b in emulator.state.behaviours.items()})
        else:
            self._json(404, {"error": "not found"})

    def do_POST(self) -> None:
        raw = self._body()
        if raw is None:
            return
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            self._json(400, {"error": "body is not JSON"})
            return
        emulator = self.server.emulator
        try:
            if self.path == "/endpoints":
                self._json(200, emulator.set_endpoints(body))
            elif self.path == "/faults":
                self._json(200, emulator.set_faults(body))
            elif self.path == "/calls/drop":
                self._json(*emulator.drop_call(body))
            elif self.path == "/calls/dial-in":
                self._json(*emulator.dial_in(body))
            elif self.path == "/device":
                self._json(200, emulator.set_device(body))
            elif self.path == "/events":
                emulator.feedback.notify(str(body.get("event", "restart")))
                self._json(200, {"ok": True})
            elif self.path == "/reset":
                emulator.reset()
                self._json(200, {"ok": True})
            else:
                self._json(404, {"error": "not found"})
        except (ValueError, TypeError, KeyError) as exc:
            self._json(400, {"error": str(exc)})
