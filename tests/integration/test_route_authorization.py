"""Authorization matrix over every rule of ``app.url_map`` (REST and pages).

* Anonymous callers get 401 (API) or are sent to sign-in / refused (pages) everywhere except the
  deliberately public routes listed in ``PUBLIC`` — a new route that forgets its role check fails here.
* Technicians are refused booking and admin mutations; secretaries are refused admin routes and every
  change to another secretary's meeting (and its invitations).
* Calendar feeds open only with their own, unrevoked feed token.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.routing import Rule

from confbridge.auth.models import User
from confbridge.booking import templates
from confbridge.booking.models import Meeting
from confbridge.directory import groups
from tests.factories import book, make_endpoints

# endpoint name → why it needs no sign-in.  Anything else must refuse an anonymous caller.
PUBLIC = {
    "auth.login": "the sign-in page",
    "auth.language": "switching the language on the sign-in page (CSRF-protected, touches no data)",
    "static": "CSS, JavaScript, images",
    "api-docs.openapi_json": "the OpenAPI document",
    "api_auth.token": "exchanging a username and password for a token",
    "invites_feeds.endpoint_feed": "calendar feed: opened by its own ?token=",
    "invites_feeds.user_feed": "calendar feed: opened by its own ?token=",
    "healthz": "load balancer / systemd probe: says only that the process is up",
    "readyz": "load balancer probe: database reachable and migrated, as a reason code",
    "metrics": "Prometheus text, answered only to [metrics] allowed_networks (loopback by default)",
}
SAFE = {"GET"}
_CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
START = datetime(2026, 12, 7, 0, 30, tzinfo=UTC)   # Monday 07:30 in Hà Nội
END = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)


@pytest.fixture
def world(app: Flask, session_factory: sessionmaker[Session], frozen_clock: Any, make_user: Any) -> dict[str, Any]:
    admin = make_user("admin", "admin")
    owner = make_user("secretary", "thuky_a")
    other = make_user("secretary", "thuky_b")
    tech = make_user("technician", "kythuat")
    settings = app.extensions["confbridge"].settings
    with session_factory.begin() as s:
        eps = make_endpoints(s, 3)
        meeting = book(s, settings, s.get(User, owner.id), title="Giao ban tuần", start=START, end=END,
                       endpoint_ids=eps[:2], rrule="FREQ=WEEKLY;BYDAY=MO;COUNT=3")
        meeting_id = meeting.id
        group_id = groups.create_group(s, {"name": "Các huyện", "endpoint_ids": eps[:2]}, admin.id).id
        template_id = templates.create_template(s, settings, s.get(User, owner.id), {
            "name": "Giao ban tuần", "title": "Giao ban tuần", "duration_minutes": 90, "endpoint_ids": eps[:2]}).id
    return {"admin": admin, "owner": owner, "other": other, "tech": tech, "eps": eps, "meeting_id": meeting_id,
            "group_id": group_id, "template_id": template_id}


def _url(rule: Rule, world: dict[str, Any]) -> str:
    values = {
        "meeting_id": world["meeting_id"], "endpoint_id": world["eps"][0], "user_id": world["owner"].id,
        "run_id": 1, "alarm_id": 1, "feed_id": 1, "name": "mcu1", "action": "mute",
        "occurrence_start": START.isoformat(), "occ_key": START.strftime("%Y%m%dT%H%M%SZ"),
        "username": world["owner"].username, "filename": "css/app.css", "report": "conferences", "fmt": "csv",
        "group_id": world["group_id"], "template_id": world["template_id"],
        "blackout_id": 1,
    }
    missing = set(rule.arguments) - set(values)
    assert not missing, f"{rule.rule}: add a sample value for {missing} to this test"
    return rule.build({k: values[k] for k in rule.arguments}, append_unknown=False)[1]


def _rules(app: Flask) -> list[tuple[str, str, Rule]]:
    out = []
    for rule in app.url_map.iter_rules():
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            out.append((method, rule.endpoint, rule))
    return sorted(out, key=lambda item: (item[2].rule, item[0]))


def _csrf(client: FlaskClient) -> str:
    match = _CSRF.search(client.get("/login").get_data(as_text=True))
    assert match, "the sign-in page carries the CSRF token"
    return match.group(1)


def _call(client: FlaskClient, method: str, url: str, *, headers: dict[str, str] | None = None,
          csrf: str = "", json: Any = None) -> Any:
    kwargs: dict[str, Any] = {"headers": headers or {}}
    if url.startswith("/api/"):
        kwargs["json"] = json if json is not None else ({} if method not in SAFE else None)
    elif method not in SAFE:
        kwargs["data"] = {"csrf_token": csrf}
    return client.open(url, method=method, **kwargs)


def test_public_routes_exist(app: Flask) -> None:
    """The allow-list names real routes (a renamed public route must be reviewed, not silently kept)."""
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert set(PUBLIC) <= endpoints, set(PUBLIC) - endpoints


def test_anonymous_is_refused_everywhere_but_the_public_routes(app: Flask, world: dict[str, Any]) -> None:
    client = app.test_client()
    checked, wrong = 0, []
    for method, endpoint, rule in _rules(app):
        if endpoint in PUBLIC:
            continue
        url = _url(rule, world)
        # An anonymous browser with a valid form token (fresh: POST /logout clears the session), so that
        # what refuses the request is the sign-in check, not CSRF.
        csrf = _csrf(client) if method not in SAFE and not url.startswith("/api/") else ""
        response = _call(client, method, url, csrf=csrf)
        checked += 1
        if url.startswith("/api/"):
            ok = response.status_code == 401 and response.json["error"] == "unauthorized"
        else:
            location = response.headers.get("Location", "")
            ok = response.status_code in (401, 403) or (
                response.status_code in (302, 303) and location.split("?")[0].endswith("/login"))
        if not ok:
            wrong.append(f"{method} {url} → {response.status_code} {response.headers.get('Location', '')}")
    assert not wrong, "reachable without signing in:\n" + "\n".join(wrong)
    assert checked >= 50


def _is_admin_route(method: str, endpoint: str, rule: Rule) -> bool:
    if rule.rule.startswith("/admin"):
        return True
    if rule.rule.startswith("/api/v1/users"):
        return True
    if rule.rule.startswith("/api/v1/endpoint-groups") and method not in SAFE:
        return True
    if rule.rule.startswith("/api/v1/endpoints/<int:endpoint_id>/blackouts"):
        return False  # technicians manage blackouts too (REST): see the blackout test below
    return rule.rule.startswith("/api/v1/endpoints") and method not in SAFE


BOOKING_MUTATIONS = {
    "api_meetings.create_meeting", "api_meetings.check_meeting", "api_meetings.patch_meeting",
    "api_meetings.delete_meeting", "api_meetings.patch_occurrence", "api_meetings.delete_occurrence",
    "booking.new", "booking.check_json", "booking.edit", "booking.cancel", "booking.edit_occurrence",
    "booking.cancel_occurrence",
    # Meeting templates belong to bookers (technicians neither read nor write them).
    "api_templates.list_templates", "api_templates.create_template", "api_templates.get_template",
    "api_templates.patch_template", "api_templates.delete_template",
    "meeting_templates.index_templates", "meeting_templates.delete_template",
}


def _title(session_factory: sessionmaker[Session], meeting_id: int) -> tuple[str, str, int]:
    with session_factory() as s:
        m = s.get(Meeting, meeting_id)
        assert m is not None
        return m.title, m.status, len([o for o in m.occurrences if o.status == "planned"])


def test_technician_is_refused_booking_and_admin_mutations(
    app: Flask, world: dict[str, Any], session_factory: sessionmaker[Session],
) -> None:
    client = app.test_client()
    before = _title(session_factory, world["meeting_id"])
    checked, wrong = 0, []
    for method, endpoint, rule in _rules(app):
        if endpoint not in BOOKING_MUTATIONS and not _is_admin_route(method, endpoint, rule):
            continue
        url = _url(rule, world)
        body = {"title": "hijacked"} if method == "PATCH" else None
        response = _call(client, method, url, headers=world["tech"].headers, json=body)
        checked += 1
        if response.status_code != 403:
            wrong.append(f"{method} {url} → {response.status_code}")
    assert not wrong, "a technician got through:\n" + "\n".join(wrong)
    assert checked >= 25
    assert _title(session_factory, world["meeting_id"]) == before
    # …while reading and controlling stays open to them
    assert client.get(f"/api/v1/meetings/{world['meeting_id']}", headers=world["tech"].headers).status_code == 200
    assert client.get("/console", headers=world["tech"].headers).status_code == 200


def test_secretary_is_refused_admin_routes(app: Flask, world: dict[str, Any]) -> None:
    client = app.test_client()
    wrong, checked = [], 0
    for method, endpoint, rule in _rules(app):
        if not _is_admin_route(method, endpoint, rule):
            continue
        url = _url(rule, world)
        response = _call(client, method, url, headers=world["owner"].headers,
                         json={"role": "admin"} if method == "PATCH" else None)
        checked += 1
        if response.status_code != 403:
            wrong.append(f"{method} {url} → {response.status_code}")
    assert not wrong, "a secretary got into admin routes:\n" + "\n".join(wrong)
    assert checked >= 15
    with app.app_context():
        me = client.get("/api/v1/auth/me", headers=world["owner"].headers).json
    assert me["role"] == "secretary"  # PATCH /users/<self> {"role": "admin"} did not stick


def test_secretary_cannot_touch_another_secretarys_meeting(
    app: Flask, world: dict[str, Any], session_factory: sessionmaker[Session],
) -> None:
    client = app.test_client()
    mid, occ = world["meeting_id"], START.isoformat()
    key = START.strftime("%Y%m%dT%H%M%SZ")
    other = world["other"].headers
    before = _title(session_factory, mid)
    later = START.replace(hour=1).isoformat()
    attempts = [
        ("PATCH", f"/api/v1/meetings/{mid}", {"title": "hijacked"}),
        ("DELETE", f"/api/v1/meetings/{mid}", None),
        ("PATCH", f"/api/v1/meetings/{mid}/occurrences/{occ}", {"end": later, "scope": "this"}),
        ("PATCH", f"/api/v1/meetings/{mid}/occurrences/{occ}", {"end": later, "scope": "following"}),
        ("DELETE", f"/api/v1/meetings/{mid}/occurrences/{occ}?scope=this", None),
        ("DELETE", f"/api/v1/meetings/{mid}/occurrences/{occ}?scope=following", None),
        ("GET", f"/api/v1/meetings/{mid}/invitations", None),
        ("GET", f"/api/v1/meetings/{mid}/invite.ics", None),
        ("GET", f"/meetings/{mid}/edit", None),
        ("POST", f"/meetings/{mid}/edit", None),
        ("GET", f"/meetings/{mid}/cancel", None),
        ("POST", f"/meetings/{mid}/cancel", None),
        ("GET", f"/meetings/{mid}/occurrences/{key}/edit", None),
        ("POST", f"/meetings/{mid}/occurrences/{key}/edit", None),
        ("GET", f"/meetings/{mid}/occurrences/{key}/cancel", None),
        ("POST", f"/meetings/{mid}/occurrences/{key}/cancel", None),
    ]
    wrong = []
    for method, url, body in attempts:
        response = _call(client, method, url, headers=other, json=body)
        if response.status_code != 403:
            wrong.append(f"{method} {url} → {response.status_code}")
    response = client.post("/bookings/check.json", headers=other, data={"meeting_id": str(mid)})
    if response.status_code != 403:
        wrong.append(f"POST /bookings/check.json meeting_id={mid} → {response.status_code}")
    # Another secretary's template does not exist for her (404: its existence is not told).
    tid = world["template_id"]
    for method, url, body in [("GET", f"/api/v1/templates/{tid}", None),
                              ("PATCH", f"/api/v1/templates/{tid}", {"title": "hijacked"}),
                              ("DELETE", f"/api/v1/templates/{tid}", None),
                              ("POST", f"/templates/{tid}/delete", None),
                              ("GET", f"/bookings/new?template={tid}", None)]:
        response = _call(client, method, url, headers=other, json=body)
        if response.status_code != 404:
            wrong.append(f"{method} {url} → {response.status_code}")
    assert not wrong, "another secretary changed or read this meeting:\n" + "\n".join(wrong)
    assert _title(session_factory, mid) == before
    # The organiser herself may (the refusals above are about ownership, not about the requests).
    owner = world["owner"].headers
    assert client.get(f"/api/v1/meetings/{mid}/invitations", headers=owner).status_code == 200
    r = client.patch(f"/api/v1/meetings/{mid}", headers=owner, json={"title": "Giao ban tuần (sửa)"})
    assert r.status_code == 200 and r.json["title"] == "Giao ban tuần (sửa)"


def test_feeds_open_only_with_their_own_live_token(app: Flask, world: dict[str, Any]) -> None:
    client = app.test_client()
    owner = world["owner"].headers
    ep, ep2 = world["eps"][0], world["eps"][1]
    created = client.post("/api/v1/feeds", headers=owner, json={"kind": "endpoint", "endpoint_id": ep})
    assert created.status_code == 201
    token, feed_id = created.json["token"], created.json["id"]
    url = f"/calendar/endpoints/{ep}.ics"
    ok = client.get(f"{url}?token={token}")
    assert ok.status_code == 200 and b"BEGIN:VCALENDAR" in ok.data and b"Giao ban" in ok.data

    def refused(target: str) -> None:
        r = client.get(target)
        assert r.status_code in (401, 403), f"{target} → {r.status_code}"
        assert b"BEGIN:VCALENDAR" not in r.data

    refused(url)                                                # no token
    refused(f"{url}?token=" + "x" * 43)                         # a made-up one
    refused(f"{url}?token={world['owner'].token}")             # an API token is not a feed token
    refused(f"/calendar/endpoints/{ep2}.ics?token={token}")    # another endpoint's feed
    refused(f"/calendar/users/{world['owner'].username}.ics?token={token}")
    # Another secretary cannot revoke it; its owner can, and then it opens nothing.
    assert client.delete(f"/api/v1/feeds/{feed_id}", headers=world["other"].headers).status_code == 404
    assert client.get(f"{url}?token={token}").status_code == 200
    assert client.delete(f"/api/v1/feeds/{feed_id}", headers=owner).status_code == 204
    gone = client.get(f"{url}?token={token}")  # a revoked feed is gone (issue 17): 404, no calendar
    assert gone.status_code == 404 and b"BEGIN:VCALENDAR" not in gone.data

    person = client.post("/api/v1/feeds", headers=owner, json={"kind": "user"})
    assert person.status_code == 201
    user_url = f"/calendar/users/{world['owner'].username}.ics"
    assert client.get(f"{user_url}?token={person.json['token']}").status_code == 200
    refused(f"/calendar/users/{world['other'].username}.ics?token={person.json['token']}")
    # A secretary may not mint a feed of someone else's calendar.
    forged = client.post("/api/v1/feeds", headers=world["other"].headers,
                         json={"kind": "user", "username": world["owner"].username})
    assert forged.status_code == 403


def test_secretary_is_refused_blackout_changes_and_technician_admitted(app: Flask, world: dict[str, Any]) -> None:
    """Blackouts (maintenance windows) are created and deleted over REST by administrators and technicians
    only (the blackout page is under /admin: administrators, checked with the other admin routes)."""
    client = app.test_client()
    body = {"start": "2026-12-08T06:00:00+07:00", "end": "2026-12-08T08:00:00+07:00", "reason": "bảo trì"}
    checked = 0
    for method, _endpoint, rule in _rules(app):
        if "/blackouts" not in rule.rule or not rule.rule.startswith("/api/") or method in SAFE:
            continue
        url = _url(rule, world)
        refused = _call(client, method, url, headers=world["owner"].headers, json=body)
        assert refused.status_code == 403, (method, url, refused.status_code)
        admitted = _call(client, method, url, headers=world["tech"].headers, json=body)
        assert admitted.status_code != 403, (method, url)
        checked += 1
    assert checked >= 4
APPROVAL_ROUTES = {
    "api_meetings.approve_meeting", "api_meetings.reject_meeting", "approvals.index", "approvals.approve",
    "approvals.reject",
}


def test_only_approvers_and_admins_reach_the_approval_routes_and_approvers_do_not_book(
    app: Flask, world: dict[str, Any], make_user: Any, session_factory: sessionmaker[Session],
) -> None:
    """Issue 14: the approval routes refuse secretaries and technicians; the approver role reads but
    neither books, changes meetings nor enters the admin pages."""
    client = app.test_client()
    approver = make_user("approver", "sotttt")
    before = _title(session_factory, world["meeting_id"])
    wrong, checked = [], 0
    for method, endpoint, rule in _rules(app):
        url = _url(rule, world)
        if endpoint in APPROVAL_ROUTES:
            for who in ("owner", "tech"):
                response = _call(client, method, url, headers=world[who].headers, json={"reason": "x"})
                checked += 1
                if response.status_code != 403:
                    wrong.append(f"{who}: {method} {url} → {response.status_code}")
        elif endpoint in BOOKING_MUTATIONS or _is_admin_route(method, endpoint, rule):
            body = {"title": "hijacked"} if method == "PATCH" else None
            response = _call(client, method, url, headers=approver.headers, json=body)
            checked += 1
            if response.status_code != 403:
                wrong.append(f"approver: {method} {url} → {response.status_code}")
    assert not wrong, "\n".join(wrong)
    assert checked >= 30
    assert _title(session_factory, world["meeting_id"]) == before
    # …while the approver reads the meeting (without its PIN) and opens the approvals page.
    got = client.get(f"/api/v1/meetings/{world['meeting_id']}", headers=approver.headers)
    assert got.status_code == 200 and "pin" not in got.json
    assert client.get("/approvals/", headers=approver.headers).status_code == 200
    # The meeting is not pending: approving it is a 409, not a 500.
    r = client.post(f"/api/v1/meetings/{world['meeting_id']}/approve", headers=approver.headers)
    assert r.status_code == 409
