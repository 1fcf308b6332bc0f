"""Every entry point, started as its own OS process the way an operator starts it, is wired by the one
composition root: the configured bus publisher, the booking hooks, JSON logging; the active scheduler
delivers the outbox; the live server accepts the web's own origin.  Real PostgreSQL-free topology pieces
here (SQLite file shared by the processes), real Redis, real SMTP (aiosmtpd), real WebSocket clients."""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker
from websockets.sync.client import connect

from confbridge.alarms.service import raise_alarm
from confbridge.events import Event
from confbridge.live.bus import RedisBus
from confbridge.settings import Settings
from tests import services
from tests.conftest import both_databases
from tests.factories import seed_endpoints
from tests.fixtures.smtp import SMTPServer
from tests.integration.processes.procs import Proc, http, port_open, wait_until, write_config

DROPPED = {"endpoint": "UBND xã Hòn Tre", "meeting": "Giao ban tuần", "reason": "remote_hangup"}


@pytest.fixture
def procs() -> Iterator[list[Proc]]:
    started: list[Proc] = []
    yield started
    for proc in started:
        proc.stop()


def _book(web_url: str, token: str, endpoint_ids: list[int]) -> dict[str, Any]:
    start = (datetime.now(UTC) + timedelta(days=2)).replace(minute=0, second=0, microsecond=0)
    body = {"title": "Giao ban tuần", "start": start.isoformat(), "end": (start + timedelta(hours=1)).isoformat(),
            "timezone": "Asia/Ho_Chi_Minh", "endpoint_ids": endpoint_ids,
            "attendees": [{"email": "chanh.vanphong@ubnd.example", "name": "Chánh Văn phòng"}]}
    r = http("POST", f"{web_url}/api/v1/meetings", json_body=body, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 201, r.text
    return dict(r.json())


def _live_token(web_url: str, token: str) -> str:
    r = http("POST", f"{web_url}/api/v1/live/token", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 201, r.text
    return str(r.json()["token"])


@both_databases
def test_web_workers_scheduler_and_live_processes_share_events_and_mail_through_redis(
    tmp_path: Path, settings: Settings, session_factory: sessionmaker[Session], redis_server: services.Redis,
    smtp_factory: Callable[..., SMTPServer], make_user: Any, procs: list[Proc],
) -> None:
    smtp = smtp_factory()
    web_port, live_port = services.free_port(), services.free_port()
    config = write_config(tmp_path / "confbridge.toml", db_url=settings.database.url, web_port=web_port,
                          live_port=live_port, redis_url=redis_server.url, smtp_port=smtp.port,
                          web={"workers": 2})
    secretary, technician = make_user("secretary"), make_user("technician")
    endpoint_ids = seed_endpoints(session_factory, 2)
    with session_factory.begin() as s:
        alarm_id = raise_alarm(s, "call_dropped", "test:drop", "alarm.call_dropped", DROPPED,
                               endpoint_id=endpoint_ids[0]).id

    web = Proc.confbridge(config, "web", log_path=tmp_path / "web.log")
    scheduler = Proc.confbridge(config, "scheduler", log_path=tmp_path / "scheduler.log")
    live = Proc.confbridge(config, "live", log_path=tmp_path / "live.log")
    procs += [web, scheduler, live]
    web_url = f"http://127.0.0.1:{web_port}"
    wait_until(lambda: port_open(web_port), 30, "web listening", web)
    wait_until(lambda: port_open(live_port), 30, "live listening", live)
    # gunicorn: both workers wired by the composition root with the Redis publisher and the hooks.
    database = settings.database.url.split(":")[0].split("+")[0]
    wait_until(lambda: len(web.wired()) >= 2, 30, "both web workers wired", web)
    assert web.wired() == [f"process wsgi wired: bus RedisBus, hooks invitations, database {database}"] * 2
    wait_until(lambda: bool(scheduler.wired()), 30, "scheduler wired", scheduler)
    assert scheduler.wired() == [f"process scheduler wired: bus RedisBus, hooks invitations, database {database}"]
    assert live.wired() == [f"process live wired: bus RedisBus, hooks invitations, database {database}"]

    # A browser on the web's own origin (no allowed_origins configured) is accepted by the live server.
    # As the console does: the one-time token first, then the socket (the live server closes a socket
    # that has not authenticated within its timeout, and a fresh web worker's first answer can be slow).
    live_token = _live_token(web_url, technician.token)
    ws = connect(f"ws://127.0.0.1:{live_port}/", origin=f"http://127.0.0.1:{web_port}", open_timeout=10)  # type: ignore[arg-type]
    with ws:
        ws.send(json.dumps({"type": "auth", "token": live_token}))
        snapshot = json.loads(ws.recv(timeout=10))
        assert snapshot["type"] == "snapshot"
        # An event raised in a web worker reaches the client of the live process (through Redis).
        r = http("POST", f"{web_url}/api/v1/alarms/{alarm_id}/ack", headers=technician.headers)
        assert r.status_code == 200, r.text
        assert r.headers["X-Request-ID"]
        frame = json.loads(ws.recv(timeout=10))
        events = frame["events"] if frame["type"] == "batch" else [frame]
        assert [(e["type"], e["action"], e["alarm"]["id"]) for e in events] == [("alarm", "acknowledged", alarm_id)]
        assert events[0]["seq"] == snapshot["seq"] + 1

    # A booking in a web worker queues the invitation; the active scheduler delivers it.
    _book(web_url, secretary.token, endpoint_ids)
    wait_until(lambda: bool(smtp.sink.to("chanh.vanphong@ubnd.example")), 30, "the invitation by SMTP",
               scheduler)
    assert "Giao ban tuần" in smtp.sink.to("chanh.vanphong@ubnd.example")[0].message["Subject"]


def test_gunicorn_runs_the_wsgi_module_wired_like_every_process(
    tmp_path: Path, settings: Settings, redis_server: services.Redis, make_user: Any,
    session_factory: sessionmaker[Session], procs: list[Proc],
) -> None:
    web_port = services.free_port()
    config = write_config(tmp_path / "confbridge.toml", db_url=settings.database.url, web_port=web_port,
                          live_port=services.free_port(), redis_url=redis_server.url)
    technician = make_user("technician")
    with session_factory.begin() as s:
        alarm_id = raise_alarm(s, "call_dropped", "test:drop", "alarm.call_dropped", DROPPED).id
    received: list[Event] = []
    got = threading.Event()
    bus = RedisBus(redis_server.url)
    bus.subscribe(lambda e: (received.append(e), got.set()))
    assert bus.ready.wait(5)
    web = Proc([sys.executable, "-m", "gunicorn", "-w", "1", "-b", f"127.0.0.1:{web_port}", "confbridge.wsgi:app"],
               tmp_path / "gunicorn.log", env={"CONFBRIDGE_CONFIG": str(config)})
    procs.append(web)
    try:
        wait_until(lambda: port_open(web_port), 30, "gunicorn listening", web)
        r = http("POST", f"http://127.0.0.1:{web_port}/api/v1/alarms/{alarm_id}/ack", headers=technician.headers)
        assert r.status_code == 200, r.text
        assert got.wait(10), "the web worker's event never reached Redis"
        assert (received[0].type, received[0].payload["action"]) == ("alarm", "acknowledged")
        assert web.wired() == ["process wsgi wired: bus RedisBus, hooks invitations, database sqlite"]
    finally:
        bus.close()


def test_mail_worker_process_delivers_what_a_cli_booking_queued(
    tmp_path: Path, settings: Settings, smtp_factory: Callable[..., SMTPServer], make_user: Any,
    session_factory: sessionmaker[Session], procs: list[Proc],
) -> None:
    smtp = smtp_factory()
    web_port = services.free_port()
    config = write_config(tmp_path / "confbridge.toml", db_url=settings.database.url, web_port=web_port,
                          live_port=services.free_port(), smtp_port=smtp.port)
    secretary = make_user("secretary")
    endpoint_ids = seed_endpoints(session_factory, 1)
    web = Proc.confbridge(config, "web", log_path=tmp_path / "web.log")
    worker = Proc.confbridge(config, "mail", "worker", log_path=tmp_path / "worker.log")
    procs += [web, worker]
    wait_until(lambda: port_open(web_port), 30, "web listening", web)
    assert web.wired() == ["process web wired: bus MemoryBus, hooks invitations, database sqlite"]
    _book(f"http://127.0.0.1:{web_port}", secretary.token, endpoint_ids)
    wait_until(lambda: bool(smtp.sink.to("chanh.vanphong@ubnd.example")), 30, "the invitation by SMTP", worker)
    assert worker.wired() == ["process mail-worker wired: bus MemoryBus, hooks invitations, database sqlite"]


def test_run_stops_before_starting_anything_when_the_live_port_is_taken(
    tmp_path: Path, settings: Settings,
) -> None:
    import socket
    import subprocess

    web_port = services.free_port()
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        live_port = squatter.getsockname()[1]
        config = write_config(tmp_path / "confbridge.toml", db_url=settings.database.url, web_port=web_port,
                              live_port=live_port)
        done = subprocess.run([sys.executable, "-m", "confbridge.cli", "--config", str(config), "run", "--no-demo"],
                              capture_output=True, text=True, timeout=60, cwd=tmp_path, check=False)
    assert done.returncode != 0
    expected = f"127.0.0.1:{live_port} is in use by another process: change [live] port (or CONFBRIDGE_LIVE_PORT)"
    assert expected in done.stderr
    assert "Traceback" not in done.stderr
    assert not port_open(web_port)  # the web never started to serve beside a dead live server


def test_web_refuses_to_start_on_a_busy_port_naming_the_setting(tmp_path: Path, settings: Settings) -> None:
    import socket
    import subprocess

    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        web_port = squatter.getsockname()[1]
        config = write_config(tmp_path / "confbridge.toml", db_url=settings.database.url, web_port=web_port,
                              live_port=services.free_port())
        done = subprocess.run([sys.executable, "-m", "confbridge.cli", "--config", str(config), "web"],
                              capture_output=True, text=True, timeout=60, cwd=tmp_path, check=False)
    assert done.returncode != 0 and "change [web] port (or CONFBRIDGE_WEB_PORT)" in done.stderr


def test_behind_a_proxy_the_log_has_the_client_address_the_request_id_and_no_feed_token(
    tmp_path: Path, settings: Settings, make_user: Any, procs: list[Proc],
) -> None:
    web_port = services.free_port()
    config = write_config(tmp_path / "confbridge.toml", db_url=settings.database.url, web_port=web_port,
                          live_port=services.free_port(), web={"trusted_proxies": 1})
    secretary = make_user("secretary")
    web = Proc.confbridge(config, "web", log_path=tmp_path / "web.log")
    procs.append(web)
    wait_until(lambda: port_open(web_port), 30, "web listening", web)
    proxy = {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"}
    created = http("POST", f"http://127.0.0.1:{web_port}/api/v1/feeds", json_body={"kind": "user"},
                   headers={**secretary.headers, **proxy})
    assert created.status_code == 201, created.text
    token, url = created.json()["token"], created.json()["url"]
    assert url.startswith(f"https://127.0.0.1:{web_port}/calendar/users/")  # the scheme the client used
    feed = http("GET", url.replace("https://", "http://"), headers={**proxy, "X-Request-ID": "req-feed-1"})
    assert feed.status_code == 200 and feed.headers["X-Request-ID"] == "req-feed-1"
    generated = http("GET", f"http://127.0.0.1:{web_port}/login")
    assert len(generated.headers["X-Request-ID"]) == 32  # made here when the proxy sends none
    wait_until(lambda: any(r.get("request_id") == "req-feed-1" for r in web.json_lines()), 10, "access line")
    [line] = [r for r in web.json_lines() if r.get("request_id") == "req-feed-1"]
    assert line["logger"] == "confbridge.access" and line["level"] == "INFO"
    assert str(line["message"]).startswith("203.0.113.7 GET /calendar/users/")
    assert "token=[redacted]" in str(line["message"])
    assert token not in web.output() and secretary.token not in web.output()


def test_run_wires_one_in_process_bus_and_its_scheduler_delivers_invitations(
    tmp_path: Path, settings: Settings, make_user: Any, session_factory: sessionmaker[Session],
    procs: list[Proc],
) -> None:
    web_port, live_port = services.free_port(), services.free_port()
    config = write_config(tmp_path / "confbridge.toml", db_url=settings.database.url, web_port=web_port,
                          live_port=live_port)
    secretary = make_user("secretary")
    endpoint_ids = seed_endpoints(session_factory, 1)
    run = Proc.confbridge(config, "run", "--no-demo", log_path=tmp_path / "run.log")
    procs.append(run)
    wait_until(lambda: port_open(web_port) and port_open(live_port), 60, "web and live listening", run)
    assert run.wired() == ["process run wired: bus MemoryBus, hooks invitations, database sqlite"]
    _book(f"http://127.0.0.1:{web_port}", secretary.token, endpoint_ids)
    mail_dir = tmp_path / "mail"
    wait_until(lambda: any(mail_dir.glob("*.eml")), 30, "the invitation written by the scheduler", run)
    run.stop()
    assert run.proc.returncode == 0, run.output()
