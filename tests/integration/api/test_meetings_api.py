"""The REST API as an integrator sees it: tokens, roles, meetings, errors, occurrences, availability."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from tests.conftest import both_databases
from tests.factories import seed_endpoints

MONDAY = "2026-12-07T07:30:00+07:00"
MONDAY_END = "2026-12-07T09:00:00+07:00"


def meeting_body(eps: list[int], **over: Any) -> dict[str, Any]:
    body = {
        "title": "Giao ban tuần", "description": "Chương trình: báo cáo tuần", "start": MONDAY,
        "end": MONDAY_END, "endpoint_ids": eps, "host_endpoint_id": eps[0],
        "attendees": [{"email": "chanh.vanphong@ubnd.example", "name": "Chánh Văn phòng"}],
        "rrule": "FREQ=WEEKLY;BYDAY=MO;COUNT=4", "setup_minutes": 15, "pin": "2468",
    }
    body.update(over)
    return body


def test_token_flow_and_roles(client, secretary, technician, session_factory) -> None:
    r = client.post("/api/v1/auth/token", json={"username": secretary.username, "password": secretary.password})
    assert r.status_code == 200 and r.json["role"] == "secretary" and r.json["token"] and r.json["expires_at"]
    wrong = {"username": secretary.username, "password": "wrong"}
    assert client.post("/api/v1/auth/token", json=wrong).status_code == 401
    assert client.get("/api/v1/endpoints").status_code == 401
    headers = {"Authorization": f"Bearer {r.json['token']}"}
    assert client.get("/api/v1/endpoints", headers=headers).status_code == 200
    # Technicians read but do not book; only admins manage endpoints.
    eps = seed_endpoints(session_factory, 2)
    assert client.post("/api/v1/meetings", json=meeting_body(eps), headers=technician.headers).status_code == 403
    assert client.post("/api/v1/endpoints", headers=secretary.headers, json={
        "name": "X", "site": "Y", "protocol": "sip", "address": "x@y.example"}).status_code == 403


def test_sign_in_is_rate_limited(client, secretary) -> None:
    codes = [client.post("/api/v1/auth/token", json={"username": secretary.username, "password": "nope"}).status_code
             for _ in range(6)]
    assert codes == [401] * 5 + [429]


@both_databases
def test_create_get_and_conflict(client, secretary, session_factory, frozen_clock) -> None:
    eps = seed_endpoints(session_factory, 3)
    r = client.post("/api/v1/meetings", json=meeting_body(eps[:2]), headers=secretary.headers)
    assert r.status_code == 201, r.json
    body = r.json
    assert body["id"] and body["uid"].endswith("@confbridge") and body["sequence"] == 0
    assert body["title"] == "Giao ban tuần" and body["endpoint_ids"] == eps[:2] and body["pin"] == "2468"
    assert body["rrule"] == "FREQ=WEEKLY;BYDAY=MO;COUNT=4" and body["timezone"] == "Asia/Ho_Chi_Minh"

    r = client.post("/api/v1/meetings", headers=secretary.headers, json=meeting_body(
        [eps[1], eps[2]], title="Họp chuyên đề", start="2026-12-14T08:45:00+07:00",
        end="2026-12-14T10:00:00+07:00", rrule=None, host_endpoint_id=None))
    assert r.status_code == 409
    assert r.json["error"] == "conflict"
    assert r.json["conflicts"] == [{
        "kind": "booking",
        "endpoint_id": eps[1], "endpoint_name": "UBND huyện 002", "meeting_id": body["id"],
        "meeting_title": "Giao ban tuần", "occurrence_start": "2026-12-14T00:30:00+00:00",
        "start": "2026-12-14T00:30:00+00:00", "end": "2026-12-14T02:00:00+00:00",
        "window_start": "2026-12-14T00:15:00+00:00",
        "message": "UBND huyện 002 đã có lịch 07:15–09:00 ngày 14/12/2026 (Thứ Hai) của cuộc họp “Giao ban tuần”",
    }]
    assert r.json["message"] == r.json["conflicts"][0]["message"]
    # The same refusal in the reader's language: the words are rendered from the conflict, not stored.
    en = client.post("/api/v1/meetings", headers={**secretary.headers, "Accept-Language": "en"}, json=meeting_body(
        [eps[1], eps[2]], title="Họp chuyên đề", start="2026-12-14T08:45:00+07:00",
        end="2026-12-14T10:00:00+07:00", rrule=None, host_endpoint_id=None))
    assert en.status_code == 409
    assert en.json["message"] == en.json["conflicts"][0]["message"] == (
        "UBND huyện 002 is booked 07:15–09:00 on 14/12/2026 (Monday) by “Giao ban tuần”")
    got = client.get(f"/api/v1/meetings/{body['id']}", headers=secretary.headers).json
    assert len(got["occurrences"]) == 4


@pytest.mark.parametrize(("override", "field"), [
    ({"rrule": "FREQ=FORTNIGHTLY"}, "rrule"),
    ({"rrule": "FREQ=WEEKLY;COUNT=2\r\nATTENDEE:x"}, "rrule"),
    ({"timezone": "Asia/Saigon_Nowhere"}, "timezone"),
    ({"end": MONDAY}, "end"),
    ({"endpoint_ids": [999999]}, "endpoint_ids"),
    ({"endpoint_ids": []}, "endpoint_ids"),
    ({"pin": "12a4"}, "pin"),
    ({"title": "x" * 201}, "title"),
    ({"title": "Họp\r\nBcc: attacker@example.com"}, "title"),
    ({"title": "Họp\x00"}, "title"),
    ({"description": "a\x00b"}, "description"),
    ({"start": "2026-12-07T07:30:00"}, "start"),
    ({"start": "hôm nay"}, "start"),
    ({"attendees": [{"email": "not-an-address", "name": "A"}]}, "attendees.0.email"),
    ({"attendees": [{"email": "a@b.example", "name": "A\nB"}]}, "attendees.0.name"),
    ({"host_endpoint_id": 424242}, "host_endpoint_id"),
    ({"setup_minutes": "15 phút"}, "setup_minutes"),
    ({"unexpected": 1}, "unexpected"),
])
def test_bad_input_is_422_naming_the_field(client, secretary, session_factory, frozen_clock,
                                            override: dict[str, Any], field: str) -> None:
    eps = seed_endpoints(session_factory, 2)
    r = client.post("/api/v1/meetings", json=meeting_body(eps, **override), headers=secretary.headers)
    assert r.status_code == 422, r.json
    assert r.json["error"] == "invalid"
    assert field in r.json["fields"], r.json


def test_malformed_json_is_4xx(client, secretary) -> None:
    r = client.post("/api/v1/meetings", data="{not json", headers={**secretary.headers,
                                                                 "Content-Type": "application/json"})
    assert 400 <= r.status_code < 500


@both_databases
def test_occurrence_patch_delete_and_listing(client, secretary, session_factory, frozen_clock) -> None:
    eps = seed_endpoints(session_factory, 2)
    meeting = client.post("/api/v1/meetings", json=meeting_body(eps), headers=secretary.headers).json
    second = "2026-12-14T00:30:00Z"
    r = client.patch(f"/api/v1/meetings/{meeting['id']}/occurrences/{second}", headers=secretary.headers,
                     json={"start": "2026-12-15T14:00:00+07:00", "end": "2026-12-15T15:30:00+07:00"})
    assert r.status_code == 200, r.json
    r = client.delete(f"/api/v1/meetings/{meeting['id']}/occurrences/2026-12-21T07:30:00%2B07:00",
                      headers=secretary.headers)
    assert r.status_code == 200 and "2026-12-21T00:30:00+00:00" in r.json["exdates"]
    occ = client.get("/api/v1/occurrences?from=2026-12-01T00:00:00Z&to=2027-01-31T00:00:00Z",
                     headers=secretary.headers).json
    assert [(o["start"], o["status"]) for o in occ] == [
        ("2026-12-07T00:30:00+00:00", "planned"), ("2026-12-15T07:00:00+00:00", "planned"),
        ("2026-12-21T00:30:00+00:00", "cancelled"), ("2026-12-28T00:30:00+00:00", "planned")]
    busy = client.get(f"/api/v1/availability?endpoint_ids={eps[0]}&from=2026-12-15T00:00:00Z"
                      "&to=2026-12-16T00:00:00Z", headers=secretary.headers).json
    assert busy["endpoints"] == [{"endpoint_id": eps[0], "busy": [{
        "window_start": "2026-12-15T06:45:00+00:00", "start": "2026-12-15T07:00:00+00:00",
        "end": "2026-12-15T08:30:00+00:00", "meeting_id": meeting["id"], "title": "Giao ban tuần",
        "occurrence_start": "2026-12-14T00:30:00+00:00"}]}]
    assert client.get("/api/v1/occurrences?from=x&to=y", headers=secretary.headers).status_code == 422
    r = client.delete(f"/api/v1/meetings/{meeting['id']}", headers=secretary.headers)
    assert r.status_code == 200 and r.json["status"] == "cancelled"
    assert client.get(f"/api/v1/meetings/{meeting['id']}", headers=secretary.headers).json["status"] == "cancelled"


def test_other_secretary_cannot_change_meeting(client, secretary, make_user, session_factory, frozen_clock) -> None:
    eps = seed_endpoints(session_factory, 1)
    other = make_user("secretary")
    meeting = client.post("/api/v1/meetings", json=meeting_body(eps), headers=secretary.headers).json
    assert client.patch(f"/api/v1/meetings/{meeting['id']}", json={"title": "x"},
                        headers=other.headers).status_code == 403
    assert client.delete(f"/api/v1/meetings/{meeting['id']}", headers=other.headers).status_code == 403


def test_endpoints_crud(client, admin) -> None:
    r = client.post("/api/v1/endpoints", headers=admin.headers, json={
        "name": "UBND huyện Phú Quốc", "site": "Phú Quốc", "protocol": "sip",
        "address": "ubnd-phuquoc@vc.kiengiang.example", "seats": 50})
    assert r.status_code == 201
    assert set(r.json) >= {"id", "name", "site", "protocol", "address", "seats", "enabled"}
    eid = r.json["id"]
    assert client.post("/api/v1/endpoints", headers=admin.headers, json={
        "name": "Khác", "site": "Phú Quốc", "protocol": "sip",
        "address": "ubnd-phuquoc@vc.kiengiang.example"}).status_code == 409
    bad = client.post("/api/v1/endpoints", headers=admin.headers, json={
        "name": "Y", "site": "Z", "protocol": "h323", "address": "not a number\r\n"})
    assert bad.status_code == 422 and "address" in bad.json["fields"]
    assert client.patch(f"/api/v1/endpoints/{eid}", headers=admin.headers, json={"seats": 60}).json["seats"] == 60
    assert client.delete(f"/api/v1/endpoints/{eid}", headers=admin.headers).json["enabled"] is False
    assert client.get("/api/v1/endpoints/999", headers=admin.headers).status_code == 404


def test_openapi_document(client) -> None:
    doc = client.get("/api/v1/openapi.json").json
    assert doc["openapi"].startswith("3.")
    for path in ("/api/v1/meetings", "/api/v1/meetings/{meeting_id}/occurrences/{occurrence_start}",
                 "/api/v1/occurrences", "/api/v1/availability", "/api/v1/auth/token",
                 "/api/v1/endpoints/{endpoint_id}"):
        assert path in doc["paths"]


@both_databases
def test_concurrent_requests_never_double_book(app, make_user, session_factory, frozen_clock) -> None:
    """Eight clients race for the same endpoint and hour: exactly one wins, the others get 409."""
    eps = seed_endpoints(session_factory, 1)
    users = [make_user("secretary") for _ in range(8)]
    barrier = threading.Barrier(len(users))
    codes: list[int] = []
    lock = threading.Lock()

    def attempt(u: Any) -> None:
        client = app.test_client()
        barrier.wait()
        r = client.post("/api/v1/meetings", json=meeting_body(eps, rrule=None), headers=u.headers)
        with lock:
            codes.append(r.status_code)

    threads = [threading.Thread(target=attempt, args=(u,)) for u in users]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(codes) == [201] + [409] * 7


def test_endpoint_address_and_protocol_can_change(client, admin) -> None:
    eid = client.post("/api/v1/endpoints", headers=admin.headers, json={
        "name": "Sở Y tế", "site": "TP Rạch Giá", "protocol": "sip", "address": "syt@vc.kiengiang.example"}).json["id"]
    r = client.patch(f"/api/v1/endpoints/{eid}", headers=admin.headers, json={"address": "syt2@vc.kiengiang.example"})
    assert r.status_code == 200 and r.json["address"] == "syt2@vc.kiengiang.example"
    r = client.patch(f"/api/v1/endpoints/{eid}", headers=admin.headers,
                     json={"protocol": "h323", "address": "842973000104"})
    assert r.status_code == 200 and (r.json["protocol"], r.json["address"]) == ("h323", "842973000104")
    r = client.patch(f"/api/v1/endpoints/{eid}", headers=admin.headers, json={"address": "not an e164 !"})
    assert r.status_code == 422 and "address" in r.json["fields"]


@pytest.mark.parametrize(("query", "field"), [
    ("endpoint_ids=1&from=2026-12-02T00:00:00Z&to=2026-12-01T00:00:00Z", "to"),
    ("endpoint_ids=1&from=2026-12-01T00:00:00Z&to=2027-03-01T00:00:00Z", "to"),
    ("endpoint_ids=a,b&from=2026-12-01T00:00:00Z&to=2026-12-02T00:00:00Z", "endpoint_ids"),
    ("endpoint_ids=&from=2026-12-01T00:00:00Z&to=2026-12-02T00:00:00Z", "endpoint_ids"),
    ("endpoint_ids=1&from=2026-12-01T00:00:00&to=2026-12-02T00:00:00Z", "from"),
])
def test_availability_query_errors_name_the_parameter(client, secretary, query: str, field: str) -> None:
    r = client.get(f"/api/v1/availability?{query}", headers=secretary.headers)
    assert r.status_code == 422 and field in r.json["fields"], r.json


def test_admin_cannot_demote_or_lock_themselves_and_role_change_revokes_tokens(client, admin, secretary) -> None:
    r = client.patch(f"/api/v1/users/{admin.username}", headers=admin.headers, json={"role": "secretary"})
    assert r.status_code == 409
    r = client.patch(f"/api/v1/users/{admin.username}", headers=admin.headers, json={"active": False})
    assert r.status_code == 409
    r = client.patch(f"/api/v1/users/{secretary.username}", headers=admin.headers, json={"role": "technician"})
    assert r.status_code == 200 and r.json["role"] == "technician"
    # The secretary's old token no longer works: a new role needs a new sign-in.
    assert client.get("/api/v1/endpoints", headers=secretary.headers).status_code == 401
