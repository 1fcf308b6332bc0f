"""The live server with real WebSocket clients: auth, origin, snapshot, ordering, gaps, coalescing,
slow clients."""

from __future__ import annotations

import base64
import json
import os
import socket
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.frames import Frame, Opcode

from confbridge import clock
from confbridge.alarms.service import raise_alarm
from confbridge.auth.models import User
from confbridge.events import Event, queue_event
from confbridge.live.bus import MemoryBus
from confbridge.live.server import LiveServerThread
from confbridge.monitor.models import EndpointStatus
from tests.integration.live.conftest import (
    ORIGIN,
    TokenFor,
    add_endpoints,
    api_live_token,
    authed,
    open_ws,
    recv_events,
    recv_json,
)


def raw_client_that_never_reads(port: int, token: str) -> socket.socket:
    """A client with a tiny receive window that authenticates and then never reads again."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2048)
    sock.connect(("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall((f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                  f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                  f"Origin: {ORIGIN}\r\n\r\n").encode())
    head = b""
    while b"\r\n\r\n" not in head:
        head += sock.recv(1)
    assert head.startswith(b"HTTP/1.1 101")
    auth = json.dumps({"type": "auth", "token": token}).encode()
    sock.sendall(Frame(Opcode.TEXT, auth).serialize(mask=True, extensions=[]))
    return sock


def status_event(endpoint_id: int, status: str) -> Event:
    return Event("endpoint.status", {"endpoint_id": endpoint_id, "status": status})


def closed_code(ws: Any, timeout: float = 5.0) -> int | None:
    with pytest.raises(ConnectionClosed) as info:
        while True:
            ws.recv(timeout=timeout)
    rcvd = info.value.rcvd
    return rcvd.code if rcvd is not None else None


# ---- authentication and origin ------------------------------------------------------------------------
def test_token_needs_a_signed_in_caller(client: FlaskClient) -> None:
    assert client.post("/api/v1/live/token").status_code == 401
    response = client.post("/api/v1/live/token", headers={"Authorization": "Bearer not-a-token"})
    assert response.status_code == 401
    assert response.get_json()["error"] == "unauthorized"


def test_snapshot_after_auth_lists_endpoints_with_status(
    live: LiveServerThread, token_for: TokenFor, technician: Any, session_factory: sessionmaker[Session],
) -> None:
    ids = add_endpoints(session_factory, 3)
    with session_factory.begin() as s:
        s.add(EndpointStatus(endpoint_id=ids[0], status="offline", since=clock.now(), checked_at=clock.now(),
                             packet_loss="none", detail=""))
    ws, snapshot = authed(live, token_for(technician))
    with ws:
        by_id = {e["id"]: e for e in snapshot["endpoints"]}
        assert set(by_id) == set(ids)
        assert by_id[ids[0]]["status"] == "offline"
        assert by_id[ids[1]]["status"] == "unknown"
        assert by_id[ids[0]]["site"] == "TP Rạch Giá"
        assert isinstance(snapshot["seq"], int)
        assert snapshot["conferences"] == [] and snapshot["alarms"] == []


def test_first_message_must_be_auth(live: LiveServerThread) -> None:
    with open_ws(live) as ws:
        ws.send(json.dumps({"type": "resync"}))
        assert closed_code(ws) == 1008


def test_garbage_first_message_closes(live: LiveServerThread) -> None:
    with open_ws(live) as ws:
        ws.send("not json at all")
        assert closed_code(ws) == 1008


def test_token_is_single_use(live: LiveServerThread, token_for: TokenFor, technician: Any) -> None:
    token = token_for(technician)
    with open_ws(live) as ws:
        ws.send(json.dumps({"type": "auth", "token": token}))
        assert recv_json(ws)["type"] == "snapshot"
    with open_ws(live) as ws:
        ws.send(json.dumps({"type": "auth", "token": token}))
        assert closed_code(ws) == 4401


def test_expired_token_is_refused(
    live: LiveServerThread, token_for: TokenFor, technician: Any, frozen_clock: clock.FrozenClock,
) -> None:
    token = token_for(technician)
    frozen_clock.advance(seconds=61)  # live.token_seconds = 60
    with open_ws(live) as ws:
        ws.send(json.dumps({"type": "auth", "token": token}))
        assert closed_code(ws) == 4401


def test_api_token_cannot_open_a_live_connection(live: LiveServerThread, technician: Any) -> None:
    with open_ws(live) as ws:
        ws.send(json.dumps({"type": "auth", "token": technician.token}))
        assert closed_code(ws) == 4401


def test_no_auth_in_time_closes(start_live: Callable[..., LiveServerThread]) -> None:
    server = start_live(auth_timeout_seconds=0.3)
    with open_ws(server) as ws:
        assert closed_code(ws) == 4408


def test_disallowed_origin_is_refused(live: LiveServerThread) -> None:
    with pytest.raises(InvalidStatus) as info:
        open_ws(live, origin="http://evil.example")
    assert info.value.response.status_code == 403


def test_big_inbound_message_closes(live: LiveServerThread, token_for: TokenFor, technician: Any) -> None:
    ws, _ = authed(live, token_for(technician))
    with ws:
        ws.send(json.dumps({"type": "ping", "pad": "x" * 10_000}))  # max_message_bytes = 4096
        assert closed_code(ws) == 1009


def test_ping_and_bad_control_message(live: LiveServerThread, token_for: TokenFor, technician: Any) -> None:
    ws, _ = authed(live, token_for(technician))
    with ws:
        ws.send(json.dumps({"type": "ping"}))
        assert recv_json(ws) == {"type": "pong"}
        ws.send(json.dumps({"type": "launch-missiles"}))
        assert recv_json(ws) == {"type": "error", "message": "unknown message type"}


# ---- events -------------------------------------------------------------------------------------------
def test_committed_events_arrive_in_order_with_consecutive_seq(
    live: LiveServerThread, token_for: TokenFor, technician: Any, session_factory: sessionmaker[Session],
) -> None:
    ids = add_endpoints(session_factory, 5)
    ws, snapshot = authed(live, token_for(technician))
    with ws:
        with session_factory.begin() as s:
            for i, ep in enumerate(ids):
                queue_event(s, "endpoint.status", endpoint_id=ep, status="in_call" if i % 2 else "idle")
        received: list[dict[str, Any]] = []
        while len(received) < 5:
            received += recv_events(ws)
        assert [e["endpoint_id"] for e in received] == ids
        assert [e["seq"] for e in received] == list(range(snapshot["seq"] + 1, snapshot["seq"] + 6))
        assert received[1]["status"] == "in_call"


def test_rolled_back_events_are_never_sent(
    live: LiveServerThread, token_for: TokenFor, technician: Any, session_factory: sessionmaker[Session],
    bus: MemoryBus,
) -> None:
    ws, _ = authed(live, token_for(technician))
    with ws:
        s = session_factory()
        queue_event(s, "endpoint.status", endpoint_id=1, status="failed")
        s.rollback()
        s.close()
        bus.publish(status_event(2, "idle"))
        assert [e["endpoint_id"] for e in recv_events(ws)] == [2]


def test_updates_to_one_endpoint_are_coalesced(
    start_live: Callable[..., LiveServerThread], token_for: TokenFor, technician: Any, bus: MemoryBus,
) -> None:
    server = start_live(flush_ms=250)
    ws, _ = authed(server, token_for(technician))
    with ws:
        started = time.monotonic()
        frames: list[list[dict[str, Any]]] = []
        n = 0
        while time.monotonic() - started < 1.0:  # 100 updates/s to one endpoint for a second
            n += 1
            bus.publish(status_event(7, f"s{n}"))
            time.sleep(0.01)
        bus.publish(status_event(7, "in_call"))
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            frame = recv_events(ws)
            frames.append(frame)
            if frame[-1]["status"] == "in_call":
                break
        assert frames[-1][-1]["status"] == "in_call"
        assert all(len(f) == 1 for f in frames)  # one object: never more than one event per frame
        assert len(frames) <= 7, f"{len(frames)} frames for {n} updates in ~1 s"


def test_gap_then_resync_gives_a_snapshot_that_continues_the_sequence(
    live: LiveServerThread, token_for: TokenFor, technician: Any, bus: MemoryBus,
    session_factory: sessionmaker[Session],
) -> None:
    ids = add_endpoints(session_factory, 1)
    ws, snapshot = authed(live, token_for(technician))
    with ws:
        live.call(live.server.mark_gap)  # as after a Redis reconnect: events may have been lost
        with session_factory.begin() as s:
            queue_event(s, "endpoint.status", endpoint_id=ids[0], status="offline")
            s.merge(EndpointStatus(endpoint_id=ids[0], status="offline", since=clock.now(),
                                   checked_at=clock.now(), packet_loss="none", detail=""))
        [event] = recv_events(ws)
        assert event["seq"] == snapshot["seq"] + 2  # the client sees a hole
        ws.send(json.dumps({"type": "resync"}))
        again = recv_json(ws)
        assert again["type"] == "snapshot"
        assert again["seq"] == event["seq"]
        assert again["endpoints"][0]["status"] == "offline"
        bus.publish(status_event(ids[0], "idle"))
        [after] = recv_events(ws)
        assert after["seq"] == again["seq"] + 1


def test_alarm_raised_in_a_transaction_reaches_technicians(
    live: LiveServerThread, token_for: TokenFor, technician: Any, session_factory: sessionmaker[Session],
) -> None:
    ws, _ = authed(live, token_for(technician))
    with ws:
        with session_factory.begin() as s:
            raise_alarm(s, "scheduler_heartbeat", "scheduler_heartbeat", "alarm.scheduler_heartbeat",
                        {"at": "07:00:00", "holder": "sched-1"}, severity="critical")
        [event] = recv_events(ws)
        assert event["type"] == "alarm" and event["action"] == "raised"
        assert event["alarm"]["kind"] == "scheduler_heartbeat"


def test_each_technician_reads_the_alarm_in_her_own_language(
    live: LiveServerThread, token_for: TokenFor, technician: Any, make_user: Any,
    session_factory: sessionmaker[Session],
) -> None:
    english = make_user("technician", "kythuat_en")
    with session_factory.begin() as s:
        s.get(User, english.id).locale = "en"
    ws_vi, _ = authed(live, token_for(technician))
    ws_en, _ = authed(live, token_for(english))
    with ws_vi, ws_en:
        with session_factory.begin() as s:
            raise_alarm(s, "scheduler_heartbeat", "scheduler_heartbeat", "alarm.scheduler_heartbeat",
                        {"at": "07:00:00", "holder": "sched-1"}, severity="critical")
        [vi] = recv_events(ws_vi)
        [en] = recv_events(ws_en)
        assert vi["alarm"]["message"] == "Máy lập lịch không gia hạn từ 07:00:00 (máy sched-1)"
        assert en["alarm"]["message"] == "The scheduler has not renewed its lease since 07:00:00 (host sched-1)"
        assert vi["seq"] == en["seq"] and en["alarm"]["code"] == "alarm.scheduler_heartbeat"


def test_slow_client_is_dropped_and_others_keep_up(
    start_live: Callable[..., LiveServerThread], token_for: TokenFor, technician: Any, bus: MemoryBus,
) -> None:
    server = start_live(client_queue_frames=4, write_limit_bytes=4096)
    fast, _ = authed(server, token_for(technician))
    slow = raw_client_that_never_reads(server.port, token_for(technician))
    time.sleep(0.3)  # let it authenticate
    assert server.server.stats.connections == 2
    last = 0
    payload = "đ" * 300
    for round_ in range(40):
        for ep in range(100):
            last += 1
            bus.publish(Event("endpoint.status", {"endpoint_id": 1000 * round_ + ep, "status": "idle",
                                                  "detail": payload, "n": last}))
        time.sleep(0.06)
    seen = 0
    with fast:
        while seen < last:
            seen = max(e["n"] for e in recv_events(fast))
        assert seen == last  # the fast client got everything, up to the last event
        deadline = time.monotonic() + 5
        while server.server.stats.dropped_slow < 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert server.server.stats.dropped_slow == 1
        assert server.server.stats.connections == 1  # only the fast one is left
    slow.close()


def test_reconnect_after_server_restart_needs_a_new_token(
    start_live: Callable[..., LiveServerThread], token_for: TokenFor, technician: Any,
) -> None:
    first = start_live()
    ws, _ = authed(first, token_for(technician))
    first.stop()
    with pytest.raises(ConnectionClosed):
        ws.recv(timeout=5)
    second = start_live()
    ws2, snapshot = authed(second, token_for(technician))
    with ws2:
        assert snapshot["type"] == "snapshot"


def test_token_from_the_api_opens_one_connection(
    frozen_clock: clock.FrozenClock, live: LiveServerThread, client: FlaskClient, technician: Any,
) -> None:
    response = client.post("/api/v1/live/token", headers=technician.headers)
    body = response.get_json()
    assert response.status_code == 201
    assert body["url"].startswith("ws://127.0.0.1:")
    from datetime import datetime

    expires = datetime.fromisoformat(body["expires_at"])
    assert expires - frozen_clock.now() == timedelta(seconds=60)
    assert body["token"] not in body["url"]
    ws, snapshot = authed(live, body["token"])
    with ws:
        assert snapshot["type"] == "snapshot"
    second = api_live_token(client, technician.headers)
    assert second != body["token"]
