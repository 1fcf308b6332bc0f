"""Parsing the booking form: typed values kept, field errors named, times in the organiser's zone."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from werkzeug.datastructures import MultiDict

from confbridge.errors import FieldError
from confbridge.settings import Settings
from confbridge.ui.format import parse_date, parse_time
from confbridge.ui.forms import parse_attendees, parse_booking_form, service_errors

HCM = ZoneInfo("Asia/Ho_Chi_Minh")


def _form(**values: object) -> MultiDict[str, str]:
    base: dict[str, object] = {
        "title": "Giao ban",
        "date": "07/12/2026",
        "start_time": "07:30",
        "duration": "90",
        "setup_minutes": "15",
        "repeat": "none",
        "endpoint_ids": ["3", "5", "3"],
        "host_endpoint_id": "5",
    }
    base.update(values)
    items: list[tuple[str, str]] = []
    for key, value in base.items():
        items += [(key, str(v)) for v in value] if isinstance(value, list) else [(key, str(value))]
    return MultiDict(items)


def test_a_good_form_becomes_a_meeting_input_in_the_zone() -> None:
    bf = parse_booking_form(_form(repeat="weekly", weekdays=["MO"], count="10", pin=" 2468 "), HCM)
    assert bf.errors == {}
    data = bf.to_input()
    assert data.start == datetime(2026, 12, 7, 7, 30, tzinfo=HCM)
    assert (data.end - data.start).total_seconds() == 90 * 60
    assert data.endpoint_ids == [3, 5] and data.host_endpoint_id == 5
    assert data.rrule == "FREQ=WEEKLY;BYDAY=MO;COUNT=10" and data.timezone == "Asia/Ho_Chi_Minh"
    assert data.pin == "2468" and data.setup_minutes == 15


def test_every_bad_field_is_named() -> None:
    bf = parse_booking_form(
        _form(
            title="",
            date="2026/13/45",
            start_time="7 giờ",
            duration="3",
            setup_minutes="500",
            pin="12a4",
            endpoint_ids=[],
            host_endpoint_id="9",
            attendees="a@b.vn, xyz",
            repeat="weekly",
            skip_dates="32/12/2026",
        ),
        HCM,
    )
    assert set(bf.errors) == {
        "title",
        "date",
        "start_time",
        "duration",
        "setup_minutes",
        "pin",
        "endpoint_ids",
        "host_endpoint_id",
        "attendees",
        "skip_dates",
    }
    assert bf.errors["attendees"] == "Địa chỉ e-mail không hợp lệ: xyz"
    assert bf.get("title") == "" and bf.get("start_time") == "7 giờ"  # shown again as typed


def test_attendees_in_the_forms_people_write() -> None:
    pairs, bad = parse_attendees(
        'Nguyễn Văn An <an@ubnd.vn>; "Lê Thị B" <b@ubnd.vn>\nc@ubnd.vn,, @x.vn, d@nodot'
    )
    assert pairs == [("an@ubnd.vn", "Nguyễn Văn An"), ("b@ubnd.vn", "Lê Thị B"), ("c@ubnd.vn", "")]
    assert bad == ["@x.vn", "d@nodot"]


def test_dates_and_times_as_typed() -> None:
    assert parse_date("07/12/2026").isoformat() == "2026-12-07"
    assert parse_date("2026-12-07").isoformat() == "2026-12-07"
    assert parse_time("07:30").strftime("%H:%M") == "07:30"


def test_service_errors_land_on_form_fields_by_code_not_wording() -> None:
    out = service_errors(
        [
            FieldError.of("start", "in_past"),
            FieldError.of("attendees.1.email", "invalid_email"),
            FieldError.of("rrule", "beyond_horizon", days=365),
            FieldError.of("bridge_name", "unknown", value="x"),
        ]
    )
    assert out == {
        "date": "Thời gian này đã qua.",
        "attendees": "Địa chỉ e-mail không hợp lệ.",
        "repeat": "Chỉ nhận đặt lịch trong vòng 365 ngày tới.",
        "endpoint_ids": "Không có MCU tên “x”.",
    }


def test_the_form_uses_the_settings_duration_limit() -> None:
    """The form has no duration limit of its own: 20 hours pass when booking.max_duration_hours allows."""
    long = _form(duration=str(20 * 60))
    assert "duration" in parse_booking_form(long, HCM, Settings()).errors  # the default 12 h
    roomy = Settings().with_overrides(**{"booking.max_duration_hours": 24})
    assert parse_booking_form(long, HCM, roomy).errors == {}
    short = parse_booking_form(_form(duration="3"), HCM, roomy).errors
    assert short == {"duration": "Cuộc họp dài ít nhất 5 phút."}
