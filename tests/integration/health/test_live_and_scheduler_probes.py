"""/healthz, /readyz and /metrics on the live port (plain HTTP beside the WebSockets) and on the
scheduler's metrics_port (real subprocesses: leader 1, standby 0; dials and lateness counted)."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from confbridge.db import make_engine
from confbridge.events import Event
from confbridge.health import probe_response
from confbridge.launch.models import ConferenceRun, RunState
from confbridge.live.bus import MemoryBus
from confbridge.live.server import LiveServer, LiveServerThread
from confbridge.metrics import parse_networks
from confbridge.settings import Settings
from tests.conftest import both_databases
from tests.integration.health.test_web_health import value
from tests.integration.launch.helpers import book, make_endpoints
from tests.integration.live.conftest import authed
from tests.integration.scheduler.procs import SchedulerProc, wait_until, write_config
from tests.services import free_port

LOOPBACK = parse_networks(["127.0.0.0/8"])


def get(url: str) -> tuple[int, str, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return resp.status, resp.headers.get("Content-Type", ""), resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("Content-Type", ""), exc.read().decode()


@pytest.fixture
def probed_live(live_settings: Settings, session_factory: sessionmaker[Session], bus: MemoryBus,
                engine: Any) -> Callable[..., LiveServerThread]:
    started: list[LiveServerThread] = []

    def start(networks: Any = LOOPBACK, db_engine: Any = None) -> LiveServerThread:
        eng = db_engine or engine
        server = LiveServer(live_settings.live, session_factory, bus,
                            probes=lambda path, client: probe_response(path, client, eng, session_factory,
                                                                       networks))
        thread = LiveServerThread(server, port=0).start()
        started.append(thread)
        return thread

    yield start  # type: ignore[misc]
    for thread in started:
        thread.stop()


@both_databases
def test_live_port_answers_health_readiness_and_metrics(probed_live: Callable[..., LiveServerThread],
                                                       token_for: Any, technician: Any, bus: MemoryBus) -> None:
    live = probed_live()
    base = f"http://127.0.0.1:{live.port}"
    assert get(base + "/healthz")[::2] == (200, '{"status": "up"}')
    status, _ctype, body = get(base + "/readyz")
    assert status == 200 and '"ready"' in body
    status, ctype, body = get(base + "/metrics")
    assert status == 200 and ctype.startswith("text/plain; version=")
    clients_before = value(body, "confbridge_live_clients")
    events_before = value(body, "confbridge_live_events_total")
    ws, _snapshot = authed(live, token_for(technician))
    with ws:
        bus.publish(Event("endpoint.status", {"endpoint_id": 1, "status": "idle"}))
        wait_until(lambda: value(get(base + "/metrics")[2], "confbridge_live_events_total") >= events_before + 1,
                   5, "the event to be counted")
        body = get(base + "/metrics")[2]
        assert value(body, "confbridge_live_clients") == clients_before + 1
        assert value(body, "confbridge_conferences_active") == 0
    wait_until(lambda: value(get(base + "/metrics")[2], "confbridge_live_clients") == clients_before, 5,
               "the closed client to be uncounted")


def test_live_port_hides_metrics_outside_allowed_networks_and_reports_a_dead_database(
        probed_live: Callable[..., LiveServerThread]) -> None:
    dead = make_engine(f"postgresql+psycopg://nobody@127.0.0.1:{free_port()}/confbridge")
    try:
        live = probed_live(networks=parse_networks(["10.0.0.0/8"]), db_engine=dead)
        base = f"http://127.0.0.1:{live.port}"
        assert get(base + "/metrics")[0] == 404
        assert get(base + "/healthz")[0] == 200
        status, _ctype, body = get(base + "/readyz")
        assert status == 503 and "database_unreachable" in body
    finally:
        dead.dispose()


def _run(factory: Any, occ_id: int) -> ConferenceRun | None:
    with factory() as s:
        return s.scalars(select(ConferenceRun).where(ConferenceRun.occurrence_id == occ_id)).first()


def _scrape(port: int) -> str:
    status, _ctype, body = get(f"http://127.0.0.1:{port}/metrics")
    assert status == 200, body
    return body


@pytest.mark.slow
@both_databases
def test_scheduler_metrics_port_leader_standby_dials_and_lateness(
        tmp_path: Path, db_url: str, session_factory: Any, mcu_emulator: Any) -> None:
    eps = make_endpoints(session_factory, 2)
    port_a, port_b = free_port(), free_port()
    config_a = write_config(tmp_path / "a.toml", db_url, mcu_emulator,
                            extra=f"[scheduler]\nmetrics_port = {port_a}\n")
    config_b = write_config(tmp_path / "b.toml", db_url, mcu_emulator,
                            extra=f"[scheduler]\nmetrics_port = {port_b}\n")
    a = SchedulerProc(config_a, tmp_path / "a.log")
    b: SchedulerProc | None = None
    try:
        wait_until(lambda: get(f"http://127.0.0.1:{port_a}/healthz")[0] == 200 if _listening(port_a) else False,
                   15, "scheduler A's metrics port")
        wait_until(lambda: value(_scrape(port_a), "confbridge_scheduler_leader") == 1, 15, "A to lead")
        b = SchedulerProc(config_b, tmp_path / "b.log")
        wait_until(lambda: _listening(port_b), 15, "scheduler B's metrics port")
        assert value(_scrape(port_b), "confbridge_scheduler_leader") == 0
        assert get(f"http://127.0.0.1:{port_b}/readyz")[0] == 200
        _m, occ = book(session_factory, datetime.now(UTC) + timedelta(seconds=1), minutes=10, setup=0,
                       endpoints=eps)
        wait_until(lambda: (r := _run(session_factory, occ)) is not None and r.state == RunState.LIVE, 20,
                   "the meeting live")
        body = _scrape(port_a)
        assert value(body, "confbridge_dial_attempts_total", outcome="ok") == 2
        assert value(body, "confbridge_launch_lateness_seconds_count") == 1
        assert 0 <= value(body, "confbridge_launch_lateness_seconds_sum") < 5
        assert value(body, "confbridge_conferences_active") == 1
        assert value(_scrape(port_b), "confbridge_dial_attempts_total", outcome="ok") == 0
        leaders = value(_scrape(port_a), "confbridge_scheduler_leader") + value(
            _scrape(port_b), "confbridge_scheduler_leader")
        assert leaders == 1
    finally:
        a.stop()
        if b is not None:
            b.stop()


def _listening(port: int) -> bool:
    import socket

    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False
