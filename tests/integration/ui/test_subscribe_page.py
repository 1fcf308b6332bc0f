"""The subscribe page: every role finds it in the navigation, creates its own feed and endpoint feeds,
sees the token once (webcal:// and https:// links), revokes; CSRF on every form; revoked → 404."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest

from tests.integration.ui.conftest import Browser

LINK = re.compile(r'id="link-https" type="text" readonly value="([^"]+)"')
WEBCAL = re.compile(r'id="link-webcal" type="text" readonly value="([^"]+)"')


def _links(page: str) -> tuple[str, str]:
    https, webcal = LINK.search(page), WEBCAL.search(page)
    assert https and webcal, "the new links are shown"
    return html.unescape(https.group(1)), html.unescape(webcal.group(1))


@pytest.mark.parametrize("role", ["secretary", "technician", "admin"])
def test_every_role_subscribes_to_its_calendar_and_to_every_endpoint(
    role: str, browser_for: Any, make_user: Any, demo_endpoints: dict[str, int], frozen_clock: object,
) -> None:
    user = make_user(role, email=f"{role}@ubnd.example")
    b: Browser = browser_for(user)
    page = b.get("/subscribe").get_data(as_text=True)
    assert 'href="/subscribe"' in page and "Đăng ký lịch" in page  # in the navigation
    assert page.count('name="endpoint_id"') == len(demo_endpoints)  # every (enabled) endpoint

    created = b.post("/subscribe", {"kind": "user"})
    assert created.status_code == 200
    https, webcal = _links(created.get_data(as_text=True))
    assert https.startswith("http://localhost/calendar/users/") and f"/{user.username}.ics?token=" in https
    assert webcal == "webcal://" + https.split("://", 1)[1]
    path = https.split("localhost", 1)[1]
    assert b.client.get(path).status_code == 200
    # Shown once: the page afterwards lists the feed without its token.
    token = https.split("token=", 1)[1]
    later = b.get("/subscribe").get_data(as_text=True)
    assert token not in later and "Thu hồi" in later

    endpoint_id = next(iter(demo_endpoints.values()))
    feed = b.post("/subscribe", {"kind": "endpoint", "endpoint_id": str(endpoint_id)})
    endpoint_https, _ = _links(feed.get_data(as_text=True))
    assert f"/calendar/endpoints/{endpoint_id}.ics?token=" in endpoint_https
    endpoint_path = endpoint_https.split("localhost", 1)[1]
    assert b.client.get(endpoint_path).status_code == 200

    # Revoke both through the page: 404 at once.
    feeds = b.client.get("/api/v1/feeds", headers={"Authorization": f"Bearer {user.token}"}).get_json()["items"]
    assert {(f["kind"], f["revoked"]) for f in feeds} == {("user", False), ("endpoint", False)}
    for f in feeds:
        response = b.post(f"/subscribe/{f['id']}/revoke")
        assert response.status_code == 302
    assert b.client.get(path).status_code == 404
    assert b.client.get(endpoint_path).status_code == 404


def test_forms_need_csrf_and_bad_input_is_a_message(
    browser_for: Any, secretary: Any, make_user: Any, demo_endpoints: dict[str, int], frozen_clock: object,
) -> None:
    b: Browser = browser_for(secretary)
    b.get("/subscribe")
    no_csrf = b.client.post("/subscribe", data={"kind": "user"})
    assert no_csrf.status_code in (400, 403)
    for bad in ({"kind": "room"}, {"kind": "endpoint", "endpoint_id": "999999"},
                {"kind": "endpoint", "endpoint_id": "1; DROP"}, {"kind": "endpoint"}):
        response = b.post("/subscribe", bad)
        assert response.status_code == 422, bad
        assert "Không tạo được liên kết" in response.get_data(as_text=True)
    # Someone else's feed cannot be revoked through the page.
    other = make_user("secretary")
    theirs = b.client.post("/api/v1/feeds", json={"kind": "user"},
                           headers={"Authorization": f"Bearer {other.token}"}).get_json()
    assert b.post(f"/subscribe/{theirs['id']}/revoke").status_code == 404
    assert b.client.get(theirs["url"].split("localhost", 1)[1]).status_code == 200
    # Signed out: sent to sign in.
    assert browser_for().get("/subscribe").status_code == 302
