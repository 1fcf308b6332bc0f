"""Sign-in, sign-out, roles, rate limit, password change, language and the security headers."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from confbridge import clock


def test_anonymous_visitor_is_sent_to_sign_in_and_returns_after(browser_for: Any, secretary: Any) -> None:
    b = browser_for()
    response = b.get("/availability?date=2026-12-07")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=/availability")
    page = b.get(response.headers["Location"]).get_data(as_text=True)
    assert "Đăng nhập" in page and 'name="next" value="/availability?date=2026-12-07"' in page
    signed_in = b.post(
        "/login",
        {"username": "thuky", "password": secretary.password, "next": "/availability?date=2026-12-07"},
    )
    assert signed_in.status_code == 302
    assert signed_in.headers["Location"] == "/availability?date=2026-12-07"


def test_next_never_leaves_the_site(browser_for: Any, secretary: Any) -> None:
    b = browser_for()
    b.get("/login")
    response = b.post(
        "/login", {"username": "thuky", "password": secretary.password, "next": "//evil.example/phish"}
    )
    assert response.headers["Location"] == "/"


def test_signed_in_user_skips_the_sign_in_page(browser_for: Any, secretary: Any) -> None:
    b = browser_for(secretary)
    response = b.get("/login?next=/availability")
    assert response.status_code == 302 and response.headers["Location"] == "/availability"


def test_wrong_password_is_refused_in_vietnamese(browser_for: Any, secretary: Any) -> None:
    b = browser_for()
    response = b.post("/login", {"username": "thuky", "password": "wrong-password"})
    assert response.status_code == 401
    assert "Sai tên đăng nhập hoặc mật khẩu." in response.get_data(as_text=True)
    assert b.get("/calendar").status_code == 302  # still anonymous


def test_sign_in_without_csrf_token_is_refused(app: Any, secretary: Any) -> None:
    client = app.test_client()
    response = client.post("/login", data={"username": "thuky", "password": secretary.password})
    assert response.status_code == 400
    assert client.get("/calendar").status_code == 302


def test_sign_in_rate_limited_per_username_and_address(
    browser_for: Any,
    secretary: Any,
    frozen_clock: clock.FrozenClock,
    settings: Any,
) -> None:
    limit = settings.web.login_attempts_per_minute
    b = browser_for()
    for _ in range(limit):
        assert b.post("/login", {"username": "thuky", "password": "nope-nope-nope"}).status_code == 401
    blocked = b.post("/login", {"username": "thuky", "password": secretary.password})
    assert blocked.status_code == 429  # even the right password waits
    assert "Quá nhiều lần đăng nhập sai" in blocked.get_data(as_text=True)
    frozen_clock.advance(timedelta(seconds=61))
    assert b.post("/login", {"username": "thuky", "password": secretary.password}).status_code == 302


def test_session_is_renewed_on_sign_in_and_cleared_on_sign_out(browser_for: Any, secretary: Any) -> None:
    b = browser_for()
    b.get("/login")
    before = b.client.get_cookie("confbridge_session")
    b.post("/login", {"username": "thuky", "password": secretary.password})
    after = b.client.get_cookie("confbridge_session")
    assert after is not None and (before is None or before.value != after.value)
    assert b.get("/calendar").status_code == 200
    # Sign-out is a POST with the CSRF token: a GET or a forged POST cannot sign anyone out.
    assert b.client.get("/logout").status_code == 405
    assert b.client.post("/logout").status_code == 400
    assert b.post("/logout").status_code == 302
    assert b.get("/calendar").status_code == 302


def test_cookie_flags_and_security_headers(browser_for: Any, secretary: Any) -> None:
    b = browser_for()
    b.get("/login")
    response = b.post("/login", {"username": "thuky", "password": secretary.password})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    page = b.get("/calendar")
    csp = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert "Strict-Transport-Security" not in page.headers
    assert "<script>" not in page.get_data(as_text=True)  # no inline scripts: the CSP would block them


def test_tls_sets_secure_cookie_and_hsts(settings: Any, engine: Any, make_user: Any) -> None:
    from confbridge.app import create_app
    from tests.integration.ui.conftest import Browser

    app = create_app(settings.with_overrides(**{"web.tls": True}), engine=engine, testing=True)
    user = make_user("secretary")
    b = Browser(app.test_client())
    b.get("/login", base_url="https://localhost")
    response = b.client.post(
        "/login",
        base_url="https://localhost",
        headers={"Referer": "https://localhost/login"},
        data={"csrf_token": b.csrf, "username": user.username, "password": user.password},
    )
    assert "Secure" in response.headers["Set-Cookie"]
    assert "max-age=" in response.headers["Strict-Transport-Security"]


def test_technician_gets_a_clear_403_page_for_the_booking_form(browser_for: Any, technician: Any) -> None:
    b = browser_for(technician)
    response = b.get("/bookings/new")
    assert response.status_code == 403
    text = response.get_data(as_text=True)
    assert "Bạn không có quyền truy cập trang này" in text
    assert "Thư ký, Quản trị viên" in text
    assert b.get("/calendar").status_code == 200  # read-only calendar stays open
    assert "Đặt lịch" not in b.get("/calendar").get_data(as_text=True).split("<main")[0]


def test_secretary_is_refused_admin_pages(browser_for: Any, secretary: Any) -> None:
    b = browser_for(secretary)
    for url in ("/admin/endpoints", "/admin/bridges", "/admin/users"):
        assert b.get(url).status_code == 403
    assert (
        b.post("/admin/users", {"username": "hacker", "password": "x" * 12, "role": "admin"}).status_code
        == 403
    )


def test_password_change_signs_out_other_sessions(browser_for: Any, secretary: Any) -> None:
    here, elsewhere = browser_for(secretary), browser_for(secretary)
    mismatch = here.post(
        "/account/password",
        {
            "old_password": secretary.password,
            "new_password": "mot-mat-khau-moi",
            "new_password_repeat": "khac",
        },
    )
    assert mismatch.status_code == 422 and "Hai mật khẩu mới không khớp." in mismatch.get_data(as_text=True)
    done = here.post(
        "/account/password",
        {
            "old_password": secretary.password,
            "new_password": "mot-mat-khau-moi",
            "new_password_repeat": "mot-mat-khau-moi",
        },
    )
    assert done.status_code == 302
    assert here.get("/calendar").status_code == 200
    assert elsewhere.get("/calendar").status_code == 302
    fresh = browser_for()
    assert fresh.login("thuky", "mot-mat-khau-moi").status_code == 302


def test_language_switch_is_remembered_on_the_account(browser_for: Any, secretary: Any) -> None:
    b = browser_for(secretary)
    assert 'lang="vi"' in b.get("/calendar").get_data(as_text=True)
    b.post("/language", {"locale": "en", "next": "/calendar"})
    page = b.get("/calendar").get_data(as_text=True)
    assert 'lang="en"' in page and "Endpoint availability" in page and "Sign out" in page
    again = browser_for(secretary)  # a new sign-in keeps the choice
    assert "Sign out" in again.get("/calendar").get_data(as_text=True)


def test_user_time_zone_changes_the_times_shown(browser_for: Any, secretary: Any) -> None:
    b = browser_for(secretary)
    assert b.post("/account/timezone", {"timezone": "Mars/Olympus"}).status_code == 302
    assert "Asia/Ho_Chi_Minh" in b.get("/calendar").get_data(as_text=True)
    b.post("/account/timezone", {"timezone": "Europe/Berlin"})
    assert "Europe/Berlin" in b.get("/calendar").get_data(as_text=True)


def test_the_expired_form_page_speaks_the_users_language(browser_for: Any, secretary: Any) -> None:
    b = browser_for(secretary)
    b.post("/language", {"locale": "en", "next": "/calendar"})
    refused = b.client.post("/account/timezone", data={"timezone": "Asia/Ho_Chi_Minh"})  # no CSRF token
    body = refused.get_data(as_text=True)
    assert refused.status_code == 400 and "The form expired; reload the page and try again." in body
    assert "hết hạn" not in body
