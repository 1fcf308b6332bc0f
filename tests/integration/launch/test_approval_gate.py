"""A meeting waiting for approval holds its slots but is never launched: at its setup time the emulator
sees nothing and an ``approval_overdue`` alarm is raised (in the reader's language); once approved it
launches on the next tick and the alarm clears (stepped clock, real emulator)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select, update

from confbridge.alarms.models import Alarm
from confbridge.auth.models import User
from confbridge.auth.service import create_user
from confbridge.booking import decisions
from confbridge.booking.models import Meeting
from confbridge.launch.models import ConferenceRun, RunState
from confbridge.launch.preflight_models import PreflightRun
from confbridge.notices import render
from tests.conftest import both_databases
from tests.integration.launch.helpers import book, drive, engine_for, make_endpoints, run_for


def _alarms(factory: Any) -> list[Alarm]:
    with factory() as s:
        return list(s.scalars(select(Alarm).where(Alarm.kind == "approval_overdue")))


@both_databases
def test_pending_meeting_is_not_launched_and_raises_approval_overdue(
        settings: Any, session_factory: Any, frozen_clock: Any, mcu_emulator: Any) -> None:
    fc = frozen_clock
    eps = make_endpoints(session_factory, 2)
    start = fc.now() + timedelta(minutes=20)
    meeting_id, occ_id = book(session_factory, start, minutes=30, setup=10, endpoints=eps, title="Hội nghị tỉnh")
    with session_factory.begin() as s:
        s.execute(update(Meeting).where(Meeting.id == meeting_id).values(approval="pending"))
        approver_id = create_user(s, "sotttt", "pw-approver-1234567", "approver").id
    settings, engine = engine_for(settings.with_overrides(**{"launch.preflight_minutes": 15}), session_factory,
                                  mcu_emulator.bridge_settings())
    try:
        engine.tick(wait=True)
        with session_factory() as s:
            assert s.scalars(select(ConferenceRun)).all() == []
            assert s.scalars(select(PreflightRun)).all() == []  # no trial call either
        assert _alarms(session_factory) == []  # not yet its setup time

        fc.set(start - timedelta(minutes=10))  # the setup time
        engine.tick(wait=True)
        fc.advance(timedelta(seconds=30))
        engine.tick(wait=True)
        assert mcu_emulator.state()["conferences"] == [] and mcu_emulator.calls() == []
        with session_factory() as s:
            assert s.scalars(select(ConferenceRun)).all() == []
        (alarm,) = _alarms(session_factory)  # raised once, refreshed, not duplicated
        assert alarm.cleared_at is None and alarm.meeting_id == meeting_id
        assert render(alarm.code, alarm.params, "en") == (
            "Meeting «Hội nghị tỉnh» is still waiting for approval at 07:10 30/11/2026 (its setup time): not launched")
        assert "vẫn chờ phê duyệt" in render(alarm.code, alarm.params, "vi")

        with session_factory.begin() as s:
            approver = s.get(User, approver_id)
            assert approver is not None
            decisions.approve(s, settings, approver, s.get(Meeting, meeting_id))  # type: ignore[arg-type]
        drive(engine, fc, lambda: run_for(session_factory, occ_id).state == RunState.LIVE)
        assert [c["name"] for c in mcu_emulator.state()["conferences"]] == [run_for(session_factory, occ_id)
                                                                             .conference_name]
        (alarm,) = _alarms(session_factory)
        assert alarm.cleared_at is not None
    finally:
        engine.close()
