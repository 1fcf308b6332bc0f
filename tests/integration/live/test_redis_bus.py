"""The Redis bus with a real redis-server: events cross processes (here: two bus instances with their
own connections), and a live server fed by Redis pushes them to its clients."""

from __future__ import annotations

import json
import queue
import shutil
import signal
import socket
import subprocess
import time
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from confbridge import events
from confbridge.events import Event, queue_event
from confbridge.live.bus import RedisBus
from confbridge.live.server import LiveServer, LiveServerThread
from confbridge.settings import Settings
from tests import services
from tests.integration.live.conftest import TokenFor, authed, recv_events

pytestmark = pytest.mark.redis


def test_events_cross_between_bus_instances(redis_server: services.Redis) -> None:
    publisher, subscriber = RedisBus(redis_server.url), RedisBus(redis_server.url)
    got: queue.Queue[Event] = queue.Queue()
    try:
        subscriber.subscribe(got.put)
        assert subscriber.ready.wait(5)
        publisher.publish(Event("endpoint.status", {"endpoint_id": 3, "status": "offline",
                                                    "name": "UBND huyện <Phú Quốc>"}))
        event = got.get(timeout=5)
        assert event.type == "endpoint.status"
        assert event.payload == {"endpoint_id": 3, "status": "offline", "name": "UBND huyện <Phú Quốc>"}
    finally:
        publisher.close()
        subscriber.close()


def test_malformed_messages_on_the_channel_are_ignored(redis_server: services.Redis) -> None:
    import redis

    subscriber = RedisBus(redis_server.url)
    got: queue.Queue[Event] = queue.Queue()
    raw = redis.Redis.from_url(redis_server.url)
    try:
        subscriber.subscribe(got.put)
        assert subscriber.ready.wait(5)
        raw.publish("confbridge:events", "{not json")
        raw.publish("confbridge:events", json.dumps({"type": "rm -rf", "payload": {}}))
        RedisBus(redis_server.url).publish(Event("alarm", {"alarm": {"id": 1}}))
        assert got.get(timeout=5).type == "alarm"
        assert got.empty()
    finally:
        raw.close()
        subscriber.close()


def test_live_server_fed_by_redis_pushes_committed_events(
    redis_server: services.Redis, live_settings: Settings, session_factory: sessionmaker[Session],
    token_for: TokenFor, technician: Any,
) -> None:
    server_bus = RedisBus(redis_server.url)
    web_bus = RedisBus(redis_server.url)  # what a web or scheduler process would install
    thread = LiveServerThread(LiveServer(live_settings.live, session_factory, server_bus), port=0).start()
    events.set_publisher(web_bus)
    try:
        assert server_bus.ready.wait(5)
        ws, snapshot = authed(thread, token_for(technician))
        with ws:
            with session_factory.begin() as s:
                queue_event(s, "endpoint.status", endpoint_id=11, status="degraded", packet_loss="critical")
            [event] = recv_events(ws)
            assert (event["endpoint_id"], event["status"]) == (11, "degraded")
            assert event["seq"] == snapshot["seq"] + 1
    finally:
        events.set_publisher(None)
        thread.stop()
        server_bus.close()
        web_bus.close()


def _redis_on(port: int) -> subprocess.Popen[bytes]:
    server = shutil.which("redis-server")
    assert server is not None
    proc = subprocess.Popen([server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise AssertionError("redis-server did not start")


def test_redis_restart_makes_clients_resync(
    redis_server: services.Redis, live_settings: Settings, session_factory: sessionmaker[Session],
    token_for: TokenFor, technician: Any,
) -> None:
    port = services.free_port()
    redis_proc = _redis_on(port)
    url = f"redis://127.0.0.1:{port}/0"
    server_bus, publisher = RedisBus(url), RedisBus(url)
    thread = LiveServerThread(LiveServer(live_settings.live, session_factory, server_bus), port=0).start()
    try:
        assert server_bus.ready.wait(5)
        ws, snapshot = authed(thread, token_for(technician))
        with ws:
            redis_proc.send_signal(signal.SIGKILL)  # Redis dies: pub/sub messages in between are lost
            redis_proc.wait(5)
            redis_proc = _redis_on(port)
            deadline = time.monotonic() + 10
            while not server_bus.ready.is_set() or thread.server.global_seq == snapshot["seq"]:
                assert time.monotonic() < deadline, "the bus did not resubscribe"
                time.sleep(0.05)
            publisher.publish(Event("endpoint.status", {"endpoint_id": 5, "status": "idle"}))
            [event] = recv_events(ws)
            assert event["seq"] > snapshot["seq"] + 1  # the client sees the hole and asks again
            ws.send(json.dumps({"type": "resync"}))
            again = json.loads(ws.recv(timeout=5))
            assert again["type"] == "snapshot" and again["seq"] == event["seq"]
    finally:
        thread.stop()
        server_bus.close()
        publisher.close()
        redis_proc.kill()
