"""Dial-in numbers: each meeting gets the MCU ``numericId`` participants dial, unique among the
conferences that overlap any of its occurrences (setup window included), from ``booking.dial_in_range``.

A series keeps one number for all its occurrences (what people learn and print).  The number is kept
across edits while it stays free; a move onto a meeting holding the same number gives this meeting the
lowest free one.  Allocation runs inside the booking lock (``service.lock_bookings``), so two bookings
cannot take the same number.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from confbridge import limits
from confbridge.booking.models import Meeting, MeetingStatus, Occurrence, OccurrenceStatus
from confbridge.errors import Conflict
from confbridge.settings import BookingSettings


class NoFreeDialIn(Conflict):
    """Every number of ``booking.dial_in_range`` is held by an overlapping conference."""


def uri_for(number: str, domain: str) -> str | None:
    """``sip:<number>@<domain>``, or None without a configured domain."""
    return f"sip:{number}@{domain}" if domain else None


def _windows(meeting: Meeting, now: datetime) -> list[tuple[datetime, datetime]]:
    return sorted(
        (o.window_start, o.effective_end) for o in meeting.occurrences
        if o.status == OccurrenceStatus.PLANNED and o.effective_end > now
    )


def numbers_in_use(session: Session, meeting: Meeting, now: datetime) -> set[str]:
    """Numbers held by other planned meetings with an occurrence overlapping one of *meeting*'s."""
    windows = _windows(meeting, now)
    if not windows:
        return set()
    low, high = windows[0][0], max(end for _, end in windows)
    margin = timedelta(minutes=limits.MAX_SETUP_MINUTES + limits.MAX_EXTEND_MINUTES * 4)
    rows = session.execute(
        select(Meeting.dial_in_number, Occurrence)
        .join(Occurrence, Occurrence.meeting_id == Meeting.id)
        .where(
            Meeting.id != meeting.id, Meeting.status == MeetingStatus.PLANNED,
            Meeting.dial_in_number.is_not(None), Occurrence.status == OccurrenceStatus.PLANNED,
            Occurrence.start < high + margin, Occurrence.end > low - margin,
        )
    ).all()
    used: set[str] = set()
    for number, occ in rows:
        if number in used:
            continue
        start, end = occ.window_start, occ.effective_end
        if any(start < w_end and w_start < end for w_start, w_end in windows):
            used.add(number)
    return used


def assign(session: Session, settings: BookingSettings, meeting: Meeting, now: datetime) -> None:
    """Give *meeting* a dial-in number free over all its future occurrences (keep the current one if it
    still is); raise :class:`NoFreeDialIn` when the range is exhausted over that time."""
    if meeting.status != MeetingStatus.PLANNED:
        return
    used = numbers_in_use(session, meeting, now)
    width = settings.dial_in_width
    number = meeting.dial_in_number
    in_range = number is not None and number.isdigit() and len(number) == width \
        and int(number) in settings.dial_in_numbers
    if number is None or not in_range or number in used:
        number = next((f"{n:0{width}d}" for n in settings.dial_in_numbers if f"{n:0{width}d}" not in used), None)
        if number is None:
            raise NoFreeDialIn(
                f"no free dial-in number in {settings.dial_in_range}: every one is held by an overlapping "
                "conference", field="dial_in", range=settings.dial_in_range)
    meeting.dial_in_number = number
    meeting.dial_in_uri = uri_for(number, settings.dial_in_domain)
