"""Golden files: the exact iCalendar bytes e-mailed for a REQUEST, an update, a series, a single-occurrence
change, a single-occurrence cancellation and a series cancellation.

The clock is frozen, so DTSTAMP/LAST-MODIFIED are stable; the random UID is replaced by ``MEETING-UID``.
Every golden is also re-parsed by icalendar and by vobject.  Regenerate after an intended change with
``UPDATE_GOLDEN=1 pytest tests/integration/invites/test_golden.py`` and review the diff.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
import pytest
import vobject
from sqlalchemy.orm import Session, sessionmaker

from confbridge import clock
from confbridge.invites import hooks
from confbridge.invites.outbox import parse_raw
from confbridge.settings import Settings
from tests.integration.invites.conftest import Booker, calendar_part

GOLDEN = Path(__file__).parent / "golden"
HCM = ZoneInfo("Asia/Ho_Chi_Minh")
START = datetime(2026, 12, 7, 7, 30, tzinfo=HCM)
END = START + timedelta(hours=2)


def _latest_ics(booker: Booker, meeting_id: int) -> tuple[bytes, str]:
    row = booker.outbox(meeting_id)[-1]
    data, method = calendar_part(parse_raw(row.raw))
    uid = booker.meeting(meeting_id).uid
    return data.replace(uid.encode(), b"MEETING-UID"), method


def _compare(name: str, data: bytes, method: str) -> None:
    cal = icalendar.Calendar.from_ical(data)
    assert str(cal["METHOD"]) == method
    assert vobject.readOne(data.decode("utf-8")).method.value == method
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.write_bytes(data)
    assert path.exists(), f"missing golden {name}; run with UPDATE_GOLDEN=1"
    assert data == path.read_bytes(), f"{name} differs from its golden file"


@pytest.fixture
def at_start(frozen_clock: clock.FrozenClock, booker: Booker, settings: Settings) -> clock.FrozenClock:
    """Frozen time and mail settings spelled out here, so the goldens do not follow config edits."""
    hooks.install(settings.with_overrides(**{
        "mail.sender": "hoinghi@ubnd.example", "mail.helpdesk": "Sở TT&TT — 0297 3 000 000",
        "mail.dial_in": "sip:hoinghi@mcu.example", "mail.reminder_minutes": 15,
    }))
    return frozen_clock


def test_golden_request_and_update(booker: Booker, at_start: object) -> None:
    mid = booker.create(START, END, title="Giao ban tuần; báo cáo, tổng hợp")
    _compare("request.ics", *_latest_ics(booker, mid))
    booker.update(mid, start=START + timedelta(hours=1), end=END + timedelta(hours=1))
    _compare("update.ics", *_latest_ics(booker, mid))


def test_golden_series_change_and_cancellations(booker: Booker, at_start: object) -> None:
    mid = booker.create(START, END, rrule="FREQ=WEEKLY;BYDAY=MO;COUNT=5")
    _compare("series.ics", *_latest_ics(booker, mid))

    third = (START + timedelta(weeks=2)).astimezone(UTC)
    booker.move_occurrence(mid, third, third + timedelta(hours=2), third + timedelta(hours=4))
    _compare("occurrence_change.ics", *_latest_ics(booker, mid))

    fourth = (START + timedelta(weeks=3)).astimezone(UTC)
    booker.cancel_occurrence(mid, fourth)
    _compare("occurrence_cancel.ics", *_latest_ics(booker, mid))

    booker.cancel(mid)
    _compare("series_cancel.ics", *_latest_ics(booker, mid))


def test_goldens_are_used(session_factory: sessionmaker[Session]) -> None:
    """No stale golden lies around unchecked."""
    assert sorted(p.name for p in GOLDEN.glob("*.ics")) == sorted([
        "occurrence_cancel.ics", "occurrence_change.ics", "request.ics", "series.ics", "series_cancel.ics",
        "update.ics",
    ])
