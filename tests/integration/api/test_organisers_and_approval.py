"""Issue 14, points 3 and 4 over REST: booking on behalf, co-organisers, approval (both databases)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from confbridge.audit.models import AuditEntry
from tests.conftest import both_databases
from tests.factories import seed_endpoints

MONDAY = "2026-12-07T07:30:00+07:00"
MONDAY_END = "2026-12-07T09:00:00+07:00"


def body(eps: list[int], **over: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"title": "Giao ban tuần", "start": MONDAY, "end": MONDAY_END, "endpoint_ids": eps,
                           "attendees": [{"email": "chanh.vanphong@ubnd.example", "name": "Chánh Văn phòng"}]}
    out.update(over)
    return out


@both_databases
def test_booking_on_behalf_with_co_organisers_and_who_may_change_it(
        client: Any, make_user: Any, session_factory: Any, frozen_clock: Any) -> None:
    booker = make_user("secretary", "thuky")
    leader = make_user("secretary", "chutich")
    colleague = make_user("secretary", "thuky_b")
    stranger = make_user("secretary", "thuky_c")
    tech = make_user("technician", "kythuat")
    eps = seed_endpoints(session_factory, 3)

    r = client.post("/api/v1/meetings", headers=booker.headers,
                    json=body(eps[:2], organizer="chutich", co_organizers=["thuky_b", "chutich"]))
    assert r.status_code == 201, r.json
    m = r.json
    assert (m["organizer"], m["booked_by"], m["co_organizers"]) == ("chutich", "thuky", ["thuky_b"])
    assert m["status"] == "planned" and m["approval"] is None
    assert m["organiser"] == "chutich"  # the older field agrees

    # The organiser, the co-organiser and the booker may change it; another secretary may not.
    for who, title in ((leader, "Giao ban (chủ trì)"), (colleague, "Giao ban (đồng chủ trì)"), (booker, "Giao ban")):
        r = client.patch(f"/api/v1/meetings/{m['id']}", headers=who.headers, json={"title": title})
        assert r.status_code == 200 and r.json["title"] == title
        assert r.json["pin"] is None and "attendees" in r.json  # confidential fields are theirs to see
    assert client.patch(f"/api/v1/meetings/{m['id']}", headers=stranger.headers,
                        json={"title": "x"}).status_code == 403
    assert client.delete(f"/api/v1/meetings/{m['id']}", headers=stranger.headers).status_code == 403
    assert "attendees" not in client.get(f"/api/v1/meetings/{m['id']}", headers=stranger.headers).json

    # Co-organisers can be changed by PATCH; the stranger added becomes one and may then edit.
    r = client.patch(f"/api/v1/meetings/{m['id']}", headers=leader.headers, json={"co_organizers": ["thuky_c"]})
    assert r.status_code == 200 and r.json["co_organizers"] == ["thuky_c"]
    assert client.patch(f"/api/v1/meetings/{m['id']}", headers=colleague.headers,
                        json={"title": "x"}).status_code == 403
    assert client.delete(f"/api/v1/meetings/{m['id']}", headers=stranger.headers).status_code == 200

    # Unknown, technician and locked accounts are refused at their field, in the caller's language.
    r = client.post("/api/v1/meetings", headers={**booker.headers, "Accept-Language": "en"},
                    json=body([eps[2]], organizer="kythuat", co_organizers=["khong_co_ai"]))
    assert r.status_code == 422
    errors = {(e["field"], e["code"]): e["message"] for e in r.json["errors"]}
    assert errors[("organizer", "cannot_organise")].startswith("The account “kythuat” may not book")
    assert errors[("co_organizers", "unknown_user")] == "User “khong_co_ai” not found."
    r = client.post("/api/v1/meetings", headers=booker.headers, json=body([eps[2]], co_organizers=["khong_co_ai"]))
    assert r.json["errors"][0]["message"] == "Không có tài khoản “khong_co_ai”."
    assert tech.username == "kythuat"


@both_databases
def test_pending_until_approved_or_rejected(
        client: Any, make_user: Any, admin: Any, session_factory: Any, frozen_clock: Any) -> None:
    secretary = make_user("secretary", "thuky")
    approver = make_user("approver", "sotttt")
    eps = seed_endpoints(session_factory, 3)
    hall = eps[0]

    # The admin marks the provincial hall; everyone reads the flag.
    r = client.patch(f"/api/v1/endpoints/{hall}", headers=admin.headers, json={"requires_approval": True})
    assert r.status_code == 200 and r.json["requires_approval"] is True
    assert client.get(f"/api/v1/endpoints/{hall}", headers=secretary.headers).json["requires_approval"] is True
    assert client.patch(f"/api/v1/endpoints/{hall}", headers=approver.headers,
                        json={"requires_approval": False}).status_code == 403

    r = client.post("/api/v1/meetings", headers=secretary.headers, json=body([hall, eps[1]]))
    assert r.status_code == 201, r.json
    pending = r.json
    assert pending["status"] == "pending" and pending["approval"]["state"] == "pending"
    # It holds its slots: the same endpoint at the same time is a conflict.
    clash = client.post("/api/v1/meetings", headers=secretary.headers, json=body([eps[1]], title="Họp khác"))
    assert clash.status_code == 409 and clash.json["conflicts"][0]["meeting_id"] == pending["id"]
    # Not every meeting waits: one without the hall is planned at once.
    other = client.post("/api/v1/meetings", headers=secretary.headers, json=body(
        [eps[2]], title="Họp huyện", start="2026-12-08T07:30:00+07:00", end="2026-12-08T09:00:00+07:00"))
    assert other.json["status"] == "planned"

    listed = client.get("/api/v1/meetings?status=pending", headers=approver.headers)
    assert listed.status_code == 200 and [m["id"] for m in listed.json] == [pending["id"]]
    assert listed.json[0]["status"] == "pending"
    assert client.get("/api/v1/meetings?status=other", headers=approver.headers).status_code == 422

    # Only approvers and admins decide.
    assert client.post(f"/api/v1/meetings/{pending['id']}/approve", headers=secretary.headers).status_code == 403
    r = client.post(f"/api/v1/meetings/{pending['id']}/approve", headers=approver.headers)
    assert r.status_code == 200, r.json
    assert r.json["status"] == "planned" and r.json["approval"]["state"] == "approved"
    assert r.json["approval"]["by"] == "sotttt" and "pin" not in r.json  # approvers do not see the PIN
    again = client.post(f"/api/v1/meetings/{pending['id']}/approve", headers={**approver.headers,
                                                                              "Accept-Language": "en"})
    assert again.status_code == 409 and again.json["message"] == "Meeting «Giao ban tuần» is not waiting for approval."
    assert client.get("/api/v1/meetings?status=pending", headers=approver.headers).json == []

    # A second booking of the hall is rejected: a reason is required, then the slots are free again.
    second = client.post("/api/v1/meetings", headers=secretary.headers, json=body(
        [hall], title="Hội nghị tỉnh", start="2026-12-09T07:30:00+07:00", end="2026-12-09T09:00:00+07:00")).json
    assert second["status"] == "pending"
    r = client.post(f"/api/v1/meetings/{second['id']}/reject", headers=approver.headers, json={"reason": "  "})
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "reason"
    r = client.post(f"/api/v1/meetings/{second['id']}/reject", headers=admin.headers,
                    json={"reason": "Hội trường tỉnh bảo trì <b>"})
    assert r.status_code == 200
    assert r.json["status"] == "rejected" and r.json["approval"]["reason"] == "Hội trường tỉnh bảo trì <b>"
    retry = client.post("/api/v1/meetings", headers=admin.headers, json=body(
        [hall], title="Hội nghị tỉnh (admin)", start="2026-12-09T07:30:00+07:00", end="2026-12-09T09:00:00+07:00"))
    assert retry.status_code == 201
    assert retry.json["status"] == "planned" and retry.json["approval"]["state"] == "approved"  # an admin's own
    assert client.post(f"/api/v1/meetings/{second['id']}/approve", headers=approver.headers).status_code == 409

    # Adding the hall to an approved-free meeting puts it back to pending.
    r = client.patch(f"/api/v1/meetings/{other.json['id']}", headers=secretary.headers,
                     json={"endpoint_ids": [eps[2], hall]})
    assert r.status_code == 200 and r.json["status"] == "pending"

    with session_factory() as s:
        actions = [(a.action, a.object_id, a.actor) for a in s.scalars(
            select(AuditEntry).where(AuditEntry.action.in_(["meeting.approve", "meeting.reject"]))
            .order_by(AuditEntry.id))]
    assert actions == [("meeting.approve", str(pending["id"]), "sotttt"),
                       ("meeting.reject", str(second["id"]), "admin")]
