"""The availability grid's rows: the slot-range shortcut gives exactly the runs of a pass over every slot."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from confbridge.booking.conflicts import BusyInterval
from confbridge.ui.calendar_views import SLOT_MINUTES, Segment, _segments

DAY = datetime(2026, 12, 7, 6, 0, tzinfo=UTC)
SLOTS = 56  # 06:00–20:00 in 15-minute slots


def every_slot(intervals: list[Any], day_start: datetime, slots: int) -> list[Segment]:
    """The plain definition: every interval tested against every slot."""
    kinds = ["free"] * slots
    labels: list[tuple[str, int | None]] = [("", None)] * slots
    step = timedelta(minutes=SLOT_MINUTES)
    for b in intervals:
        for i in range(slots):
            s, e = day_start + i * step, day_start + (i + 1) * step
            if b.start < e and b.end > s:
                kinds[i], labels[i] = "busy", (b.meeting_title, b.meeting_id)
            elif b.window_start < e and b.start > s and kinds[i] == "free":
                kinds[i], labels[i] = "setup", (b.meeting_title, b.meeting_id)
    out: list[Segment] = []
    for i in range(slots):
        if out and out[-1].kind == kinds[i] and (out[-1].label, out[-1].meeting_id) == labels[i]:
            out[-1].span += 1
        else:
            out.append(Segment(kinds[i], 1, labels[i][0], labels[i][1], i))
    return out


@st.composite
def busy(draw: Any) -> BusyInterval:
    # Minutes from 04:00 the day before to the day after, setup 0–60 minutes, length 1–600 minutes.
    start = DAY + timedelta(minutes=draw(st.integers(-26 * 60, 16 * 60)))
    setup = timedelta(minutes=draw(st.integers(0, 60)))
    end = start + timedelta(minutes=draw(st.integers(1, 600)))
    meeting = draw(st.integers(1, 4))
    return BusyInterval(1, start - setup, start, end, meeting, f"Họp {meeting}", start)


@settings(max_examples=300, deadline=None)
@given(st.lists(busy(), max_size=8))
def test_rows_equal_the_every_slot_definition(intervals: list[BusyInterval]) -> None:
    assert _segments(intervals, DAY, SLOTS) == every_slot(intervals, DAY, SLOTS)


def test_a_meeting_with_setup_inside_the_day() -> None:
    start = DAY + timedelta(hours=2)  # 08:00, 15 minutes of setup, until 09:00
    row = _segments([BusyInterval(1, start - timedelta(minutes=15), start, start + timedelta(hours=1), 7,
                                  "Giao ban", start)], DAY, SLOTS)
    assert [(s.kind, s.span, s.start_col) for s in row] == [("free", 7, 0), ("setup", 1, 7), ("busy", 4, 8),
                                                            ("free", 44, 12)]
