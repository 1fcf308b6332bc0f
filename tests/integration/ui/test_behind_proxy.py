"""Behind nginx: ProxyFix only when [web] trusted_proxies says so; the console, its CSP and the live
token all name [live] public_url (wss:// under TLS)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import Engine

from confbridge.app import create_app
from confbridge.settings import Settings
from tests.integration.ui.conftest import Browser


def _app(settings: Settings, engine: Engine, **overrides: Any) -> Any:
    return create_app(settings.with_overrides(**overrides), engine=engine, testing=True)


@pytest.mark.parametrize(("hops", "scheme", "address"), [(0, "http", "127.0.0.1"), (1, "https", "203.0.113.7")])
def test_forwarded_headers_are_trusted_only_from_configured_proxies(
    settings: Settings, engine: Engine, secretary: Any, caplog: pytest.LogCaptureFixture, hops: int, scheme: str,
    address: str,
) -> None:
    client = _app(settings, engine, **{"web.trusted_proxies": hops}).test_client()
    with caplog.at_level("INFO", logger="confbridge.access"):
        r = client.post("/api/v1/feeds", json={"kind": "user"}, headers={
            **secretary.headers, "X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"})
    assert r.status_code == 201
    assert r.json["url"].startswith(f"{scheme}://localhost/calendar/users/")
    [line] = [rec.getMessage() for rec in caplog.records if rec.name == "confbridge.access"]
    assert line.startswith(f"{address} POST /api/v1/feeds 201")


def test_console_csp_and_live_token_name_the_public_url(settings: Settings, engine: Engine, technician: Any) -> None:
    app = _app(settings, engine, **{"web.tls": True, "live.public_url": "wss://hoinghi.example.vn/live"})
    browser = Browser(app.test_client())
    assert browser.login(technician.username, technician.password).status_code == 302
    page = browser.get("/console", base_url="https://localhost")
    assert page.status_code == 200
    assert 'data-live-url="wss://hoinghi.example.vn/live"' in page.get_data(as_text=True)
    csp = page.headers["Content-Security-Policy"]
    assert re.search(r"connect-src 'self' wss://hoinghi\.example\.vn/live;", csp)
    assert "ws://" not in csp
    token = app.test_client().post("/api/v1/live/token", headers=technician.headers)
    assert token.json["url"] == "wss://hoinghi.example.vn/live"


def test_under_tls_without_a_public_url_the_console_uses_wss(settings: Settings, engine: Engine) -> None:
    app = _app(settings, engine, **{"web.tls": True})
    csp = app.test_client().get("/login").headers["Content-Security-Policy"]
    assert "wss://127.0.0.1:8765" in csp and "ws://" not in csp
