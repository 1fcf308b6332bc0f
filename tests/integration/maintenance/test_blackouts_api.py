"""Blackout windows over REST, on SQLite and PostgreSQL: a booking overlapping one (of a booked endpoint
or of the meeting's bridge) is refused with 409 naming it as a conflict of kind ``blackout`` — the dry
run sees it too; a blackout laid over existing bookings is accepted, lists them and alarms each; deleting
it clears those alarms; only administrators and technicians create and delete."""

from __future__ import annotations

from typing import Any

import pytest

from confbridge.settings import Settings
from tests.conftest import both_databases
from tests.factories import seed_endpoints

BLACKOUT = {"start": "2026-12-07T06:00:00+07:00", "end": "2026-12-07T12:00:00+07:00",
            "reason": "Thay bộ mã hóa <b>codec</b>"}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.with_overrides(bridges=[
        {"name": "mcu1", "url": "http://127.0.0.1:1/RPC2", "default": True},
        {"name": "mcu2", "url": "http://127.0.0.1:1/RPC2"},
    ])


def _meeting(eps: list[int], title: str, *, day: int = 7, hour: int = 8, **more: Any) -> dict[str, Any]:
    return {"title": title, "start": f"2026-12-{day:02d}T{hour:02d}:00:00+07:00",
            "end": f"2026-12-{day:02d}T{hour + 1:02d}:00:00+07:00", "endpoint_ids": eps, "setup_minutes": 15,
            **more}


@both_databases
def test_a_booking_over_an_endpoint_blackout_is_refused_with_kind_blackout(
    client: Any, secretary: Any, technician: Any, session_factory: Any, frozen_clock: object,
) -> None:
    eps = seed_endpoints(session_factory, 3)
    made = client.post(f"/api/v1/endpoints/{eps[0]}/blackouts", json=BLACKOUT, headers=technician.headers)
    assert made.status_code == 201, made.json
    assert made.json["affected"] == [] and made.json["reason"] == BLACKOUT["reason"]
    assert made.json["endpoint_id"] == eps[0] and made.json["bridge_name"] is None

    refused = client.post("/api/v1/meetings", json=_meeting(eps[:2], "Giao ban"),
                          headers={**secretary.headers, "Accept-Language": "vi"})
    assert refused.status_code == 409, refused.json
    (conflict,) = refused.json["conflicts"]
    assert conflict["kind"] == "blackout" and conflict["blackout_id"] == made.json["id"]
    assert conflict["endpoint_id"] == eps[0] and conflict["reason"] == BLACKOUT["reason"]
    assert "ngừng phục vụ 06:00 07/12/2026–12:00 07/12/2026" in conflict["message"]
    assert "bảo trì: Thay bộ mã hóa <b>codec</b>" in conflict["message"]

    check = client.post("/api/v1/meetings/check", json=_meeting(eps[:2], "Giao ban"),
                        headers={**secretary.headers, "Accept-Language": "en"})
    assert check.status_code == 200 and check.json["ok"] is False
    assert [c["kind"] for c in check.json["conflicts"]] == ["blackout"]
    assert "is out of service 06:00 07/12/2026–12:00 07/12/2026 (maintenance:" in check.json["conflicts"][0]["message"]
    # the suggested start lies after the blackout (and its setup time), not inside it
    assert check.json["next_free_start"] == "2026-12-07T05:15:00+00:00"  # 12:15 in Hà Nội

    # the other endpoints, and the same endpoint after the blackout ends, book as usual
    assert client.post("/api/v1/meetings", json=_meeting(eps[1:], "Khác"), headers=secretary.headers).status_code == 201
    later = _meeting([eps[0]], "Chiều", hour=14)
    assert client.post("/api/v1/meetings", json=later, headers=secretary.headers).status_code == 201

    # a weekly series meeting the blackout on its first Monday is refused as a whole
    series = _meeting([eps[0]], "Giao ban tuần", hour=11, rrule="FREQ=WEEKLY;COUNT=3")
    assert client.post("/api/v1/meetings", json=series, headers=secretary.headers).status_code == 409


@both_databases
def test_a_bridge_blackout_refuses_meetings_on_that_bridge_only(
    client: Any, secretary: Any, admin: Any, session_factory: Any, frozen_clock: object,
) -> None:
    eps = seed_endpoints(session_factory, 2)
    made = client.post("/api/v1/bridges/mcu1/blackouts", json=BLACKOUT, headers=admin.headers)
    assert made.status_code == 201 and made.json["bridge_name"] == "mcu1"
    refused = client.post("/api/v1/meetings", json=_meeting(eps, "Trên MCU mặc định"),
                          headers={**secretary.headers, "Accept-Language": "en"})
    assert refused.status_code == 409
    (conflict,) = refused.json["conflicts"]
    assert (conflict["kind"], conflict["bridge_name"], conflict["endpoint_id"]) == ("blackout", "mcu1", None)
    assert conflict["message"].startswith("MCU mcu1 is out of service")
    other = client.post("/api/v1/meetings", json=_meeting(eps, "Trên MCU 2", bridge_name="mcu2"),
                        headers=secretary.headers)
    assert other.status_code == 201, other.json
    listed = client.get("/api/v1/bridges/mcu1/blackouts", headers=secretary.headers)
    assert listed.status_code == 200 and [b["id"] for b in listed.json["blackouts"]] == [made.json["id"]]
    assert client.get("/api/v1/bridges/nope/blackouts", headers=admin.headers).status_code == 404


@both_databases
def test_a_blackout_over_bookings_lists_them_and_alarms_each_until_deleted(
    client: Any, secretary: Any, technician: Any, session_factory: Any, frozen_clock: object,
) -> None:
    eps = seed_endpoints(session_factory, 2)
    first = client.post("/api/v1/meetings", json=_meeting(eps, "Giao ban «sáng»"), headers=secretary.headers)
    second = client.post("/api/v1/meetings", json=_meeting([eps[0]], "Họp chiều", hour=10), headers=secretary.headers)
    elsewhere = client.post("/api/v1/meetings", json=_meeting([eps[1]], "Chỉ điểm 2", hour=10),
                            headers=secretary.headers)
    assert {first.status_code, second.status_code, elsewhere.status_code} == {201}

    made = client.post(f"/api/v1/endpoints/{eps[0]}/blackouts", json=BLACKOUT, headers=technician.headers)
    assert made.status_code == 201, made.json
    affected = made.json["affected"]
    assert [a["meeting_title"] for a in affected] == ["Giao ban «sáng»", "Họp chiều"]
    assert [a["meeting_id"] for a in affected] == [first.json["id"], second.json["id"]]

    alarms = client.get("/api/v1/alarms?open=true&kind=blackout_overlap",
                        headers={**technician.headers, "Accept-Language": "en"}).json["alarms"]
    assert sorted(a["meeting_id"] for a in alarms) == sorted([first.json["id"], second.json["id"]])
    assert all(a["severity"] == "major" for a in alarms)
    texts = sorted(a["message"] for a in alarms)
    assert texts[0].startswith("“Giao ban «sáng»” at 08:00 07/12/2026 overlaps the blackout of")
    vi = client.get("/api/v1/alarms?open=true&kind=blackout_overlap",
                    headers={**technician.headers, "Accept-Language": "vi"}).json["alarms"]
    assert any("trùng lịch ngừng phục vụ" in a["message"] for a in vi)

    # the secretary sees the blackout (why her booking is in trouble) but may not remove it
    listed = client.get(f"/api/v1/endpoints/{eps[0]}/blackouts", headers=secretary.headers)
    assert [b["id"] for b in listed.json["blackouts"]] == [made.json["id"]]
    url = f"/api/v1/endpoints/{eps[0]}/blackouts/{made.json['id']}"
    assert client.delete(url, headers=secretary.headers).status_code == 403
    assert client.delete(f"/api/v1/endpoints/{eps[1]}/blackouts/{made.json['id']}",
                         headers=technician.headers).status_code == 404
    assert client.delete(url, headers=technician.headers).status_code == 204
    assert client.get("/api/v1/alarms?open=true&kind=blackout_overlap",
                      headers=technician.headers).json["alarms"] == []
    assert client.get(f"/api/v1/endpoints/{eps[0]}/blackouts", headers=secretary.headers).json["blackouts"] == []


def test_bad_blackouts_are_refused_by_field(client: Any, admin: Any, secretary: Any, session_factory: Any,
                                            frozen_clock: object) -> None:
    eps = seed_endpoints(session_factory, 1)
    url = f"/api/v1/endpoints/{eps[0]}/blackouts"
    cases = [
        ({**BLACKOUT, "end": "2026-12-07T05:00:00+07:00"}, "end", "before_start"),
        ({**BLACKOUT, "start": "2026-11-01T05:00:00+07:00", "end": "2026-11-02T05:00:00+07:00"}, "end", "in_past"),
        ({**BLACKOUT, "end": "2028-12-07T05:00:00+07:00"}, "end", "blackout_too_long"),
        ({**BLACKOUT, "reason": "a\nb"}, "reason", "control_characters"),
    ]
    for body, field, code in cases:
        response = client.post(url, json=body, headers={**admin.headers, "Accept-Language": "en"})
        assert response.status_code == 422, (body, response.json)
        assert [(e["field"], e["code"]) for e in response.json["errors"]] == [(field, code)]
    naive = client.post(url, json={**BLACKOUT, "start": "2026-12-07T06:00:00"}, headers=admin.headers)
    assert naive.status_code == 422 and "start" in naive.json["fields"]
    assert client.post(url, json=BLACKOUT, headers=secretary.headers).status_code == 403
    assert client.post("/api/v1/endpoints/999/blackouts", json=BLACKOUT, headers=admin.headers).status_code == 404
