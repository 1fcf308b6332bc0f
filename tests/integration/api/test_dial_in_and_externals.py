"""Issue 13 points 6 and 7 through the REST API: every meeting gets a dial-in number unique among the
conferences overlapping it, and external/uplink participants are checked by the one address rule."""

from __future__ import annotations

from typing import Any

import pytest

from confbridge.settings import Settings
from tests.conftest import both_databases
from tests.factories import seed_endpoints

MONDAY = "2026-12-07T07:30:00+07:00"
MONDAY_END = "2026-12-07T09:00:00+07:00"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.with_overrides(**{"booking.dial_in_range": "7000-7002",
                                      "booking.dial_in_domain": "vc.tinh.example"})


def body(eps: list[int], **over: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"title": "Giao ban tuần", "start": MONDAY, "end": MONDAY_END,
                           "endpoint_ids": eps, "setup_minutes": 15}
    out.update(over)
    return out


@both_databases
def test_dial_in_numbers_are_unique_among_overlapping_conferences(
        client, secretary, session_factory, frozen_clock) -> None:
    eps = seed_endpoints(session_factory, 5)
    first = client.post("/api/v1/meetings", json=body(eps[:1]), headers=secretary.headers)
    assert first.status_code == 201, first.json
    assert first.json["dial_in"] == {"number": "7000", "uri": "sip:7000@vc.tinh.example"}
    # Overlapping (its setup window starts before the first ends): the next free number.
    second = client.post("/api/v1/meetings", headers=secretary.headers, json=body(
        eps[1:2], start="2026-12-07T09:10:00+07:00", end="2026-12-07T10:00:00+07:00"))
    assert second.json["dial_in"]["number"] == "7001"
    # Later the same day, after both: 7000 is free again.
    later = client.post("/api/v1/meetings", headers=secretary.headers, json=body(
        eps[2:3], start="2026-12-07T14:00:00+07:00", end="2026-12-07T15:00:00+07:00"))
    assert later.json["dial_in"]["number"] == "7000"
    got = client.get(f"/api/v1/meetings/{second.json['id']}", headers=secretary.headers).json
    assert got["dial_in"] == {"number": "7001", "uri": "sip:7001@vc.tinh.example"}
    # A change that keeps the number free keeps the number (people have it printed).
    r = client.patch(f"/api/v1/meetings/{second.json['id']}", headers=secretary.headers,
                     json={"title": "Họp chuyên đề"})
    assert r.status_code == 200 and r.json["dial_in"]["number"] == "7001"
    # Moving the afternoon meeting onto the morning: 7000 and 7001 are held there, it gets 7002.
    r = client.patch(f"/api/v1/meetings/{later.json['id']}", headers=secretary.headers,
                     json={"start": "2026-12-07T08:00:00+07:00", "end": "2026-12-07T09:30:00+07:00"})
    assert r.status_code == 200 and r.json["dial_in"]["number"] == "7002"
    # The range is used up over that time: refused with the reason, nothing booked.
    full = client.post("/api/v1/meetings", headers=secretary.headers, json=body(
        eps[3:4], start="2026-12-07T08:30:00+07:00", end="2026-12-07T09:05:00+07:00"))
    assert full.status_code == 409 and full.json["field"] == "dial_in"
    assert "7000-7002" in full.json["message"]


def test_a_series_keeps_one_number(client, secretary, session_factory, frozen_clock) -> None:
    eps = seed_endpoints(session_factory, 2)
    series = client.post("/api/v1/meetings", headers=secretary.headers, json=body(
        eps[:1], rrule="FREQ=WEEKLY;BYDAY=MO;COUNT=3"))
    # Overlaps only the third Monday: still has to avoid the series' number.
    third = client.post("/api/v1/meetings", headers=secretary.headers, json=body(
        eps[1:2], start="2026-12-21T08:00:00+07:00", end="2026-12-21T08:30:00+07:00"))
    assert series.json["dial_in"]["number"] == "7000"
    assert third.json["dial_in"]["number"] == "7001"


@both_databases
def test_external_and_uplink_participants(client, secretary, session_factory, frozen_clock) -> None:
    eps = seed_endpoints(session_factory, 3)
    externals = [
        {"name": "Sở Y tế (ngoài danh bạ)", "address": "soyte@vc.soyte.example", "protocol": "sip"},
        {"name": "Văn phòng Chính phủ", "address": "8401234", "protocol": "h323", "uplink": True},
    ]
    r = client.post("/api/v1/meetings", headers=secretary.headers,
                    json=body(eps[:2], external_participants=externals))
    assert r.status_code == 201, r.json
    # The uplink comes first; defaults filled in.
    assert r.json["external_participants"] == [
        {"name": "Văn phòng Chính phủ", "address": "8401234", "protocol": "h323", "uplink": True},
        {"name": "Sở Y tế (ngoài danh bạ)", "address": "soyte@vc.soyte.example", "protocol": "sip",
         "uplink": False},
    ]
    # Not conflict-checked: the same external address in an overlapping meeting is fine.
    r2 = client.post("/api/v1/meetings", headers=secretary.headers,
                     json=body(eps[2:], external_participants=externals[:1]))
    assert r2.status_code == 201, r2.json
    # PATCH replaces the list.
    r3 = client.patch(f"/api/v1/meetings/{r.json['id']}", headers=secretary.headers,
                      json={"external_participants": []})
    assert r3.status_code == 200 and r3.json["external_participants"] == []


@pytest.mark.parametrize(("externals", "field", "code"), [
    ([{"name": "X", "address": "not an address", "protocol": "sip"}],
     "external_participants.0.address", "bad_sip"),
    ([{"name": "X", "address": "84 123 456", "protocol": "h323"}],
     "external_participants.0.address", "bad_h323"),
    ([{"name": "", "address": "a@b.example"}], "external_participants.0.name", "required"),
    ([{"name": "A", "address": "a@b.example", "uplink": True},
      {"name": "B", "address": "b@b.example", "uplink": True}], "external_participants", "too_many_uplinks"),
    ([{"name": "A", "address": "a@b.example"}, {"name": "B", "address": "A@b.example"}],
     "external_participants.1.address", "duplicate_address"),
])
def test_bad_external_participants_are_field_errors(
        client, secretary, session_factory, frozen_clock, externals, field, code) -> None:
    eps = seed_endpoints(session_factory, 1)
    r = client.post("/api/v1/meetings", headers={**secretary.headers, "Accept-Language": "en"},
                    json=body(eps, external_participants=externals))
    assert r.status_code == 422, r.json
    assert {"field": field, "code": code} in [{"field": e["field"], "code": e["code"]} for e in r.json["errors"]]
    assert all(e["message"] for e in r.json["errors"])


def test_an_endpoint_address_cannot_be_added_again_as_external(
        client, secretary, session_factory, frozen_clock) -> None:
    eps = seed_endpoints(session_factory, 1)
    address = client.get(f"/api/v1/endpoints/{eps[0]}", headers=secretary.headers).json["address"]
    r = client.post("/api/v1/meetings", headers=secretary.headers, json=body(
        eps, external_participants=[{"name": "Trùng", "address": address}]))
    assert r.status_code == 422
    assert r.json["errors"][0]["code"] == "duplicate_address"
