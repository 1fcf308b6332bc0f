"""Endpoint groups and meeting templates over REST, and booking with them, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from tests.conftest import both_databases
from tests.factories import seed_endpoints

MONDAY = "2026-12-07T07:30:00+07:00"
MONDAY_END = "2026-12-07T09:00:00+07:00"


def _group(client: Any, admin: Any, name: str, eps: list[int]) -> dict[str, Any]:
    r = client.post("/api/v1/endpoint-groups", json={"name": name, "endpoint_ids": eps}, headers=admin.headers)
    assert r.status_code == 201, r.json
    return dict(r.json)


@both_databases
def test_groups_admins_manage_everyone_reads(client, admin, secretary, technician, session_factory) -> None:
    eps = seed_endpoints(session_factory, 4)
    group = _group(client, admin, "15 UBND huyện", eps[:3])
    assert set(group) == {"id", "name", "endpoint_ids"}
    assert group["name"] == "15 UBND huyện" and sorted(group["endpoint_ids"]) == eps[:3]
    for user in (secretary, technician, admin):
        listed = client.get("/api/v1/endpoint-groups", headers=user.headers)
        assert listed.status_code == 200 and [g["name"] for g in listed.json] == ["15 UBND huyện"]
        assert client.get(f"/api/v1/endpoint-groups/{group['id']}", headers=user.headers).json == group
    for user in (secretary, technician):
        assert client.post("/api/v1/endpoint-groups", json={"name": "X", "endpoint_ids": []},
                           headers=user.headers).status_code == 403
        assert client.patch(f"/api/v1/endpoint-groups/{group['id']}", json={"name": "X"},
                            headers=user.headers).status_code == 403
        assert client.delete(f"/api/v1/endpoint-groups/{group['id']}", headers=user.headers).status_code == 403

    r = client.patch(f"/api/v1/endpoint-groups/{group['id']}", json={"name": "Các huyện", "endpoint_ids": [eps[3]]},
                     headers=admin.headers)
    assert r.status_code == 200 and r.json["name"] == "Các huyện" and r.json["endpoint_ids"] == [eps[3]]
    assert client.delete(f"/api/v1/endpoint-groups/{group['id']}", headers=admin.headers).status_code == 204
    assert client.get(f"/api/v1/endpoint-groups/{group['id']}", headers=admin.headers).status_code == 404


@both_databases
def test_group_names_are_unique_and_endpoints_must_exist(client, admin, session_factory) -> None:
    eps = seed_endpoints(session_factory, 2)
    _group(client, admin, "Các sở, ngành", eps)
    r = client.post("/api/v1/endpoint-groups", json={"name": "các SỞ, ngành", "endpoint_ids": []},
                    headers={**admin.headers, "Accept-Language": "vi"})
    assert r.status_code == 422
    assert r.json["errors"][0]["field"] == "name" and r.json["errors"][0]["code"] == "taken"
    assert r.json["fields"]["name"] == "Tên “các SỞ, ngành” đã được dùng."
    r = client.post("/api/v1/endpoint-groups", json={"name": "Khác", "endpoint_ids": [eps[0], 999999]},
                    headers={**admin.headers, "Accept-Language": "en"})
    assert r.status_code == 422 and r.json["errors"][0]["code"] == "unknown"
    assert r.json["fields"]["endpoint_ids"] == "Unknown endpoint id(s): 999999"
    r = client.post("/api/v1/endpoint-groups", json={"name": "", "endpoint_ids": []}, headers=admin.headers)
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "name"


@both_databases
def test_deleting_an_endpoint_removes_it_from_groups(client, admin, session_factory) -> None:
    eps = seed_endpoints(session_factory, 3)
    group = _group(client, admin, "Các huyện", eps)
    assert client.delete(f"/api/v1/endpoints/{eps[1]}", headers=admin.headers).status_code == 200
    got = client.get(f"/api/v1/endpoint-groups/{group['id']}", headers=admin.headers).json
    assert sorted(got["endpoint_ids"]) == [eps[0], eps[2]]


@both_databases
def test_booking_with_groups_books_the_union(client, admin, secretary, session_factory, frozen_clock) -> None:
    eps = seed_endpoints(session_factory, 5)
    north = _group(client, admin, "Phía bắc", eps[:2])
    south = _group(client, admin, "Phía nam", eps[1:4])
    r = client.post("/api/v1/meetings", headers=secretary.headers, json={
        "title": "Giao ban", "start": MONDAY, "end": MONDAY_END, "endpoint_ids": [eps[4]],
        "group_ids": [north["id"], south["id"]]})
    assert r.status_code == 201, r.json
    assert sorted(r.json["endpoint_ids"]) == sorted(eps)
    # Without endpoint_ids, the groups alone.
    r = client.post("/api/v1/meetings", headers=secretary.headers, json={
        "title": "Giao ban chiều", "start": "2026-12-07T14:00:00+07:00", "end": "2026-12-07T15:00:00+07:00",
        "group_ids": [north["id"]]})
    assert r.status_code == 201 and sorted(r.json["endpoint_ids"]) == eps[:2]
    meeting_id = r.json["id"]
    # The dry run takes the same body: the groups' endpoints are busy now.
    r = client.post("/api/v1/meetings/check", headers=secretary.headers, json={
        "title": "Trùng", "start": "2026-12-07T14:30:00+07:00", "end": "2026-12-07T15:30:00+07:00",
        "group_ids": [north["id"]]})
    assert r.status_code == 200 and r.json["ok"] is False
    assert {c["endpoint_id"] for c in r.json["conflicts"]} == set(eps[:2])
    # An unknown group is a field error, in the caller's language.
    r = client.post("/api/v1/meetings", headers={**secretary.headers, "Accept-Language": "vi"}, json={
        "title": "X", "start": MONDAY, "end": MONDAY_END, "group_ids": [999999]})
    assert r.status_code == 422 and r.json["fields"] == {"group_ids": "Không có nhóm điểm cầu số: 999999"}
    r = client.post("/api/v1/meetings", headers=secretary.headers, json={"title": "X", "start": MONDAY,
                                                                         "end": MONDAY_END})
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "endpoint_ids"
    # Deleting a group does not touch the meetings booked with it.
    assert client.delete(f"/api/v1/endpoint-groups/{north['id']}", headers=admin.headers).status_code == 204
    got = client.get(f"/api/v1/meetings/{meeting_id}", headers=secretary.headers).json
    assert sorted(got["endpoint_ids"]) == eps[:2] and got["status"] == "planned"


def _template_body(eps: list[int], group_id: int, **over: Any) -> dict[str, Any]:
    body = {
        "name": "Giao ban tuần", "title": "Giao ban tuần với 15 UBND huyện", "duration_minutes": 90,
        "setup_minutes": 20, "endpoint_ids": [eps[0]], "group_ids": [group_id], "host_endpoint_id": eps[0],
        "attendees": [{"email": "chanh.vanphong@ubnd.example", "name": "Chánh Văn phòng"}],
        "rrule": "FREQ=WEEKLY;BYDAY=MO;COUNT=4", "description": "Báo cáo tuần",
    }
    body.update(over)
    return body


@both_databases
def test_templates_crud_and_who_sees_them(client, admin, secretary, make_user, session_factory) -> None:
    other = make_user("secretary", "thuky_b")
    eps = seed_endpoints(session_factory, 3)
    group = _group(client, admin, "Các huyện", eps[1:])
    r = client.post("/api/v1/templates", json=_template_body(eps, group["id"]), headers=secretary.headers)
    assert r.status_code == 201, r.json
    template = r.json
    assert set(template) == {"id", "name", "title", "duration_minutes", "setup_minutes", "endpoint_ids",
                             "group_ids", "host_endpoint_id", "attendees", "rrule", "description"}
    assert template["group_ids"] == [group["id"]] and template["duration_minutes"] == 90
    tid = template["id"]
    # Her own list; another secretary sees nothing and cannot reach it; an admin sees every template.
    assert [t["id"] for t in client.get("/api/v1/templates", headers=secretary.headers).json] == [tid]
    assert client.get("/api/v1/templates", headers=other.headers).json == []
    assert client.get(f"/api/v1/templates/{tid}", headers=other.headers).status_code == 404
    assert client.patch(f"/api/v1/templates/{tid}", json={"title": "x"}, headers=other.headers).status_code == 404
    assert client.delete(f"/api/v1/templates/{tid}", headers=other.headers).status_code == 404
    assert [t["id"] for t in client.get("/api/v1/templates", headers=admin.headers).json] == [tid]
    # The same name twice for one owner is a field error; another secretary may use the name.
    r = client.post("/api/v1/templates", json=_template_body(eps, group["id"]), headers=secretary.headers)
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "name" and r.json["errors"][0]["code"] == "taken"
    assert client.post("/api/v1/templates", json=_template_body(eps, group["id"]),
                       headers=other.headers).status_code == 201
    # Bad values: each at its field.
    r = client.post("/api/v1/templates", headers=secretary.headers, json=_template_body(
        eps, group["id"], name="Khác", duration_minutes=2, setup_minutes=999, group_ids=[999999],
        rrule="FREQ=FORTNIGHTLY", attendees=[{"email": "not-an-address"}]))
    assert r.status_code == 422
    assert {e["field"] for e in r.json["errors"]} == {"duration_minutes", "setup_minutes", "group_ids", "rrule",
                                                      "attendees.0.email"}
    r = client.post("/api/v1/templates", headers=secretary.headers,
                    json=_template_body(eps, group["id"], name="Khác", endpoint_ids=[], group_ids=[]))
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "host_endpoint_id"
    # PATCH changes only what it names; the admin may change it too.
    r = client.patch(f"/api/v1/templates/{tid}", json={"duration_minutes": 60}, headers=secretary.headers)
    assert r.status_code == 200 and r.json["duration_minutes"] == 60 and r.json["title"] == template["title"]
    r = client.patch(f"/api/v1/templates/{tid}", json={"description": "Sửa bởi quản trị"}, headers=admin.headers)
    assert r.status_code == 200 and r.json["description"] == "Sửa bởi quản trị"
    assert client.delete(f"/api/v1/templates/{tid}", headers=secretary.headers).status_code == 204
    assert client.get(f"/api/v1/templates/{tid}", headers=secretary.headers).status_code == 404


@both_databases
def test_booking_from_a_template_fills_what_the_request_leaves_out(
    client, admin, secretary, make_user, session_factory, frozen_clock,
) -> None:
    eps = seed_endpoints(session_factory, 4)
    group = _group(client, admin, "Các huyện", eps[1:3])
    tid = client.post("/api/v1/templates", json=_template_body(eps, group["id"]), headers=secretary.headers).json["id"]
    r = client.post("/api/v1/meetings", headers=secretary.headers, json={"template_id": tid, "start": MONDAY})
    assert r.status_code == 201, r.json
    m = r.json
    assert m["title"] == "Giao ban tuần với 15 UBND huyện" and m["description"] == "Báo cáo tuần"
    assert m["start"] == "2026-12-07T00:30:00+00:00" and m["end"] == "2026-12-07T02:00:00+00:00"
    assert m["setup_minutes"] == 20 and m["host_endpoint_id"] == eps[0]
    assert sorted(m["endpoint_ids"]) == eps[:3] and m["rrule"] == "FREQ=WEEKLY;BYDAY=MO;COUNT=4"
    assert m["attendees"] == [{"email": "chanh.vanphong@ubnd.example", "name": "Chánh Văn phòng"}]
    # What the request gives wins, field by field.
    r = client.post("/api/v1/meetings", headers=secretary.headers, json={
        "template_id": tid, "start": "2026-12-08T14:00:00+07:00", "end": "2026-12-08T15:00:00+07:00",
        "title": "Giao ban đột xuất", "rrule": None, "endpoint_ids": [eps[3]], "group_ids": [],
        "host_endpoint_id": None, "attendees": []})
    assert r.status_code == 201, r.json
    m = r.json
    assert m["title"] == "Giao ban đột xuất" and m["rrule"] is None and m["endpoint_ids"] == [eps[3]]
    assert m["end"] == "2026-12-08T08:00:00+00:00" and m["attendees"] == [] and m["setup_minutes"] == 20
    # Another secretary may not book from it: a field error that does not tell it exists.
    other = make_user("secretary", "thuky_b")
    r = client.post("/api/v1/meetings", headers={**other.headers, "Accept-Language": "en"},
                    json={"template_id": tid, "start": "2026-12-09T07:30:00+07:00"})
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "template_id"
    assert r.json["errors"][0]["code"] == "unknown"
    # The administrator may.
    r = client.post("/api/v1/meetings", headers=admin.headers,
                    json={"template_id": tid, "start": "2026-12-09T07:30:00+07:00", "rrule": None})
    assert r.status_code == 201, r.json
    # A template without a duration needs an end.
    t2 = client.post("/api/v1/templates", headers=secretary.headers,
                     json={"name": "Không thời lượng", "endpoint_ids": [eps[3]], "title": "Họp"}).json["id"]
    r = client.post("/api/v1/meetings", headers=secretary.headers,
                    json={"template_id": t2, "start": "2026-12-10T07:30:00+07:00"})
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "end"
    # Deleting the template or the group leaves the meetings as they were booked.
    first = client.get("/api/v1/meetings?from=2026-12-07T00:00:00%2B07:00&to=2026-12-08T00:00:00%2B07:00",
                       headers=secretary.headers).json[0]
    assert client.delete(f"/api/v1/templates/{tid}", headers=secretary.headers).status_code == 204
    assert client.delete(f"/api/v1/endpoint-groups/{group['id']}", headers=admin.headers).status_code == 204
    again = client.get(f"/api/v1/meetings/{first['id']}", headers=secretary.headers).json
    assert sorted(again["endpoint_ids"]) == eps[:3] and again["title"] == first["title"]
