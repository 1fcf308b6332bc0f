"""Live server fixtures: a real server thread on a free loopback port, with the in-process bus installed
as the event publisher, and real WebSocket clients."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker
from websockets.sync.client import ClientConnection, connect

from confbridge import events
from confbridge.auth.models import User
from confbridge.directory.models import Endpoint, Site
from confbridge.live.bus import MemoryBus
from confbridge.live.server import LiveServer, LiveServerThread
from confbridge.live.tokens import issue_live_token
from confbridge.settings import Settings

ORIGIN = "http://127.0.0.1:8080"
TokenFor = Callable[[Any], str]


@pytest.fixture
def bus() -> Iterator[MemoryBus]:
    bus = MemoryBus()
    events.set_publisher(bus)
    yield bus
    events.set_publisher(None)


@pytest.fixture
def live_settings(settings: Settings) -> Settings:
    # LiveServer takes [live] as given (the web's own origin is added by confbridge.live.runner).
    return settings.with_overrides(**{"live.port": 1, "live.flush_ms": 50, "live.auth_timeout_seconds": 1.0,
                                      "live.allowed_origins": [ORIGIN]})


@pytest.fixture
def start_live(live_settings: Settings, session_factory: sessionmaker[Session], bus: MemoryBus,
               ) -> Iterator[Callable[..., LiveServerThread]]:
    started: list[LiveServerThread] = []

    def start(**overrides: Any) -> LiveServerThread:
        s = live_settings.with_overrides(**{f"live.{k}": v for k, v in overrides.items()})
        thread = LiveServerThread(LiveServer(s.live, session_factory, bus), port=0).start()
        started.append(thread)
        return thread

    yield start
    for thread in started:
        thread.stop()


@pytest.fixture
def live(start_live: Callable[..., LiveServerThread]) -> LiveServerThread:
    return start_live()


def api_live_token(client: FlaskClient, headers: dict[str, str]) -> str:
    """A live token through the REST API, as the console gets it."""
    response = client.post("/api/v1/live/token", headers=headers)
    assert response.status_code == 201, response.get_json()
    return str(response.get_json()["token"])


@pytest.fixture
def token_for(session_factory: sessionmaker[Session], live_settings: Settings) -> Callable[[Any], str]:
    """A live token for a test user, issued by the service the REST view calls (no app needed)."""

    def issue(user: Any) -> str:
        with session_factory.begin() as s:
            token, _ = issue_live_token(s, s.get(User, user.id), live_settings.live)
            return token

    return issue


def open_ws(server: LiveServerThread, origin: str | None = ORIGIN, **kwargs: Any) -> ClientConnection:
    opening = connect(f"ws://127.0.0.1:{server.port}/", origin=origin, open_timeout=5,  # type: ignore[arg-type]
                      max_size=None, **kwargs)
    return opening.__enter__()  # the caller closes it with ``with ws:``


def recv_json(ws: ClientConnection, timeout: float = 5.0) -> dict[str, Any]:
    return json.loads(ws.recv(timeout=timeout))  # type: ignore[no-any-return]


def recv_events(ws: ClientConnection, timeout: float = 5.0) -> list[dict[str, Any]]:
    """The events of the next frame (one event or a batch)."""
    message = recv_json(ws, timeout)
    return list(message["events"]) if message["type"] == "batch" else [message]


def authed(server: LiveServerThread, token: str) -> tuple[ClientConnection, dict[str, Any]]:
    ws = open_ws(server)
    ws.send(json.dumps({"type": "auth", "token": token}))
    snapshot = recv_json(ws)
    assert snapshot["type"] == "snapshot"
    return ws, snapshot


def add_endpoints(factory: sessionmaker[Session], count: int, site: str = "TP Rạch Giá") -> list[int]:
    with factory.begin() as s:
        site_row = Site(name=site)
        s.add(site_row)
        s.flush()
        rows = [Endpoint(name=f"{site} điểm cầu {i}", site_id=site_row.id, protocol="sip",
                         address=f"ep{i}-{site_row.id}@vc.kiengiang.example") for i in range(count)]
        s.add_all(rows)
        s.flush()
        return [r.id for r in rows]
