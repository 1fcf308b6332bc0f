"""The booking form end to end through the pages: book, see conflicts in words, use the proposed slot,
edit and cancel occurrences, and the permission and escaping rules that go with them."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import func, select

from confbridge import clock
from confbridge.booking.models import Meeting, Occurrence
from tests.conftest import both_databases
from tests.integration.ui.conftest import booking_form

pytestmark = pytest.mark.usefixtures("frozen_clock")


def _meeting_id(response: Any) -> int:
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    match = re.fullmatch(r"/meetings/(\d+)", response.headers["Location"])
    assert match, response.headers["Location"]
    return int(match.group(1))


def test_secretary_books_a_weekly_briefing_across_15_endpoints(
    browser_for: Any,
    secretary: Any,
    demo_endpoints: dict[str, int],
    session_factory: Any,
) -> None:
    ids = list(demo_endpoints.values())[:15]
    b = browser_for(secretary)
    check = b.post("/bookings/new", booking_form(ids, action="check"))
    page = check.get_data(as_text=True)
    assert check.status_code == 200
    assert "Không trùng lịch: tất cả điểm cầu đều trống." in page
    assert "Hằng tuần vào Thứ Hai lúc 07:30, 10 buổi" in page
    assert "Thứ Hai, 07/12/2026 07:30" in page and "Thứ Hai, 14/12/2026 07:30" in page
    draft = page.split('id="invite-draft"')[1].split("</details>")[0]
    assert (
        "[Mời họp / Invitation] Giao ban tuần" in draft and "Kính mời tham dự hội nghị truyền hình" in draft
    )
    assert "Hội trường UBND tỉnh — TP Rạch Giá (điểm cầu chính / host)" in draft
    with session_factory() as s:
        assert s.scalar(select(func.count()).select_from(Meeting)) == 0  # checking saves nothing

    meeting_id = _meeting_id(b.post("/bookings/new", booking_form(ids)))
    page = b.get(f"/meetings/{meeting_id}").get_data(as_text=True)
    # 10 Mondays from 07/12/2026 by the rule; the third day of Tết (08/02/2027) is skipped (booking.holidays).
    assert "Đã lưu lịch “Giao ban tuần” (9 buổi)." in page
    assert "Điểm cầu (15)" in page and "Người được mời (2)" in page
    assert "Nguyễn Văn An — an.nv@kiengiang.example" in page
    assert "Thư mời người tham dự nhận được" in page and "Hằng tuần vào Thứ Hai lúc 07:30, 10 buổi" in page
    with session_factory() as s:
        meeting = s.get(Meeting, meeting_id)
        assert meeting.rrule == "FREQ=WEEKLY;BYDAY=MO;COUNT=10"
        assert len(meeting.endpoints) == 15 and meeting.timezone == "Asia/Ho_Chi_Minh"
        assert meeting.start.isoformat() == "2026-12-07T00:30:00+00:00"  # 07:30 in Hà Nội


@both_databases
def test_overlap_is_shown_in_words_with_the_next_free_slot_and_not_saved(
    browser_for: Any,
    secretary: Any,
    demo_endpoints: dict[str, int],
    session_factory: Any,
) -> None:
    ids = list(demo_endpoints.values())
    b = browser_for(secretary)
    _meeting_id(b.post("/bookings/new", booking_form(ids[:15])))
    phu_quoc = demo_endpoints["UBND huyện Phú Quốc"]
    overlapping = booking_form(
        [phu_quoc, ids[16]],
        title="Họp khẩn về bão",
        start_time="08:00",
        duration="60",
        repeat="none",
        host_endpoint_id=str(phu_quoc),
    )
    response = b.post("/bookings/new", overlapping)
    page = response.get_data(as_text=True)
    assert response.status_code == 409
    assert (
        "UBND huyện Phú Quốc đã có lịch 07:15–09:00 ngày 07/12/2026 (Thứ Hai) của cuộc họp “Giao ban tuần”"
    ) in page
    # 09:00 end + 15 minutes of setup for the new meeting: 09:15 is the first start that fits.
    assert "Thứ Hai, 07/12/2026 09:15" in page
    with session_factory() as s:
        assert s.scalar(select(func.count()).select_from(Meeting)) == 1

    suggestion = re.search(r'name="suggest" value="([^"]+)"', page).group(1)
    moved = b.post("/bookings/new", {**overlapping, "action": "check", "suggest": suggestion})
    moved_page = moved.get_data(as_text=True)
    assert 'name="start_time" type="text"' in moved_page and 'value="09:15"' in moved_page
    assert "Không trùng lịch" in moved_page
    _meeting_id(b.post("/bookings/new", {**overlapping, "start_time": "09:15"}))


def test_live_check_json_gives_availability_preview_and_conflicts(
    browser_for: Any,
    secretary: Any,
    demo_endpoints: dict[str, int],
) -> None:
    ids = list(demo_endpoints.values())
    b = browser_for(secretary)
    _meeting_id(b.post("/bookings/new", booking_form(ids[:3])))
    form = booking_form(
        [ids[2], ids[3]], start_time="08:30", repeat="weekdays", count="3", host_endpoint_id=str(ids[2])
    )
    reply = b.client.post("/bookings/check.json", data=form, headers={"X-CSRFToken": b.csrf}).get_json()
    assert reply["checked"] is True
    assert reply["availability"][str(ids[2])] == "Giao ban tuần 07:15–09:00"
    assert reply["availability"][str(ids[3])] is None
    assert reply["preview"] == ["07/12/2026 08:30", "08/12/2026 08:30", "09/12/2026 08:30"]
    assert reply["rrule"] == "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;COUNT=3"
    assert len(reply["conflicts"]) == 1 and "Giao ban tuần" in reply["conflicts"][0]
    # Without the token a session-authenticated POST is refused.
    assert b.client.post("/bookings/check.json", data=form).status_code == 400


def test_form_errors_are_per_field_in_vietnamese(
    browser_for: Any, secretary: Any, demo_endpoints: dict[str, int]
) -> None:
    b = browser_for(secretary)
    bad = booking_form(
        [],
        title="  ",
        date="31/02/2026",
        start_time="25:00",
        pin="12",
        attendees="khong-phai-email",
        repeat="weekly",
        end_kind="until",
        until="",
    )
    response = b.post("/bookings/new", bad)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    for message in (
        "Nhập tên cuộc họp.",
        "Nhập ngày theo dạng dd/mm/yyyy.",
        "Chọn ít nhất một điểm cầu.",
        "Nhập giờ bắt đầu theo dạng 24 giờ, ví dụ 07:30.",
        "Mã PIN gồm 4 đến 16 chữ số.",
        "Địa chỉ e-mail không hợp lệ: khong-phai-email",
    ):
        assert message in page
    assert 'id="title" name="title"' in page and 'aria-invalid="true"' in page


def test_meeting_in_the_past_is_refused_with_a_field_message(
    browser_for: Any,
    secretary: Any,
    demo_endpoints: dict[str, int],
) -> None:
    ids = list(demo_endpoints.values())[:2]
    response = browser_for(secretary).post(
        "/bookings/new", booking_form(ids, date="20/11/2026", repeat="none")
    )
    assert response.status_code == 422
    assert "Thời gian này đã qua." in response.get_data(as_text=True)


def test_untrusted_title_is_escaped_everywhere(
    browser_for: Any, secretary: Any, demo_endpoints: dict[str, int]
) -> None:
    ids = list(demo_endpoints.values())[:2]
    b = browser_for(secretary)
    title = '<script>alert("x")</script> & <b>'
    meeting_id = _meeting_id(b.post("/bookings/new", booking_form(ids, title=title)))
    for url in (
        f"/meetings/{meeting_id}",
        "/calendar?date=2026-12-07",
        "/calendar?view=day&date=2026-12-07",
        "/availability?date=2026-12-07",
    ):
        page = b.get(url).get_data(as_text=True)
        assert "<script>alert" not in page and "&lt;script&gt;alert(" in page, url
    conflict = b.post("/bookings/new", booking_form(ids, repeat="none", action="check")).get_data(
        as_text=True
    )
    assert "<script>alert" not in conflict and "&lt;script&gt;" in conflict


def test_cancel_one_occurrence_names_who_is_notified(
    browser_for: Any,
    secretary: Any,
    demo_endpoints: dict[str, int],
    session_factory: Any,
) -> None:
    ids = list(demo_endpoints.values())[:15]
    b = browser_for(secretary)
    meeting_id = _meeting_id(b.post("/bookings/new", booking_form(ids)))
    page = b.get(f"/meetings/{meeting_id}").get_data(as_text=True)
    links = re.findall(rf"/meetings/{meeting_id}/occurrences/(\w+)/cancel", page)
    assert len(links) == 9  # the rule's 10 Mondays but the third day of Tết (08/02/2027)
    second = links[1]
    assert second == "20261214T003000Z"
    confirm = b.get(f"/meetings/{meeting_id}/occurrences/{second}/cancel").get_data(as_text=True)
    assert "Hủy buổi họp ngày 14/12/2026?" in confirm
    assert "Những người sau sẽ nhận thư báo hủy (2 người):" in confirm
    assert "an.nv@kiengiang.example" in confirm and "le.thi.b@kiengiang.example" in confirm
    done = b.post(f"/meetings/{meeting_id}/occurrences/{second}/cancel", {"scope": "this"})
    assert done.status_code == 302
    assert "Thư báo hủy sẽ được gửi tới 2 người được mời." in b.get(done.headers["Location"]).get_data(
        as_text=True
    )
    with session_factory() as s:
        statuses = [
            o.status
            for o in s.scalars(
                select(Occurrence)
                .where(Occurrence.meeting_id == meeting_id)
                .order_by(Occurrence.original_start)
            )
        ]
    assert statuses[1] == "cancelled" and statuses.count("planned") == 8
    # The freed Monday can be booked by someone else on the same endpoints.
    _meeting_id(
        b.post("/bookings/new", booking_form(ids[:2], title="Họp thay thế", date="14/12/2026", repeat="none"))
    )


def test_move_one_occurrence_and_this_and_following(
    browser_for: Any,
    secretary: Any,
    demo_endpoints: dict[str, int],
    session_factory: Any,
) -> None:
    ids = list(demo_endpoints.values())[:4]
    b = browser_for(secretary)
    meeting_id = _meeting_id(b.post("/bookings/new", booking_form(ids)))
    url = f"/meetings/{meeting_id}/occurrences/20261214T003000Z/edit"
    assert 'value="14/12/2026"' in b.get(url).get_data(as_text=True)
    moved = b.post(url, {"date": "15/12/2026", "start_time": "14:00", "duration": "60", "scope": "this"})
    assert moved.status_code == 302
    with session_factory() as s:
        occ = s.scalar(
            select(Occurrence)
            .where(Occurrence.meeting_id == meeting_id)
            .order_by(Occurrence.original_start)
            .offset(1)
        )
        assert occ.start.isoformat() == "2026-12-15T07:00:00+00:00" and occ.overridden
    following = b.post(
        f"/meetings/{meeting_id}/occurrences/20261228T003000Z/edit",
        {"date": "28/12/2026", "start_time": "08:00", "duration": "90", "scope": "following"},
    )
    assert following.status_code == 302
    new_id = int(following.headers["Location"].rsplit("/", 1)[1])
    assert new_id != meeting_id
    with session_factory() as s:
        assert s.get(Meeting, new_id).parent_id == meeting_id
    bad = b.post(
        url.replace("20261214", "20261221"), {"date": "21/12/2026", "start_time": "7h", "duration": "60"}
    )
    assert bad.status_code == 422 and "Nhập giờ bắt đầu theo dạng 24 giờ" in bad.get_data(as_text=True)


def test_edit_whole_series_prefills_the_recurrence_builder(
    browser_for: Any,
    secretary: Any,
    demo_endpoints: dict[str, int],
    session_factory: Any,
) -> None:
    ids = list(demo_endpoints.values())[:3]
    b = browser_for(secretary)
    meeting_id = _meeting_id(b.post("/bookings/new", booking_form(ids, skip_dates="21/12/2026")))
    page = b.get(f"/meetings/{meeting_id}/edit").get_data(as_text=True)
    assert 'value="weekly" checked' in page and 'value="MO" checked' in page
    assert 'value="21/12/2026"' in page and 'value="Giao ban tuần"' in page
    form = booking_form(ids, title="Giao ban tuần (mới)", start_time="08:00", skip_dates="21/12/2026")
    saved = b.post(f"/meetings/{meeting_id}/edit", {**form, "meeting_id": str(meeting_id)})
    assert saved.status_code == 302
    with session_factory() as s:
        meeting = s.get(Meeting, meeting_id)
        assert meeting.title == "Giao ban tuần (mới)"
        assert meeting.start.isoformat() == "2026-12-07T01:00:00+00:00"
        # The person's skip date, and the third day of Tết the rule skips by itself (booking.holidays).
        assert meeting.exdates == ["2026-12-21T01:00:00+00:00", "2027-02-08T01:00:00+00:00"]


def test_only_the_organiser_or_an_admin_may_change_a_meeting(
    browser_for: Any,
    secretary: Any,
    make_user: Any,
    admin: Any,
    demo_endpoints: dict[str, int],
) -> None:
    ids = list(demo_endpoints.values())[:2]
    meeting_id = _meeting_id(browser_for(secretary).post("/bookings/new", booking_form(ids)))
    other = browser_for(make_user("secretary", "thuky2"))
    assert other.get(f"/meetings/{meeting_id}").status_code == 200  # everyone signed in may look
    assert other.get(f"/meetings/{meeting_id}/edit").status_code == 403
    assert other.post(f"/meetings/{meeting_id}/cancel").status_code == 403
    assert other.post(f"/meetings/{meeting_id}/occurrences/20261207T003000Z/cancel").status_code == 403
    boss = browser_for(admin)
    assert boss.get(f"/meetings/{meeting_id}/edit").status_code == 200
    assert boss.post(f"/meetings/{meeting_id}/cancel").status_code == 302
    assert "Đã hủy" in boss.get(f"/meetings/{meeting_id}").get_data(as_text=True)


def test_unknown_meeting_and_occurrence_give_a_404_page(browser_for: Any, secretary: Any) -> None:
    b = browser_for(secretary)
    missing = b.get("/meetings/999")
    assert missing.status_code == 404
    assert "Không có cuộc họp số 999." in missing.get_data(as_text=True)
    occurrence = b.get("/meetings/999/occurrences/20261207T003000Z/cancel")
    assert occurrence.status_code == 404
    nowhere = b.get("/khong-co-trang-nay")
    assert nowhere.status_code == 404 and "Không có trang này." in nowhere.get_data(as_text=True)
    assert b.client.get("/api/v1/khong-co").get_json()["error"] == "not_found"  # the API keeps JSON


def test_english_interface_books_the_same_way(
    browser_for: Any, secretary: Any, demo_endpoints: dict[str, int]
) -> None:
    b = browser_for(secretary)
    b.post("/language", {"locale": "en"})
    ids = list(demo_endpoints.values())[:2]
    page = b.post("/bookings/new", booking_form(ids, action="check")).get_data(as_text=True)
    assert "No conflicts: every endpoint is free." in page
    assert "Every week on Monday at 07:30, 10 occurrences" in page
    assert "Monday, 07/12/2026 07:30" in page


def test_clock_is_the_frozen_one(frozen_clock: clock.FrozenClock) -> None:
    assert clock.now().isoformat() == "2026-11-30T00:00:00+00:00"
