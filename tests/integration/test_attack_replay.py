"""Every finding of the security review (issue 11), replayed as an attacker would: raw HTTP against the
app served on 127.0.0.1 in a thread, real WebSocket clients against the live server.

Each test fails if its hole comes back.  (The file-permission finding is replayed with real subprocesses
at the end; the SQLite files and ``.eml`` files are checked under a permissive umask.)
"""

from __future__ import annotations

import http.client
import json
import os
import re
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from flask import Flask
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker
from websockets.exceptions import ConnectionClosed
from werkzeug.serving import BaseWSGIServer, make_server

from confbridge import clock, events
from confbridge.auth.models import ApiToken, User, WebSession
from confbridge.auth.ratelimit import sign_in_guard
from confbridge.auth.service import consume_token
from confbridge.auth.sessions import purge_expired
from confbridge.errors import Unauthorized
from confbridge.files import write_private
from confbridge.live.bus import MemoryBus
from confbridge.live.server import LiveServer, LiveServerThread
from confbridge.live.tokens import issue_live_token
from confbridge.settings import Settings
from tests.conftest import both_databases
from tests.factories import seed_endpoints
from tests.integration.live.conftest import ORIGIN, open_ws, recv_json

MONDAY = "2026-12-07T07:30:00+07:00"
MONDAY_END = "2026-12-07T09:00:00+07:00"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


# ---- a running app and a raw HTTP client ---------------------------------------------------------------
@dataclass
class Running:
    app: Flask
    port: int
    settings: Settings

    def client(self, forwarded_for: str | None = None) -> Browser:
        return Browser(self.port, forwarded_for)


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes
    seconds: float

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Browser:
    """A cookie-keeping HTTP/1.1 client that follows nothing and sends exactly what it is given."""

    port: int
    forwarded_for: str | None = None
    cookies: dict[str, str] = field(default_factory=dict)

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> Reply:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        sent = dict(headers or {})
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if self.forwarded_for:
            sent["X-Forwarded-For"] = self.forwarded_for
        began = time.perf_counter()
        conn.request(method, path, body=body, headers=sent)
        response = conn.getresponse()
        data = response.read()
        seconds = time.perf_counter() - began
        for value in response.headers.get_all("Set-Cookie") or []:
            jar: SimpleCookie = SimpleCookie()
            jar.load(value)
            for name, morsel in jar.items():
                if morsel.value:
                    self.cookies[name] = morsel.value
                else:
                    self.cookies.pop(name, None)
        conn.close()
        return Reply(response.status, {k.lower(): v for k, v in response.getheaders()}, data, seconds)

    def get(self, path: str, headers: dict[str, str] | None = None) -> Reply:
        return self.request("GET", path, headers=headers)

    def form(self, path: str, data: dict[str, str], csrf_from: str = "/login") -> Reply:
        token = CSRF.search(self.get(csrf_from).text)
        assert token is not None
        fields = {"csrf_token": token.group(1), **data}
        return self.request("POST", path, urlencode(fields).encode(),
                            {"Content-Type": "application/x-www-form-urlencoded"})

    def json(self, method: str, path: str, payload: Any, token: str | None = None) -> Reply:
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return self.request(method, path, json.dumps(payload).encode(), headers)

    def login(self, username: str, password: str, next_url: str = "") -> Reply:
        path = "/login" + (f"?{urlencode({'next': next_url})}" if next_url else "")
        return self.form(path, {"username": username, "password": password})


@pytest.fixture
def serve(settings: Settings, engine: Engine, frozen_clock: clock.FrozenClock) -> Iterator[Callable[..., Running]]:
    from confbridge.app import create_app

    servers: list[tuple[BaseWSGIServer, threading.Thread]] = []

    def start(**overrides: Any) -> Running:
        s = settings.with_overrides(**overrides) if overrides else settings
        app = create_app(s, engine=engine)
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        servers.append((server, thread))
        return Running(app, server.server_port, s)

    yield start
    for server, thread in servers:
        server.shutdown()
        thread.join(5)


@pytest.fixture
def running(serve: Callable[..., Running]) -> Running:
    return serve()


def _book(web: Browser, token: str, eps: list[int], **over: Any) -> Reply:
    body = {"title": "Giao ban tuần", "start": MONDAY, "end": MONDAY_END, "endpoint_ids": eps,
            "host_endpoint_id": eps[0], "attendees": [{"email": "chanh.vanphong@ubnd.example", "name": "Chánh VP"}],
            "rrule": "FREQ=WEEKLY;BYDAY=MO;COUNT=4", "setup_minutes": 15, "pin": "246813"}
    body.update(over)
    return web.json("POST", "/api/v1/meetings", body, token)


# ---- 1. memory exhaustion at sign-in ------------------------------------------------------------------
def test_1_huge_usernames_are_refused_before_anything_is_stored(running: Running, secretary: Any) -> None:
    web = running.client()
    guard = sign_in_guard(running.app)
    huge = "a" * 200_000
    for _ in range(5):
        assert web.login(huge, "x").status == 422
        assert web.json("POST", "/api/v1/auth/token", {"username": huge, "password": "x"}).status == 422
    assert guard.sizes() == (0, 0)
    # Empty passwords store nothing either.
    assert web.login("thuky", "").status == 422
    assert guard.sizes() == (0, 0)


def test_1_the_store_is_bounded_and_one_limiter_serves_page_and_api(running: Running, secretary: Any) -> None:
    web = running.client()
    limit = running.settings.web.login_attempts_per_minute
    codes = [web.login(f"spray{i}", "wrong-password").status for i in range(limit)]
    # The API shares the page's limiter: this address has used its failures.
    api = web.json("POST", "/api/v1/auth/token", {"username": "spray-api", "password": "wrong-password"})
    assert codes == [401] * limit and api.status == 429 and api.headers.get("retry-after")
    assert web.login("another", "wrong-password").status == 429
    assert sign_in_guard(running.app).sizes() == (1, limit)  # blocked attempts stored nothing
    from confbridge.auth.ratelimit import SignInGuard

    small = SignInGuard(per_minute=5, max_keys=100)
    for i in range(5000):
        small.failed(f"user{i}", f"10.0.{i // 250}.{i % 250}")
    assert small.sizes() == (100, 100)  # an LRU with a hard size, whatever the spray


# ---- 2. open redirect after sign-in -------------------------------------------------------------------
HOSTILE_NEXT = ["/\t/evil.example/", "//evil.example/", "/\\evil.example", "https://evil.example/", "/\n/x",
                "/\r\nSet-Cookie: a=b", " /calendar", "/\\/evil.example/", "/\x00/evil.example"]


def test_2_next_never_leaves_the_site(running: Running, secretary: Any) -> None:
    web = running.client()
    for target in HOSTILE_NEXT[:2]:  # POST /login?next=… (the redirect after signing in)
        fresh = running.client()
        response = fresh.login(secretary.username, secretary.password, target)
        assert response.status == 302 and response.headers["location"] == "/", (target, response.headers)
    assert web.login(secretary.username, secretary.password).status == 302
    for target in HOSTILE_NEXT:  # signed in, GET /login?next=… redirects at once: the same rule
        again = web.get("/login?" + urlencode({"next": target}))
        location = again.headers.get("location", "")
        assert again.status == 302 and location == "/", (target, again.status, location)
        assert "a" not in web.cookies


def test_2_a_path_on_this_site_is_kept(running: Running, secretary: Any) -> None:
    response = running.client().login(secretary.username, secretary.password, "/calendar?view=day")
    assert response.status == 302 and response.headers["location"].endswith("/calendar?view=day")


# ---- 3. recurrence rules that never match -------------------------------------------------------------
def test_3_never_matching_rules_answer_fast_and_do_not_hold_the_lock(
    running: Running, secretary: Any, session_factory: sessionmaker[Session],
) -> None:
    eps = seed_endpoints(session_factory, 1)
    web = running.client()
    body = {"title": "X", "start": MONDAY, "end": MONDAY_END, "endpoint_ids": eps,
            "rrule": "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30;COUNT=1"}
    results: dict[str, Reply] = {}

    def attack() -> None:
        results["check"] = web.json("POST", "/api/v1/meetings/check", body, secretary.token)

    attacker = threading.Thread(target=attack)
    attacker.start()
    me = running.client().get("/api/v1/auth/me", {"Authorization": f"Bearer {secretary.token}"})
    attacker.join(10)
    assert results["check"].status == 422 and "rrule" in results["check"].json()["fields"]
    assert results["check"].seconds < 0.5 and me.status == 200 and me.seconds < 0.5
    for rule in ("FREQ=DAILY;INTERVAL=7;BYDAY=TU;COUNT=2", "FREQ=DAILY;BYHOUR=1,2,3;COUNT=2",
                 "FREQ=MONTHLY;INTERVAL=12;BYMONTH=3;COUNT=2"):
        reply = web.json("POST", "/api/v1/meetings/check", {**body, "rrule": rule}, secretary.token)
        assert reply.status == 422 and reply.seconds < 0.5, (rule, reply.status, reply.seconds)


# ---- 4. PIN and attendees ----------------------------------------------------------------------------
def test_4_pin_and_attendees_only_for_organiser_admins_and_technicians(
    running: Running, make_user: Any, technician: Any, session_factory: sessionmaker[Session],
) -> None:
    organiser, other = make_user("secretary"), make_user("secretary")
    eps = seed_endpoints(session_factory, 2)
    web = running.client()
    created = _book(web, organiser.token, eps)
    assert created.status == 201 and created.json()["pin"] == "246813"
    mid = created.json()["id"]
    for reader in (organiser, technician):
        seen = web.get(f"/api/v1/meetings/{mid}", {"Authorization": f"Bearer {reader.token}"}).json()
        assert seen["pin"] == "246813" and seen["attendees"]
    leaked = web.get(f"/api/v1/meetings/{mid}", {"Authorization": f"Bearer {other.token}"})
    assert leaked.status == 200 and "pin" not in leaked.json() and "attendees" not in leaked.json()
    listed = web.get("/api/v1/meetings?" + urlencode({"from": "2026-12-01T00:00:00Z", "to": "2027-01-31T00:00:00Z"}),
                     {"Authorization": f"Bearer {other.token}"}).json()
    assert listed and all("pin" not in m and "attendees" not in m for m in listed)
    # The meeting page (its invitation preview) and an endpoint feed of another secretary.
    page_reader = running.client()
    assert page_reader.login(other.username, other.password).status == 302
    page = page_reader.get(f"/meetings/{mid}").text
    assert "246813" not in page and "chanh.vanphong@ubnd.example" not in page
    feed = web.json("POST", "/api/v1/feeds", {"kind": "endpoint", "endpoint_id": eps[0]}, other.token).json()
    ics = web.get(feed["url"].split(str(running.port), 1)[1])
    assert ics.status == 200 and "Giao ban" in ics.text and "246813" not in ics.text
    own = web.json("POST", "/api/v1/feeds", {"kind": "endpoint", "endpoint_id": eps[0]}, organiser.token).json()
    assert "246813" in web.get(own["url"].split(str(running.port), 1)[1]).text


# ---- 5. lock-out and spraying behind a proxy ----------------------------------------------------------
def test_5_behind_a_proxy_an_attacker_cannot_lock_a_user_out(serve: Callable[..., Running], secretary: Any) -> None:
    running = serve(**{"web.trusted_proxies": 1})
    guard = sign_in_guard(running.app)
    delays: list[float] = []
    guard.sleep = delays.append  # the soft delay, recorded instead of slept
    attacker = running.client(forwarded_for="203.0.113.66")
    limit = running.settings.web.login_attempts_per_minute
    codes = [attacker.login(secretary.username, "guess-guess").status for _ in range(limit + 3)]
    assert codes == [401] * limit + [429] * 3  # the attacker's address is stopped hard
    user = running.client(forwarded_for="198.51.100.7")  # the real user, same proxy, own address
    assert user.login(secretary.username, secretary.password).status == 302
    assert delays and max(delays) <= 2.0  # slowed down, never locked out


# ---- 6. sessions that outlive sign-out; live connections that outlive a lock -------------------------
def test_6_a_cookie_replayed_after_sign_out_is_anonymous(running: Running, secretary: Any) -> None:
    web = running.client()
    assert web.login(secretary.username, secretary.password).status == 302
    stolen = dict(web.cookies)
    assert web.get("/calendar").status == 200
    csrf = CSRF.search(web.get("/calendar").text)
    assert csrf is not None
    logout = web.request("POST", "/logout", urlencode({"csrf_token": csrf.group(1)}).encode(),
                         {"Content-Type": "application/x-www-form-urlencoded"})
    assert logout.status == 302
    replay = Browser(running.port, cookies=stolen)
    assert replay.get("/calendar").status == 302  # to the sign-in page
    assert replay.get("/api/v1/auth/me").status == 401


def test_6_password_change_and_lock_end_other_sessions(running: Running, admin: Any, make_user: Any) -> None:
    victim = make_user("secretary")
    first, second = running.client(), running.client()
    assert first.login(victim.username, victim.password).status == 302
    assert second.login(victim.username, victim.password).status == 302
    new = "a-brand-new-password-2026"
    changed = first.form("/account/password", {"old_password": victim.password, "new_password": new,
                                               "new_password_repeat": new}, csrf_from="/account/password")
    assert changed.status == 302
    assert first.get("/calendar").status == 200 and second.get("/calendar").status == 302
    third = running.client()
    assert third.login(victim.username, new).status == 302
    locked = running.client().json("PATCH", f"/api/v1/users/{victim.username}", {"active": False}, admin.token)
    assert locked.status == 200
    assert third.get("/calendar").status == 302 and first.get("/calendar").status == 302


def test_6_delete_auth_token_revokes_the_bearer_token(running: Running, secretary: Any) -> None:
    web = running.client()
    token = web.json("POST", "/api/v1/auth/token",
                     {"username": secretary.username, "password": secretary.password}).json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert web.get("/api/v1/auth/me", headers).status == 200
    assert web.request("DELETE", "/api/v1/auth/token", headers=headers).status == 204
    assert web.get("/api/v1/auth/me", headers).status == 401
    assert web.request("DELETE", "/api/v1/auth/token").status == 401


def test_6_expired_tokens_and_sessions_are_purged(
    running: Running, secretary: Any, session_factory: sessionmaker[Session], frozen_clock: clock.FrozenClock,
) -> None:
    web = running.client()
    assert web.login(secretary.username, secretary.password).status == 302
    credentials = {"username": secretary.username, "password": secretary.password}
    issued = running.client().json("POST", "/api/v1/auth/token", credentials)
    assert issued.status == 200, issued.text
    frozen_clock.advance(timedelta(days=40))  # past the sessions, the API token and the fixture's token
    with session_factory.begin() as s:
        sessions, tokens = purge_expired(s)
    assert (sessions, tokens) >= (1, 2), (sessions, tokens)
    with session_factory() as s:
        assert s.scalars(select(WebSession)).all() == []
        assert all(t.purpose == "feed" for t in s.scalars(select(ApiToken)))


@pytest.fixture
def live_server(settings: Settings, session_factory: sessionmaker[Session]) -> Iterator[LiveServerThread]:
    bus = MemoryBus()
    events.set_publisher(bus)
    s = settings.with_overrides(**{"live.session_check_seconds": 0.2, "live.flush_ms": 50,
                                   "live.allowed_origins": [ORIGIN]})
    thread = LiveServerThread(LiveServer(s.live, session_factory, bus), port=0).start()
    yield thread
    thread.stop()
    events.set_publisher(None)


def _live_token(running: Running, user: Any) -> str:
    reply = running.client().request("POST", "/api/v1/live/token", headers={"Authorization": f"Bearer {user.token}"})
    assert reply.status == 201
    return str(reply.json()["token"])


def test_6_live_connection_closed_4401_when_locked_or_role_changed(
    running: Running, live_server: LiveServerThread, admin: Any, make_user: Any,
) -> None:
    locked_user, demoted = make_user("technician"), make_user("technician")
    sockets = []
    for user in (locked_user, demoted):
        ws = open_ws(live_server)
        ws.send(json.dumps({"type": "auth", "token": _live_token(running, user)}))
        assert recv_json(ws)["type"] == "snapshot"
        sockets.append(ws)
    api = running.client()
    assert api.json("PATCH", f"/api/v1/users/{locked_user.username}", {"active": False}, admin.token).status == 200
    assert api.json("PATCH", f"/api/v1/users/{demoted.username}", {"role": "secretary"}, admin.token).status == 200
    try:
        sockets[1].send(json.dumps({"type": "resync"}))  # at the next resync at the latest
    except ConnectionClosed:  # already closed: the close code is checked below
        pass
    for ws in sockets:
        with pytest.raises(Exception):  # noqa: B017 - ConnectionClosed of either flavour
            while True:
                ws.recv(timeout=5)
        assert ws.close_code == 4401


# ---- 7. single-use live tokens ------------------------------------------------------------------------
@both_databases
def test_7_a_live_token_is_redeemed_once_even_by_racing_clients(
    settings: Settings, session_factory: sessionmaker[Session], technician: Any,
) -> None:
    with session_factory.begin() as s:
        token, _ = issue_live_token(s, s.get(User, technician.id), settings.live)  # type: ignore[arg-type]
    barrier = threading.Barrier(8)
    wins: list[int] = []

    def redeem() -> None:
        with session_factory() as s:
            barrier.wait()
            try:
                user = consume_token(s, token, "live")
                s.commit()
                wins.append(user.id)
            except Unauthorized:
                s.rollback()

    threads = [threading.Thread(target=redeem) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert wins == [technician.id]


# ---- 8. 500s on odd input -----------------------------------------------------------------------------
def test_8_odd_input_answers_4xx_with_a_message(
    running: Running, secretary: Any, session_factory: sessionmaker[Session],
) -> None:
    web = running.client()
    assert web.login(secretary.username, secretary.password).status == 302
    for day in ("01/01/0001", "0001-01-01", "31/12/9999"):
        reply = web.get("/calendar?" + urlencode({"date": day}))
        assert reply.status == 422 and day in reply.text, (day, reply.status)
    eps = seed_endpoints(session_factory, 1)
    form = {"title": "Họp", "date": "07/12/2026", "start_time": "07:30", "duration": "60", "setup_minutes": "15",
            "repeat": "none", "endpoint_ids": str(eps[0]), "host_endpoint_id": str(eps[0]), "action": "check"}
    for suggest in ("not-a-date", "0001-01-01T00:00:00", "9999-12-31T23:59:59-12:00"):
        reply = web.form("/bookings/new", {**form, "suggest": suggest}, csrf_from="/bookings/new")
        assert reply.status == 422, (suggest, reply.status)
    until = web.json("POST", "/api/v1/meetings/check", {
        "title": "X", "start": "2026-12-07T07:30:00-05:00", "end": "2026-12-07T08:30:00-05:00",
        "timezone": "America/New_York", "endpoint_ids": eps, "rrule": "FREQ=WEEKLY;UNTIL=99991231"}, secretary.token)
    assert until.status == 422 and "UNTIL" in until.json()["fields"]["rrule"]
    injected = web.get("/login?next=/%0d%0aSet-Cookie:%20x=1")
    assert injected.status == 302 and "x" not in web.cookies


# ---- 10. unbounded password hashing -------------------------------------------------------------------
def test_10_concurrent_password_checks_are_bounded(serve: Callable[..., Running], secretary: Any) -> None:
    running = serve(**{"web.concurrent_password_checks": 1})
    guard = sign_in_guard(running.app)
    with guard.password_check():  # the only slot is busy (a slow Argon2 verification elsewhere)
        busy = running.client().login(secretary.username, secretary.password)
        api = running.client().json("POST", "/api/v1/auth/token",
                                    {"username": secretary.username, "password": secretary.password})
    assert busy.status == 429 and api.status == 429 and busy.seconds < 0.5
    assert running.client().login(secretary.username, secretary.password).status == 302


# ---- 11. exdates cap ----------------------------------------------------------------------------------
def test_11_exdates_are_capped(running: Running, secretary: Any, session_factory: sessionmaker[Session]) -> None:
    eps = seed_endpoints(session_factory, 1)
    limit = running.settings.booking.max_occurrences
    first = datetime(2026, 12, 8, 0, 30, tzinfo=UTC)
    exdates = [(first + timedelta(days=i)).isoformat() for i in range(limit + 1)]
    reply = _book(running.client(), secretary.token, eps, rrule="FREQ=DAILY;COUNT=5", exdates=exdates)
    assert reply.status == 422 and "exdates" in reply.json()["fields"]


# ---- 9. files readable by every local user ------------------------------------------------------------
def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_9_db_upgrade_under_a_lax_umask_creates_private_files(tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = {**os.environ, "CONFBRIDGE_DATA_DIR": str(data),
           "CONFBRIDGE_DATABASE_URL": f"sqlite:///{data}/confbridge.db"}
    code = "import os, sys; os.umask(0o022); from confbridge.cli import main; sys.exit(main())"
    done = subprocess.run([sys.executable, "-c", code, "db", "upgrade"], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert _mode(data) == 0o700
    files = [p for p in data.iterdir() if p.name.startswith("confbridge.db")]
    assert files and all(_mode(p) == 0o600 for p in files), {p.name: oct(_mode(p)) for p in files}


def test_9_outbox_files_are_written_owner_only(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        from confbridge.invites.outbox import FolderTransport

        FolderTransport(tmp_path / "mail").send("a@x.example", "b@x.example", b"PIN 246813", "m1")
        write_private(tmp_path / "x.eml", b"again")
    finally:
        os.umask(old)
    assert _mode(tmp_path / "mail") == 0o700
    assert _mode(tmp_path / "mail" / "m1.eml") == 0o600 and _mode(tmp_path / "x.eml") == 0o600


# ---- 11. clear-text passwords, private CAs, implicit TLS, recipients -----------------------------------
def test_11_clear_text_passwords_to_other_hosts_are_warned_at_start_up(settings: Settings) -> None:
    from confbridge.startup_checks import clear_text_warnings

    risky = settings.with_overrides(**{
        "bridges": [{"name": "mcu-a", "url": "http://10.20.0.5/RPC2", "username": "admin", "password_env": "X"},
                    {"name": "mcu-b", "url": "https://10.20.0.6/RPC2", "username": "admin", "password_env": "X"},
                    {"name": "emu", "url": "http://127.0.0.1:8091/RPC2", "username": "admin", "password_env": "X"}],
        "mail.host": "smtp.kiengiang.example", "mail.username": "confbridge", "mail.password_env": "Y",
    })
    warnings = clear_text_warnings(risky)
    assert len(warnings) == 2 and "mcu-a" in warnings[0] and "smtp.kiengiang.example" in warnings[1]
    assert clear_text_warnings(risky.with_overrides(**{"mail.tls": "implicit", "bridges": []})) == []


def _private_ca(folder: Path) -> tuple[Path, Path, Path]:
    """(ca.pem, server.pem, server.key): a CA of our own and a certificate for 127.0.0.1 signed by it."""
    def run(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=folder, check=True, capture_output=True, timeout=60)

    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
        "-subj", "/CN=Test CA Kien Giang")
    run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1")
    (folder / "san.ext").write_text("subjectAltName=IP:127.0.0.1\n")
    run("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
        "-out", "server.pem", "-days", "2", "-extfile", "san.ext")
    return folder / "ca.pem", folder / "server.pem", folder / "server.key"


def test_11_implicit_tls_smtp_with_a_private_ca(tmp_path: Path, settings: Settings) -> None:
    import ssl

    from aiosmtpd.controller import Controller

    from confbridge.invites.outbox import SMTPTransport, Unreachable
    from tests.fixtures.smtp import Sink
    from tests.services import free_port

    ca, cert, key = _private_ca(tmp_path)
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(cert, key)
    sink, port = Sink(), free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port, ssl_context=server_ctx)
    controller.start()
    try:
        mail = settings.with_overrides(**{"mail.host": "127.0.0.1", "mail.port": port, "mail.tls": "implicit",
                                          "mail.ca_file": str(ca)}).mail
        transport = SMTPTransport(mail)
        transport.send("confbridge@ubnd.example", "an.nv@kiengiang.example", b"Subject: x\r\n\r\nPIN\r\n", "m1")
        transport.close()
        assert [m.rcpt_tos for m in sink.messages] == [["an.nv@kiengiang.example"]]
        untrusted = SMTPTransport(mail.model_copy(update={"ca_file": None}))
        with pytest.raises(Unreachable, match="CERTIFICATE_VERIFY_FAILED"):  # the system CAs do not know ours
            untrusted.send("confbridge@ubnd.example", "an.nv@kiengiang.example", b"x", "m2")
    finally:
        controller.stop()


def test_11_https_mcu_with_a_private_ca(tmp_path: Path) -> None:
    import ssl
    import xmlrpc.server

    from confbridge.bridges.xmlrpc_transport import Unreachable, XmlRpcTransport

    ca, cert, key = _private_ca(tmp_path)
    server = xmlrpc.server.SimpleXMLRPCServer(("127.0.0.1", 0), logRequests=False)
    server.register_function(lambda params: {"model": "Codian MCU 4510"}, "device.query")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"https://127.0.0.1:{server.server_address[1]}/RPC2"
    try:
        trusted = XmlRpcTransport(url, timeout=5, max_concurrent=2, ca_file=str(ca))
        assert trusted.call("device.query", {})["model"] == "Codian MCU 4510"
        trusted.close()
        with pytest.raises(Unreachable):
            XmlRpcTransport(url + "?system", timeout=5, max_concurrent=2).call("device.query", {})
    finally:
        server.shutdown()
        thread.join(5)


def test_11_recipients_outside_allowed_domains_and_over_the_daily_cap_are_refused(
    serve: Callable[..., Running], secretary: Any, session_factory: sessionmaker[Session],
) -> None:
    running = serve(**{"mail.allowed_recipient_domains": ["kiengiang.gov.vn"], "mail.recipients_per_user_per_day": 3})
    eps = seed_endpoints(session_factory, 3)
    web = running.client()
    outside = _book(web, secretary.token, eps[:1], attendees=[{"email": "spy@evil.example"}])
    assert outside.status == 422 and "kiengiang.gov.vn" in outside.json()["fields"]["attendees"]
    people = [{"email": f"cb{i}@kiengiang.gov.vn"} for i in range(3)]
    assert _book(web, secretary.token, eps[:1], attendees=people[:2]).status == 201
    over = _book(web, secretary.token, eps[1:2], attendees=[*people[2:], {"email": "cb9@kiengiang.gov.vn"}])
    assert over.status == 422
    assert [e["code"] for e in over.json()["errors"] if e["field"] == "attendees"] == ["daily_cap"]
    assert "tối đa 3 người nhận mới mỗi ngày" in over.json()["fields"]["attendees"]
    assert _book(web, secretary.token, eps[2:3], attendees=people[2:]).status == 201
