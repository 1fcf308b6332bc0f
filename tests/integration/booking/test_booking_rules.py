"""Booking rules enforced by the service layer, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from confbridge.auth.models import User
from confbridge.booking import service
from confbridge.booking.models import EndpointSlot, Meeting, Occurrence
from confbridge.booking.validation import MeetingInput
from confbridge.errors import Forbidden, InvalidInput
from tests.conftest import both_databases
from tests.factories import book, make_endpoints

HCM = ZoneInfo("Asia/Ho_Chi_Minh")


def at(day: int, hour: int, minute: int = 0, month: int = 12) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=HCM)


@pytest.fixture
def user(session, secretary) -> User:  # type: ignore[no-untyped-def]
    return session.get(User, secretary.id)


@both_databases
def test_overlapping_setup_window_is_refused_and_named(session, settings, user, frozen_clock) -> None:
    eps = make_endpoints(session, 3)
    book(session, settings, user, title="Giao ban tuần", start=at(7, 7, 30), end=at(7, 9),
         endpoint_ids=eps[:2], setup_minutes=15)
    session.commit()
    # Starts at 09:10 with 15 minutes of setup: window 08:55–… overlaps 07:15–09:00 on eps[1].
    with pytest.raises(service.BookingConflict) as info:
        book(session, settings, user, title="Họp khẩn", start=at(7, 9, 10), end=at(7, 10),
             endpoint_ids=[eps[1], eps[2]], setup_minutes=15)
    conflicts = info.value.conflicts
    assert [(c.endpoint_id, c.meeting_title) for c in conflicts] == [(eps[1], "Giao ban tuần")]
    assert "UBND huyện 002 is booked 07:15–09:00 on 07/12/2026 (Monday) by “Giao ban tuần”" in info.value.message
    assert info.value.text("vi") == ("UBND huyện 002 đã có lịch 07:15–09:00 ngày 07/12/2026 (Thứ Hai) "
                                     "của cuộc họp “Giao ban tuần”")
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Meeting)) == 1


@both_databases
def test_back_to_back_windows_do_not_conflict(session, settings, user, frozen_clock) -> None:
    eps = make_endpoints(session, 1)
    book(session, settings, user, start=at(7, 8), end=at(7, 9), endpoint_ids=eps, setup_minutes=0)
    book(session, settings, user, title="Tiếp", start=at(7, 9, 15), end=at(7, 10), endpoint_ids=eps,
         setup_minutes=15)
    session.commit()
    assert session.scalar(select(func.count()).select_from(EndpointSlot)) == 2


@both_databases
def test_series_conflict_names_every_conflicting_occurrence(session, settings, user, frozen_clock) -> None:
    eps = make_endpoints(session, 2)
    book(session, settings, user, title="Giao ban thứ Hai", start=at(7, 7, 30), end=at(7, 9),
         endpoint_ids=eps, rrule="FREQ=WEEKLY;BYDAY=MO;COUNT=4", setup_minutes=15)
    session.commit()
    with pytest.raises(service.BookingConflict) as info:
        book(session, settings, user, title="Họp", start=at(1, 8), end=at(1, 8, 30), endpoint_ids=eps,
             rrule="FREQ=DAILY;COUNT=40", setup_minutes=0)
    # 4 Mondays x 2 endpoints, each named once.
    found = {(c.endpoint_id, c.occurrence_start) for c in info.value.conflicts}
    mondays = [at(7 + 7 * i, 7, 30).astimezone(UTC) if 7 + 7 * i <= 31 else
               at(7 + 7 * i - 31, 7, 30, month=1).replace(year=2027).astimezone(UTC) for i in range(4)]
    assert found == {(e, m) for e in eps for m in mondays}
    assert len(info.value.conflicts) == 8


def test_limits_duration_horizon_occurrences(session, settings, user, frozen_clock) -> None:
    eps = make_endpoints(session, 1)
    with pytest.raises(InvalidInput) as info:
        book(session, settings, user, start=at(7, 7), end=at(7, 20, 1), endpoint_ids=eps)
    assert "end" in info.value.fields
    with pytest.raises(InvalidInput) as info:
        book(session, settings, user, start=at(7, 7), end=at(7, 8), endpoint_ids=eps,
             rrule="FREQ=DAILY;COUNT=401")
    assert "400 occurrences" in info.value.fields["rrule"]
    far = frozen_clock.now() + timedelta(days=366)
    with pytest.raises(InvalidInput) as info:
        book(session, settings, user, start=far, end=far + timedelta(hours=1), endpoint_ids=eps)
    assert "365 days" in info.value.fields["start"]
    with pytest.raises(InvalidInput) as info:
        book(session, settings, user, start=at(7, 7), end=at(7, 8), endpoint_ids=eps, rrule="FREQ=WEEKLY")
    assert "UNTIL" in info.value.fields["rrule"]


@both_databases
def test_bridge_capacity_counts_concurrent_ports(session, settings, user, frozen_clock) -> None:
    settings = settings.with_overrides(bridges=[{"name": "mcu1", "video_ports": 5, "url": "http://127.0.0.1:1/RPC2"}])
    eps = make_endpoints(session, 9)
    book(session, settings, user, title="A", start=at(7, 8), end=at(7, 9), endpoint_ids=eps[:3], setup_minutes=0)
    book(session, settings, user, title="B", start=at(7, 9), end=at(7, 10), endpoint_ids=eps[3:6], setup_minutes=0)
    with pytest.raises(service.BookingConflict) as info:
        book(session, settings, user, title="C", start=at(7, 8, 30), end=at(7, 9, 30),
             endpoint_ids=eps[6:9], setup_minutes=0)
    assert info.value.conflicts == []
    problem = info.value.capacity[0]
    assert (problem.in_use, problem.requested, problem.ports) == (3, 3, 5)
    # Two ports fit beside meeting A alone.
    book(session, settings, user, title="D", start=at(7, 8), end=at(7, 8, 45), endpoint_ids=eps[6:8],
         setup_minutes=0)


def test_no_bridge_configured_still_books(session, settings, user, frozen_clock) -> None:
    eps = make_endpoints(session, 2)
    meeting = book(session, settings, user, start=at(7, 8), end=at(7, 9), endpoint_ids=eps)
    assert meeting.bridge_name is None and len(meeting.occurrences) == 1


def test_recurrence_keeps_local_wall_time_across_dst(session, settings, user, frozen_clock) -> None:
    berlin = ZoneInfo("Europe/Berlin")
    eps = make_endpoints(session, 1)
    start = datetime(2027, 3, 15, 7, 30, tzinfo=berlin)  # winter time, UTC+1
    meeting = book(session, settings, user, start=start, end=start + timedelta(hours=1), endpoint_ids=eps,
                   timezone="Europe/Berlin", rrule="FREQ=WEEKLY;BYDAY=MO;COUNT=4")
    local = [o.start.astimezone(berlin) for o in meeting.occurrences]
    assert [(d.hour, d.minute) for d in local] == [(7, 30)] * 4
    assert [o.start.astimezone(UTC).hour for o in meeting.occurrences] == [6, 6, 5, 5]  # DST on 28 March


def test_vietnam_has_no_dst(session, settings, user, frozen_clock) -> None:
    eps = make_endpoints(session, 1)
    meeting = book(session, settings, user, start=at(7, 7, 30), end=at(7, 9), endpoint_ids=eps,
                   rrule="FREQ=WEEKLY;BYDAY=MO;UNTIL=20270401")
    assert {o.start.astimezone(UTC).strftime("%H:%M") for o in meeting.occurrences} == {"00:30"}
    assert meeting.occurrences[-1].start.astimezone(HCM).date().isoformat() == "2027-03-29"


@both_databases
def test_edit_one_occurrence_then_following_then_series(session, settings, user, frozen_clock) -> None:
    eps = make_endpoints(session, 2)
    meeting = book(session, settings, user, start=at(7, 7, 30), end=at(7, 9), endpoint_ids=eps,
                   rrule="FREQ=WEEKLY;BYDAY=MO;COUNT=6")
    second = meeting.occurrences[1].original_start
    service.update_occurrence(session, settings, meeting.organiser, meeting, second,
                              service.OccurrenceChange(start=at(15, 14), end=at(15, 15)))
    moved = service.get_occurrence(meeting, second)
    assert moved.overridden and moved.start == at(15, 14).astimezone(UTC)
    assert sorted(s.window_start for s in moved.slots) == [at(15, 13, 45).astimezone(UTC)] * 2

    fourth = meeting.occurrences[3].original_start
    new = service.update_occurrence(session, settings, meeting.organiser, meeting, fourth,
                                    service.OccurrenceChange(start=at(28, 8), end=at(28, 9, 30)), "following")
    assert new.id != meeting.id and new.parent_id == meeting.id and new.uid != meeting.uid
    old_planned = [o for o in meeting.occurrences if o.status == "planned"]
    assert len(old_planned) == 3
    assert [o.start.astimezone(HCM).strftime("%d/%m %H:%M") for o in new.occurrences] == [
        "28/12 08:00", "04/01 08:00", "11/01 08:00"]
    # The split series keeps the same total and every slot once.
    slots = session.scalar(select(func.count()).select_from(EndpointSlot))
    assert slots == 2 * 6

    service.update_meeting(session, settings, meeting.organiser, new, {"title": "Giao ban (mới)"})
    assert new.title == "Giao ban (mới)" and new.sequence == 0  # a title is not a significant change
    service.update_meeting(session, settings, meeting.organiser, new, {"endpoint_ids": eps[:1]})
    assert new.sequence == 1
    assert session.scalar(select(func.count()).select_from(EndpointSlot).where(
        EndpointSlot.meeting_id == new.id)) == 3


def test_cancel_one_occurrence_frees_it_and_adds_exdate(session, settings, user, frozen_clock) -> None:
    eps = make_endpoints(session, 1)
    meeting = book(session, settings, user, start=at(7, 7, 30), end=at(7, 9), endpoint_ids=eps,
                   rrule="FREQ=WEEKLY;COUNT=3")
    target = meeting.occurrences[1].original_start
    service.cancel_occurrence(session, settings, meeting.organiser, meeting, target)
    assert target.isoformat() in meeting.exdates
    assert service.get_occurrence(meeting, target).status == "cancelled"
    # The freed slot can be booked by someone else.
    book(session, settings, user, title="Khác", start=at(14, 7, 30), end=at(14, 9), endpoint_ids=eps)
    # Cancelling "this and following" from the first cancels the meeting.
    service.cancel_occurrence(session, settings, meeting.organiser, meeting, meeting.start, "following")
    assert meeting.status == "cancelled"
    assert session.scalar(select(func.count()).select_from(EndpointSlot).where(
        EndpointSlot.meeting_id == meeting.id)) == 0


def test_cancel_meeting_keeps_record_and_frees_slots(session, settings, user, frozen_clock) -> None:
    eps = make_endpoints(session, 1)
    meeting = book(session, settings, user, start=at(7, 7, 30), end=at(7, 9), endpoint_ids=eps)
    seq = meeting.sequence
    service.cancel_meeting(session, settings, meeting.organiser, meeting)
    assert meeting.status == "cancelled" and meeting.sequence == seq + 1
    assert all(o.status == "cancelled" for o in meeting.occurrences)
    book(session, settings, user, start=at(7, 7, 30), end=at(7, 9), endpoint_ids=eps)


def test_only_organiser_or_admin_may_edit(session, settings, user, make_user, frozen_clock) -> None:
    eps = make_endpoints(session, 1)
    meeting = book(session, settings, user, start=at(7, 7, 30), end=at(7, 9), endpoint_ids=eps)
    session.commit()  # SQLite: release the write lock before other sessions create users
    ids = [make_user(role).id for role in ("secretary", "technician", "admin")]
    other, tech, admin = (session.get(User, i) for i in ids)
    with pytest.raises(Forbidden):
        service.update_meeting(session, settings, other, meeting, {"title": "x"})
    with pytest.raises(Forbidden):
        service.create_meeting(session, settings, tech, MeetingInput("x", at(8, 7), at(8, 8), eps))
    service.update_meeting(session, settings, admin, meeting, {"title": "Đổi tên"})


def test_invalid_input_names_fields(session, settings, user, frozen_clock) -> None:
    make_endpoints(session, 1)
    with pytest.raises(InvalidInput) as info:
        service.create_meeting(session, settings, user, MeetingInput(
            title="Họp\r\nBcc: x@evil.example", start=at(7, 8), end=at(7, 7), endpoint_ids=[],
            timezone="Mars/Base", pin="12ab", rrule="FREQ=SECONDLY;COUNT=2",
        ))
    assert set(info.value.fields) >= {"title", "end", "endpoint_ids", "timezone", "pin", "rrule"}
    assert session.scalar(select(func.count()).select_from(Occurrence)) == 0


def test_start_must_be_an_occurrence_of_the_rule(session, settings, user, frozen_clock) -> None:
    eps = make_endpoints(session, 1)
    with pytest.raises(InvalidInput) as info:  # 01/12/2026 is a Tuesday
        book(session, settings, user, start=at(1, 8), end=at(1, 9), endpoint_ids=eps,
             rrule="FREQ=MONTHLY;BYDAY=1MO;COUNT=3")
    assert "occurrence of the recurrence rule" in info.value.fields["start"]
