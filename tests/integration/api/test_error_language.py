"""Refusals speak the caller's language: every service's field errors are codes with parameters and
every domain error a catalogue message, rendered per request from ``Accept-Language`` (vi default, en)."""

from __future__ import annotations

from typing import Any

import pytest

VI = {"Accept-Language": "vi"}
EN = {"Accept-Language": "en"}


def _both(client: Any, method: str, url: str, user: Any, body: Any = None) -> tuple[Any, Any]:
    call = getattr(client, method)
    kwargs = {"json": body} if body is not None else {}
    vi = call(url, headers={**user.headers, **VI}, **kwargs)
    en = call(url, headers={**user.headers, **EN}, **kwargs)
    return vi, en


def _field(response: Any, field: str) -> dict[str, Any]:
    assert response.status_code == 422, response.json
    assert response.json["error"] == "invalid"
    (error,) = [e for e in response.json["errors"] if e["field"] == field]
    assert response.json["fields"][field] == error["message"]
    assert "detail" not in error
    return error


def _meeting(**extra: Any) -> dict[str, Any]:
    return {"title": "Giao ban", "start": "2026-12-07T08:00:00+07:00", "end": "2026-12-07T09:00:00+07:00",
            "endpoint_ids": [1], "setup_minutes": 0, **extra}


@pytest.mark.parametrize(("rrule", "code", "vi_words", "en_words"), [
    ("FREQ=DAILY", "no_end", "Chuỗi lịch phải kết thúc", "The series must end"),
    ("FREQ=DAILY;COUNT=3;BYSETPOS=1", "bysetpos_alone", "BYSETPOS cần BYDAY", "BYSETPOS needs BYDAY"),
    ("FREQ=HOURLY;COUNT=3", "bad_freq", "FREQ phải là DAILY", "FREQ must be DAILY"),
])
def test_a_bad_recurrence_rule_is_a_code_in_the_callers_language(
        client: Any, secretary: Any, frozen_clock: object, rrule: str, code: str, vi_words: str,
        en_words: str) -> None:
    vi, en = _both(client, "post", "/api/v1/meetings/check", secretary, _meeting(rrule=rrule))
    if vi.status_code != 422:  # the dry run answers 200 with the problems listed
        vi, en = _both(client, "post", "/api/v1/meetings", secretary, _meeting(rrule=rrule))
    vi_error, en_error = _field(vi, "rrule"), _field(en, "rrule")
    assert vi_error["code"] == en_error["code"] == code
    assert vi_words in vi_error["message"] and en_words in en_error["message"]


def test_a_bad_endpoint_names_its_fields_in_the_callers_language(client: Any, admin: Any) -> None:
    body = {"name": "Phòng họp A", "site": "UBND tỉnh", "protocol": "sip", "address": "phong hop A"}
    vi, en = _both(client, "post", "/api/v1/endpoints", admin, body)
    assert _field(vi, "address") == {"field": "address", "code": "bad_sip",
                                     "message": "Cần một SIP URI, ví dụ room@vc.example."}
    assert _field(en, "address")["message"] == "A SIP URI like room@vc.example is required."


def test_a_short_password_is_refused_in_the_callers_language(client: Any, admin: Any) -> None:
    body = {"username": "nguoimoi", "password": "ngan", "role": "secretary"}
    vi, en = _both(client, "post", "/api/v1/users", admin, body)
    vi_error, en_error = _field(vi, "password"), _field(en, "password")
    assert vi_error["code"] == en_error["code"] == "too_short"
    assert vi_error["min_length"] == en_error["min_length"]
    assert vi_error["message"].startswith("Mật khẩu cần ít nhất ")
    assert en_error["message"].startswith("The password needs at least ")


def test_an_endpoint_feed_without_its_endpoint_is_refused_in_the_callers_language(client: Any,
                                                                                   technician: Any) -> None:
    vi, en = _both(client, "post", "/api/v1/feeds", technician, {"kind": "endpoint"})
    assert _field(vi, "endpoint_id") == {"field": "endpoint_id", "code": "required", "message": "Bắt buộc."}
    assert _field(en, "endpoint_id")["message"] == "Required."
    vi, en = _both(client, "post", "/api/v1/feeds", technician, {"kind": "endpoint", "endpoint_id": 987654})
    assert _field(vi, "endpoint_id")["message"] == "Không có điểm cầu số 987654."
    assert _field(en, "endpoint_id")["message"] == "There is no endpoint 987654."


@pytest.mark.parametrize(("method", "url", "who", "vi_text", "en_text"), [
    ("get", "/api/v1/meetings/987654", "secretary", "Không có cuộc họp số 987654.",
     "There is no meeting number 987654."),
    ("get", "/api/v1/conferences/987654", "technician", "Không có hội nghị số 987654.",
     "Conference 987654 not found."),
    ("post", "/api/v1/alarms/987654/ack", "technician", "Không có cảnh báo số 987654.", "Alarm 987654 not found."),
    ("get", "/api/v1/endpoints/987654", "admin", "Không có điểm cầu số 987654.", "There is no endpoint 987654."),
    ("delete", "/api/v1/feeds/987654", "secretary", "Không có lịch đăng ký số 987654.", "Feed 987654 not found."),
])
def test_not_found_speaks_the_callers_language_with_the_same_code(
        client: Any, request: pytest.FixtureRequest, method: str, url: str, who: str, vi_text: str,
        en_text: str) -> None:
    user = request.getfixturevalue(who)
    vi, en = _both(client, method, url, user)
    assert vi.status_code == en.status_code == 404
    assert vi.json == {"error": "not_found", "message": vi_text}
    assert en.json == {"error": "not_found", "message": en_text}


def test_a_forbidden_booking_says_so_in_the_callers_language(client: Any, technician: Any,
                                                              frozen_clock: object) -> None:
    vi, en = _both(client, "post", "/api/v1/meetings", technician, _meeting())
    assert vi.status_code == en.status_code == 403
    assert vi.json["error"] == en.json["error"] == "forbidden"
    assert vi.json["message"] == "Thao tác này cần vai trò: secretary / admin."
    assert en.json["message"] == "This action needs the role: secretary / admin."


def test_a_wrong_password_is_unauthorized_in_the_callers_language(client: Any, secretary: Any) -> None:
    body = {"username": secretary.username, "password": "not-the-password"}
    vi = client.post("/api/v1/auth/token", json=body, headers=VI)
    en = client.post("/api/v1/auth/token", json=body, headers=EN)
    assert vi.status_code == en.status_code == 401
    assert vi.json == {"error": "unauthorized", "message": "Sai tên đăng nhập hoặc mật khẩu."}
    assert en.json == {"error": "unauthorized", "message": "Wrong username or password."}
