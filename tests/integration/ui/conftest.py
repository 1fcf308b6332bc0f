"""Page tests through Flask's test client: the demo endpoints, signed-in browsers with CSRF tokens."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.test import TestResponse

from confbridge.directory.models import Endpoint
from confbridge.directory.service import import_toml
from confbridge.settings import PROJECT_ROOT

DEMO_ENDPOINTS = PROJECT_ROOT / "config" / "endpoints" / "kien-giang.toml"
_CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


@pytest.fixture
def demo_endpoints(session_factory: sessionmaker[Session]) -> dict[str, int]:
    """The 20 Kiên Giang endpoints, by name → id."""
    with session_factory.begin() as s:
        import_toml(s, Path(DEMO_ENDPOINTS), None)
    with session_factory() as s:
        return {e.name: e.id for e in s.scalars(select(Endpoint).order_by(Endpoint.id))}


class Browser:
    """A test client that signs in through the form and carries the page's CSRF token."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client
        self.csrf = ""

    def get(self, url: str, **kwargs: Any) -> TestResponse:
        response = self.client.get(url, **kwargs)
        match = _CSRF.search(response.get_data(as_text=True))
        if match:
            self.csrf = match.group(1)
        return response

    def post(self, url: str, data: dict[str, Any] | None = None, **kwargs: Any) -> TestResponse:
        if not self.csrf:
            self.get("/login")
        return self.client.post(url, data={"csrf_token": self.csrf, **(data or {})}, **kwargs)

    def login(self, username: str, password: str) -> TestResponse:
        self.get("/login")
        response = self.post("/login", {"username": username, "password": password})
        if response.status_code == 302:
            self.get("/calendar")  # sign-in starts a new session: pick up its CSRF token
        return response


@pytest.fixture
def browser_for(app: Any) -> Callable[..., Browser]:
    def make(user: Any | None = None) -> Browser:
        b = Browser(app.test_client())
        if user is not None:
            response = b.login(user.username, user.password)
            assert response.status_code == 302, response.get_data(as_text=True)
        return b

    return make


def booking_form(endpoint_ids: list[int], **overrides: Any) -> dict[str, Any]:
    """A weekly Monday briefing at 07:30 for 90 minutes from 07/12/2026, 10 times (the frozen clock is
    Monday 30/11/2026 07:00 in Hà Nội)."""
    data: dict[str, Any] = {
        "title": "Giao ban tuần",
        "date": "07/12/2026",
        "start_time": "07:30",
        "duration": "90",
        "setup_minutes": "15",
        "repeat": "weekly",
        "weekdays": ["MO"],
        "end_kind": "count",
        "count": "10",
        "endpoint_ids": [str(i) for i in endpoint_ids],
        "host_endpoint_id": str(endpoint_ids[0]) if endpoint_ids else "",
        "attendees": "Nguyễn Văn An <an.nv@kiengiang.example>\nle.thi.b@kiengiang.example",
        "pin": "",
        "action": "save",
    }
    data.update(overrides)
    return data
