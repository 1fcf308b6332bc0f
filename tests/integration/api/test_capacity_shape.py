"""A capacity problem has one JSON shape: the dry run (POST /meetings/check) and the refusal (409 of
POST /meetings) describe the same problem with the same fields and words."""

from __future__ import annotations

from typing import Any

import pytest

from confbridge.settings import Settings
from tests.factories import seed_endpoints


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.with_overrides(bridges=[{"name": "mcu1", "video_ports": 3, "url": "http://127.0.0.1:1/RPC2",
                                             "default": True}])


def _body(eps: list[int], title: str) -> dict[str, Any]:
    return {"title": title, "start": "2026-12-07T08:00:00+07:00", "end": "2026-12-07T09:00:00+07:00",
            "endpoint_ids": eps, "setup_minutes": 0}


def test_dry_run_and_refusal_give_the_same_capacity_shape(client: Any, secretary: Any, session_factory: Any,
                                                          frozen_clock: object) -> None:
    eps = seed_endpoints(session_factory, 4)
    assert client.post("/api/v1/meetings", json=_body(eps[:2], "A"), headers=secretary.headers).status_code == 201
    check = client.post("/api/v1/meetings/check", json=_body(eps[2:], "B"), headers=secretary.headers)
    refused = client.post("/api/v1/meetings", json=_body(eps[2:], "B"), headers=secretary.headers)
    assert check.status_code == 200 and refused.status_code == 409, (check.json, refused.json)
    assert check.json["ok"] is False
    assert check.json["capacity"] == refused.json["capacity"]
    (problem,) = check.json["capacity"]
    assert set(problem) == {"bridge_name", "window_start", "window_end", "in_use", "requested", "ports", "message"}
    assert (problem["bridge_name"], problem["in_use"], problem["requested"], problem["ports"]) == ("mcu1", 2, 2, 3)
