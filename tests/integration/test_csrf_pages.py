"""A page form without a valid CSRF token is refused with a readable page, not a traceback."""

from __future__ import annotations


def test_form_without_csrf_token_gets_a_friendly_400(client, secretary) -> None:
    r = client.post("/login", data={"username": secretary.username, "password": secretary.password})
    assert r.status_code == 400
    body = r.get_data(as_text=True)
    assert "hết hạn" in body and "<html" in body.lower()
    # And nobody got signed in.
    assert client.get("/calendar").status_code in (302, 303)
