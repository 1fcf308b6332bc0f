"""Property: the SQL conflict check agrees with a brute-force overlap oracle over random bookings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from confbridge.auth.models import User
from confbridge.booking import service
from confbridge.booking.validation import MeetingInput
from confbridge.db import make_engine, make_session_factory
from confbridge.errors import InvalidInput
from tests.factories import make_endpoints

BASE = datetime(2026, 12, 7, 0, 0, tzinfo=UTC)

booking = st.fixed_dictionaries({
    "day": st.integers(0, 6),
    "quarter": st.integers(0, 40),  # start in 15-minute steps from 00:00 UTC
    "quarters": st.integers(1, 12),
    "setup": st.sampled_from([0, 15, 30]),
    "endpoints": st.sets(st.integers(0, 3), min_size=1, max_size=3),
    "weekly": st.integers(0, 3),  # 0: one-off, n: n weekly occurrences more
})


def windows(b: dict) -> list[tuple[datetime, datetime]]:  # type: ignore[type-arg]
    start = BASE + timedelta(days=b["day"], minutes=15 * b["quarter"])
    end = start + timedelta(minutes=15 * b["quarters"])
    return [(start + timedelta(weeks=k) - timedelta(minutes=b["setup"]), end + timedelta(weeks=k))
            for k in range(b["weekly"] + 1)]


def overlaps(a: list[tuple[datetime, datetime]], b: list[tuple[datetime, datetime]]) -> bool:
    return any(s1 < e2 and s2 < e1 for s1, e1 in a for s2, e2 in b)


@hsettings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(booking, min_size=1, max_size=12))
def test_conflict_check_matches_oracle(tmp_path_factory, sqlite_template, settings, secretary,
                                       bookings) -> None:  # type: ignore[no-untyped-def]
    import shutil

    from confbridge import clock

    path = tmp_path_factory.mktemp("prop") / "db.sqlite"
    shutil.copy(sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")
    factory = make_session_factory(engine)
    accepted: list[tuple[set[int], list[tuple[datetime, datetime]]]] = []
    with clock.use_clock(clock.FrozenClock(BASE - timedelta(days=1))), factory() as session:
        # A plain row: hashing a password per example would dominate the run time.
        user = User(username="prop", role="secretary", password_hash="!", display_name="P")
        session.add(user)
        session.flush()
        eps = make_endpoints(session, 4)
        for b in bookings:
            start = BASE + timedelta(days=b["day"], minutes=15 * b["quarter"])
            data = MeetingInput(
                title="P", start=start, end=start + timedelta(minutes=15 * b["quarters"]),
                endpoint_ids=[eps[i] for i in sorted(b["endpoints"])], setup_minutes=b["setup"],
                rrule=f"FREQ=WEEKLY;COUNT={b['weekly'] + 1}" if b["weekly"] else None, timezone="UTC",
            )
            mine = windows(b)
            expected_conflict = any(b["endpoints"] & eps_ and overlaps(mine, ws) for eps_, ws in accepted)
            try:
                with session.begin_nested():
                    service.create_meeting(session, settings, user, data)
                refused = False
            except service.BookingConflict:
                refused = True
            except InvalidInput:
                continue
            assert refused == expected_conflict, (b, accepted)
            if not refused:
                accepted.append((set(b["endpoints"]), mine))
    engine.dispose()
