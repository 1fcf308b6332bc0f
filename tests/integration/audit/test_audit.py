"""The audit log: who changed what, when and from where; read by admins (filters, paging, CSV);
append-only through the application; purged after [audit] retention_days by the scheduler's job."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from confbridge.audit.models import AuditEntry, AuditImmutable, record
from confbridge.audit.service import purge_job
from tests.conftest import both_databases


def _entries(session_factory: Any, action: str) -> list[AuditEntry]:
    with session_factory() as s:
        return list(s.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)))


@both_databases
def test_changes_sign_in_failures_and_locks_are_recorded_with_actor_and_address(
        client: Any, admin: Any, make_user: Any, session_factory: Any) -> None:
    r = client.post("/api/v1/endpoints", headers=admin.headers, json={
        "name": "UBND huyện Phú Quốc", "site": "Phú Quốc", "protocol": "sip",
        "address": "ubnd-phuquoc@vc.kiengiang.example", "seats": 50})
    eid = r.get_json()["id"]
    assert client.patch(f"/api/v1/endpoints/{eid}", headers=admin.headers,
                        json={"seats": 60, "name": "UBND TP Phú Quốc"}).status_code == 200
    [update] = _entries(session_factory, "endpoint.update")
    assert update.actor == "admin" and update.user_id == admin.id and update.source_address == "127.0.0.1"
    assert update.object_type == "endpoint" and update.object_id == str(eid)
    assert update.details["before"] == {"name": "UBND huyện Phú Quốc", "seats": 50}
    assert update.details["after"] == {"name": "UBND TP Phú Quốc", "seats": 60}
    # A failed sign-in is kept although its request is rolled back.
    victim = make_user("secretary", "thuky")
    assert client.post("/api/v1/auth/token", json={"username": "thuky", "password": "sai"}).status_code == 401
    assert client.post("/api/v1/auth/token", json={"username": "khong-co", "password": "x"}).status_code == 401
    failures = _entries(session_factory, "auth.signin_failed")
    assert [(f.actor, f.details["reason"]) for f in failures] == [("thuky", "wrong_password"),
                                                                  ("khong-co", "unknown_user")]
    assert failures[0].object_id == str(victim.id) and failures[0].source_address == "127.0.0.1"
    # Locking an account.
    assert client.patch("/api/v1/users/thuky", headers=admin.headers, json={"active": False}).status_code == 200
    [lock] = _entries(session_factory, "user.lock")
    assert lock.details["before"] == {"active": True} and lock.details["after"] == {"active": False}


@both_databases
def test_admins_read_the_log_with_filters_paging_and_csv(client: Any, admin: Any, technician: Any,
                                                         session_factory: Any, frozen_clock: Any) -> None:
    with session_factory.begin() as s:
        for i in range(7):
            frozen_clock.advance(minutes=1)
            record(s, admin.id, "meeting.update", "meeting", 10 + i % 2, changes=["title"],
                   before={"title": f"Họp {i}"}, after={"title": f"Họp {i + 1}"})
        record(s, technician.id, "conference.mute", "conference", 5, endpoint_id=3)
    c = client
    assert c.get("/api/v1/audit", headers=technician.headers).status_code == 403
    body = c.get("/api/v1/audit?action=meeting.&page_size=3", headers=admin.headers).get_json()
    assert body["total"] >= 7 and len(body["entries"]) == 3 and body["page"] == 1
    ats = [e["at"] for e in body["entries"]]
    assert ats == sorted(ats, reverse=True)  # newest first
    page3 = c.get("/api/v1/audit?action=meeting.update&page_size=3&page=3", headers=admin.headers).get_json()
    assert len(page3["entries"]) == 1
    one = c.get("/api/v1/audit?object_type=meeting&object_id=11", headers=admin.headers).get_json()
    assert one["total"] == 3 and {e["object_id"] for e in one["entries"]} == {"11"}
    tech = c.get(f"/api/v1/audit?actor={technician.username}", headers=admin.headers).get_json()
    assert [e["action"] for e in tech["entries"]] == ["conference.mute"]
    day = "2026-11-30"  # the frozen clock: Monday 30/11/2026, 07:00 in Hà Nội
    assert c.get(f"/api/v1/audit?from={day}&to={day}&action=meeting.update",
                 headers=admin.headers).get_json()["total"] == 7
    assert c.get("/api/v1/audit?from=2026-01-01&to=2026-01-31", headers=admin.headers).get_json()["total"] == 0
    r = c.get("/api/v1/audit?action=meeting.update&format=csv", headers=admin.headers)
    assert r.status_code == 200 and r.data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(r.data.decode("utf-8-sig"))))
    assert rows[0][:3] == ["Thời điểm", "Người thực hiện", "Hành động"] and len(rows) == 8
    assert "Họp 6" in rows[1][-1]  # before/after in the details column, Vietnamese intact
    for bad, field in (("page=0", "page"), ("page_size=501", "page_size"), ("from=hôm qua", "from"),
                       ("format=xml", "format"), ("actor=" + "x" * 200, "actor")):
        resp = c.get(f"/api/v1/audit?{bad}", headers=admin.headers)
        assert resp.status_code == 422 and field in resp.get_json()["fields"], bad


@both_databases
def test_entries_cannot_be_changed_or_deleted_and_old_ones_are_purged(
        client: Any, admin: Any, session_factory: Any, frozen_clock: Any, settings: Any) -> None:
    with session_factory.begin() as s:
        old = record(s, admin.id, "meeting.create", "meeting", 1)
        old.at = frozen_clock.now() - timedelta(days=settings.audit.retention_days + 1)
        record(s, admin.id, "meeting.create", "meeting", 2)
    with session_factory() as s:
        entry = s.scalars(select(AuditEntry).where(AuditEntry.object_id == "2")).one()
        entry.action = "meeting.cancel"
        with pytest.raises(AuditImmutable):
            s.flush()
        s.rollback()
        s.delete(s.scalars(select(AuditEntry).where(AuditEntry.object_id == "2")).one())
        with pytest.raises(AuditImmutable):
            s.flush()
        s.rollback()
    # No route changes or deletes an entry.
    for method in ("put", "patch", "delete", "post"):
        assert getattr(client, method)("/api/v1/audit", headers=admin.headers).status_code == 405
    assert client.delete("/api/v1/audit/1", headers=admin.headers).status_code == 404
    assert purge_job(session_factory, settings.audit.retention_days) == 1
    with session_factory() as s:
        left = {e.object_id for e in s.scalars(select(AuditEntry).where(AuditEntry.action == "meeting.create"))}
    assert left == {"2"}
