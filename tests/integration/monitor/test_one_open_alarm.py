"""One open alarm per key, whoever raises it: two raisers of the same dropped call at the same moment (the
launch engine and the monitor, or two schedulers during a bridge hand-over) leave one alarm on the console,
raised twice, not two alarms."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from confbridge import clock
from confbridge.alarms.models import Alarm
from confbridge.alarms.service import clear_alarm, raise_alarm
from tests.conftest import both_databases

KEY = "call_dropped:run=1:endpoint=3"


def _raise(session: Session) -> Alarm:
    return raise_alarm(session, "call_dropped", KEY, "alarm.call_dropped",
                       {"endpoint": "UBND huyện Giang Thành", "meeting": "Giao ban", "reason": "remote_hangup"})


def _open(factory: sessionmaker[Session]) -> list[Alarm]:
    with factory() as s:
        return list(s.scalars(select(Alarm).where(Alarm.key == KEY, Alarm.cleared_at.is_(None))))


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_two_raisers_at_once_leave_one_open_alarm(session_factory: sessionmaker[Session]) -> None:
    first = session_factory()
    _raise(first)  # inserted, not committed: the second raiser finds no open alarm and inserts too
    done: list[Alarm] = []

    def second() -> None:
        with session_factory() as s:
            done.append(_raise(s))  # waits on the unique index until the first commits, then refreshes it
            s.commit()

    thread = threading.Thread(target=second)
    thread.start()
    time.sleep(0.5)  # let the second raiser reach the index (ordering only; the outcome is asserted below)
    first.commit()
    first.close()
    thread.join(10)
    assert not thread.is_alive()
    alarms = _open(session_factory)
    assert len(alarms) == 1 and alarms[0].count == 2


@both_databases
def test_the_database_refuses_a_second_open_alarm_and_allows_one_after_clearing(
        session_factory: sessionmaker[Session]) -> None:
    with session_factory.begin() as s:
        _raise(s)
    with pytest.raises(IntegrityError), session_factory.begin() as s:
        now = clock.now()
        s.add(Alarm(key=KEY, kind="call_dropped", severity="major", message="-", code="alarm.call_dropped",
                    params={}, details={}, raised_at=now, last_seen_at=now, count=1))
    with session_factory.begin() as s:
        clear_alarm(s, KEY)
        _raise(s)  # a new drop after the alarm was cleared opens a new alarm
    with session_factory() as s:
        assert len(list(s.scalars(select(Alarm).where(Alarm.key == KEY)))) == 2
    assert len(_open(session_factory)) == 1
