"""REST: a meeting's invitations and its current .ics, with role and object checks; feed tokens and the
subscribable feeds (token checks, revocation, caching headers, cancelled occurrences)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import icalendar
import recurring_ical_events
import vobject
from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker

from confbridge.invites.outbox import deliver_due
from confbridge.settings import Settings
from tests.integration.invites.conftest import ALICE, Booker

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
START = datetime(2026, 12, 7, 7, 30, tzinfo=HCM)
END = START + timedelta(hours=1)


def _path(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def _starts(body: bytes) -> list[datetime]:
    cal = icalendar.Calendar.from_ical(body)
    events = recurring_ical_events.of(cal).between(datetime(2026, 1, 1, tzinfo=UTC),
                                                   datetime(2028, 1, 1, tzinfo=UTC))
    return sorted(e.decoded("DTSTART").astimezone(UTC) for e in events)


def test_invitations_status_visible_to_organiser_admin_technician_only(
    client: FlaskClient, booker: Booker, secretary: Any, admin: Any, technician: Any, make_user: Any,
    session_factory: sessionmaker[Session], settings: Settings, frozen_clock: object,
) -> None:
    mid = booker.create(START, END)
    url = f"/api/v1/meetings/{mid}/invitations"
    body = client.get(url, headers=secretary.headers).get_json()
    assert [(i["recipient"], i["method"], i["status"]) for i in body["items"]] == [
        ("an.nguyen@ubnd.example", "REQUEST", "queued"), ("binh.tran@ubnd.example", "REQUEST", "queued")]
    deliver_due(session_factory, settings)
    for user in (secretary, admin, technician):
        items = client.get(url, headers=user.headers).get_json()["items"]
        assert {i["status"] for i in items} == {"sent"} and all(i["sent_at"] for i in items)
    other = make_user("secretary")
    assert client.get(url, headers=other.headers).status_code == 403
    assert client.get(url).status_code == 401
    assert client.get("/api/v1/meetings/9999/invitations", headers=admin.headers).status_code == 404


def test_invite_ics_is_the_current_request_then_the_cancel(
    client: FlaskClient, booker: Booker, secretary: Any, make_user: Any, frozen_clock: object,
) -> None:
    mid = booker.create(START, END, rrule="FREQ=WEEKLY;COUNT=3")
    response = client.get(f"/api/v1/meetings/{mid}/invite.ics", headers=secretary.headers)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8; method=REQUEST"
    assert vobject.readOne(response.data.decode()).method.value == "REQUEST"
    assert len(_starts(response.data)) == 3
    assert client.get(f"/api/v1/meetings/{mid}/invite.ics",
                      headers=make_user("secretary").headers).status_code == 403
    booker.cancel(mid)
    response = client.get(f"/api/v1/meetings/{mid}/invite.ics", headers=secretary.headers)
    cal = icalendar.Calendar.from_ical(response.data)
    assert str(cal["METHOD"]) == "CANCEL"
    assert [str(e["STATUS"]) for e in cal.walk("VEVENT")] == ["CANCELLED"]


def test_endpoint_feed_follows_bookings_with_caching_and_revocation(
    client: FlaskClient, booker: Booker, technician: Any, frozen_clock: object,
) -> None:
    host = booker.endpoint_ids[0]
    created = client.post("/api/v1/feeds", json={"kind": "endpoint", "endpoint_id": host},
                          headers=technician.headers)
    assert created.status_code == 201
    feed = created.get_json()
    assert feed["url"].endswith(f"/calendar/endpoints/{host}.ics?token={feed['token']}")
    path = _path(feed["url"])

    empty = client.get(path)
    assert empty.status_code == 200 and _starts(empty.data) == []

    mid = booker.create(START, END, rrule="FREQ=WEEKLY;COUNT=4")
    first = client.get(path)
    assert first.status_code == 200
    assert first.headers["Content-Type"].startswith("text/calendar")
    assert "private" in first.headers["Cache-Control"] and "max-age=300" in first.headers["Cache-Control"]
    assert first.headers["ETag"] and first.headers["Last-Modified"]
    assert "METHOD" not in icalendar.Calendar.from_ical(first.data)
    assert len(_starts(first.data)) == 4
    vobject.readOne(first.data.decode())

    # Unchanged: a conditional request is answered 304 without a body.
    again = client.get(path, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""

    # One occurrence cancelled: the feed changes, and that occurrence is not shown as a live event.
    second = (START + timedelta(weeks=1)).astimezone(UTC)
    booker.cancel_occurrence(mid, second)
    changed = client.get(path, headers={"If-None-Match": first.headers["ETag"]})
    assert changed.status_code == 200
    starts = _starts(changed.data)
    assert second not in starts and len(starts) == 3

    # The whole meeting cancelled: it disappears from the feed.
    booker.cancel(mid)
    assert _starts(client.get(path).data) == []

    # Revoked: the URL answers 404 at once (even a conditional request), and stays gone.
    assert client.delete(f"/api/v1/feeds/{feed['id']}", headers=technician.headers).status_code == 204
    assert client.get(path).status_code == 404
    assert client.get(path, headers={"If-None-Match": first.headers["ETag"]}).status_code == 404
    listed = client.get("/api/v1/feeds", headers=technician.headers).get_json()["items"]
    assert [(f["id"], f["revoked"]) for f in listed] == [(feed["id"], True)]


def test_feed_tokens_open_only_their_feed(
    client: FlaskClient, booker: Booker, secretary: Any, make_user: Any, frozen_clock: object,
) -> None:
    feed = client.post("/api/v1/feeds", json={"kind": "endpoint", "endpoint_id": booker.endpoint_ids[0]},
                       headers=secretary.headers).get_json()
    other_endpoint = booker.endpoint_ids[1]
    assert client.get(f"/calendar/endpoints/{other_endpoint}.ics?token={feed['token']}").status_code == 401
    assert client.get(f"/calendar/endpoints/{booker.endpoint_ids[0]}.ics").status_code == 401
    assert client.get(f"/calendar/endpoints/{booker.endpoint_ids[0]}.ics?token=nope").status_code == 401
    # A feed token is not an API token.
    as_bearer = {"Authorization": f"Bearer {feed['token']}"}
    assert client.get("/api/v1/feeds", headers=as_bearer).status_code == 401
    # Someone else cannot revoke it.
    stranger = make_user("secretary")
    assert client.delete(f"/api/v1/feeds/{feed['id']}", headers=stranger.headers).status_code == 404


def test_feed_request_validation(booker: Booker, client: FlaskClient, secretary: Any) -> None:
    missing = client.post("/api/v1/feeds", json={"kind": "endpoint"}, headers=secretary.headers)
    assert missing.status_code == 422 and "endpoint_id" in missing.get_json()["fields"]
    unknown = client.post("/api/v1/feeds", json={"kind": "endpoint", "endpoint_id": 999},
                          headers=secretary.headers)
    assert unknown.status_code == 422 and "endpoint_id" in unknown.get_json()["fields"]
    bad_kind = client.post("/api/v1/feeds", json={"kind": "room"}, headers=secretary.headers)
    assert bad_kind.status_code == 422 and "kind" in bad_kind.get_json()["fields"]
    text_id = client.post("/api/v1/feeds", json={"kind": "endpoint", "endpoint_id": "1; DROP"},
                          headers=secretary.headers)
    assert text_id.status_code == 422 and "endpoint_id" in text_id.get_json()["fields"]
    other = client.post("/api/v1/feeds", json={"kind": "user", "username": "admin"},
                        headers=secretary.headers)
    assert other.status_code == 403
    assert client.post("/api/v1/feeds", json={"kind": "user"}).status_code == 401


def test_person_feed_shows_meetings_they_are_invited_to(
    client: FlaskClient, booker: Booker, make_user: Any, frozen_clock: object,
) -> None:
    an = make_user("technician", "an", email=ALICE[0])
    feed = client.post("/api/v1/feeds", json={"kind": "user"}, headers=an.headers).get_json()
    assert feed["url"].endswith(f"/calendar/users/an.ics?token={feed['token']}")
    booker.create(START, END, title="Họp có An")
    booker.create(START + timedelta(days=1), END + timedelta(days=1), title="Họp không có An",
                  attendees=[("someone@ubnd.example", "Ai đó")])
    cal = icalendar.Calendar.from_ical(client.get(_path(feed["url"])).data)
    assert [str(e["SUMMARY"]) for e in cal.walk("VEVENT")] == ["Họp có An"]
    assert client.get(f"/calendar/users/thuky.ics?token={feed['token']}").status_code == 401


def test_the_feed_is_named_in_the_calendar_clients_language(
    client: FlaskClient, booker: Booker, technician: Any,
) -> None:
    host = booker.endpoint_ids[0]
    feed = client.post("/api/v1/feeds", json={"kind": "endpoint", "endpoint_id": host},
                       headers=technician.headers).get_json()
    path = _path(feed["url"])

    def name(language: str | None) -> str:
        response = client.get(path, headers={"Accept-Language": language} if language else {})
        assert "Accept-Language" in response.headers["Vary"]
        return str(icalendar.Calendar.from_ical(response.data)["X-WR-CALNAME"])

    assert name(None).endswith(" — hội nghị truyền hình")
    assert name("en-AU,en;q=0.9").endswith(" — video conferences")
