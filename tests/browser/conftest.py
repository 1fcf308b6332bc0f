"""Browser tests: the real app served on 127.0.0.1 in a thread, driven by Debian's Chromium through
Playwright (never a downloaded browser).

Reusable pieces (the console test uses them too):
- ``live_server_factory(**setting_overrides)`` / ``live_server``: the Flask app on a free loopback port,
  over a migrated temporary SQLite database seeded with the 20 Kiên Giang demo endpoints and three users
  (``web_users``: thuky / kythuat / quantri);
- ``chromium`` (one per session), ``page`` (a fresh 1366×768 context per test, Vietnamese locale,
  Asia/Ho_Chi_Minh);
- ``login(page, server, user)`` and ``screenshot(page, name)`` → ``test-artifacts/screenshots/<name>.png``.

Time is the frozen test clock (Monday 30/11/2026 07:00 in Hà Nội): the server thread reads the same
``confbridge.clock`` as the test.  Under ``CI=true`` a missing Chromium fails instead of skipping.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.serving import BaseWSGIServer, make_server

from confbridge.auth.service import create_user
from confbridge.directory.service import import_toml
from confbridge.settings import PROJECT_ROOT, Settings

# ``chromium`` (one per session) lives in tests/fixtures/browser.py (shared with the topology test).
SCREENSHOTS = PROJECT_ROOT / "test-artifacts" / "screenshots"
DEMO_ENDPOINTS = PROJECT_ROOT / "config" / "endpoints" / "kien-giang.toml"

pytestmark = pytest.mark.browser


@dataclass(frozen=True)
class WebUser:
    username: str
    password: str
    role: str
    display_name: str


USERS = (
    WebUser("thuky", "thu-ky-van-phong-2026", "secretary", "Nguyễn Thị Thu Hà"),
    WebUser("kythuat", "ky-thuat-vien-2026", "technician", "Trần Văn Kỹ"),
    WebUser("quantri", "quan-tri-he-thong-2026", "admin", "Lê Quản Trị"),
)


@dataclass
class LiveServer:
    url: str
    settings: Settings
    session_factory: sessionmaker[Session]
    app: Any


@pytest.fixture
def web_users() -> dict[str, WebUser]:
    return {u.role: u for u in USERS}


@pytest.fixture
def live_server_factory(
    settings: Settings,
    engine: Engine,
    session_factory: sessionmaker[Session],
    frozen_clock: Any,
) -> Iterator[Callable[..., LiveServer]]:
    from confbridge.app import create_app

    servers: list[tuple[BaseWSGIServer, threading.Thread]] = []
    seeded = False

    def start(**overrides: Any) -> LiveServer:
        nonlocal seeded
        if not seeded:
            with session_factory.begin() as s:
                import_toml(s, DEMO_ENDPOINTS, None)
                for u in USERS:
                    create_user(
                        s,
                        u.username,
                        u.password,
                        u.role,
                        display_name=u.display_name,
                        email=f"{u.username}@ubnd.kiengiang.example",
                    )
            seeded = True
        app_settings = settings.with_overrides(**overrides) if overrides else settings
        app = create_app(app_settings, engine=engine)
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, name="live-web", daemon=True)
        thread.start()
        servers.append((server, thread))
        return LiveServer(f"http://127.0.0.1:{server.server_port}", app_settings, session_factory, app)

    yield start
    for server, thread in servers:
        server.shutdown()
        thread.join(10)


@pytest.fixture
def live_server(live_server_factory: Callable[..., LiveServer]) -> LiveServer:
    return live_server_factory()


@pytest.fixture
def page(chromium: Any) -> Iterator[Any]:
    context = chromium.new_context(
        viewport={"width": 1366, "height": 768}, locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh"
    )
    context.set_default_timeout(10_000)
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    # JavaScript errors and CSP violations; an HTTP status the test asked for (409, 403) is not one.
    pg.on(
        "console",
        lambda msg: (
            errors.append(msg.text)
            if msg.type == "error" and not msg.text.startswith("Failed to load resource")
            else None
        ),
    )
    pg.js_errors = errors  # type: ignore[attr-defined]  # a test may assert none happened
    yield pg
    context.close()


def login(page: Any, server: LiveServer, user: WebUser) -> None:
    """Sign in through the form, as a person would."""
    page.goto(server.url + "/login")
    page.get_by_label("Tên đăng nhập", exact=True).fill(user.username)
    page.get_by_label("Mật khẩu", exact=True).fill(user.password)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url(lambda url: "/login" not in url)


def screenshot(page: Any, name: str, *, full_page: bool = True) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path
