"""Pre-flight test calls against the MCU emulator: REST request, results per endpoint, alarms, teardown,
the automatic trigger ``[launch] preflight_minutes`` before the setup time, and the readiness board."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import quote

from sqlalchemy import select

from confbridge.alarms.models import Alarm
from confbridge.app import create_app
from confbridge.directory.models import Endpoint
from confbridge.launch.models import LegState
from confbridge.launch.preflight_models import PreflightPhase, PreflightRun
from tests.conftest import both_databases
from tests.integration.launch.helpers import book, drive, engine_for, legs, make_endpoints, run_for


def _address(factory: Any, endpoint_id: int) -> str:
    with factory() as s:
        ep = s.get(Endpoint, endpoint_id)
        assert ep is not None
        return ep.address


def _preflights(factory: Any) -> list[PreflightRun]:
    with factory() as s:
        rows = list(s.scalars(select(PreflightRun).order_by(PreflightRun.id)))
        for r in rows:
            _ = r.results
        return rows


def _done(factory: Any) -> bool:
    rows = _preflights(factory)
    return bool(rows) and all(r.phase == PreflightPhase.DONE for r in rows)


@both_databases
def test_requested_preflight_records_each_endpoint_and_tears_the_test_conference_down(
        settings: Any, engine: Any, session_factory: Any, frozen_clock: Any, mcu_emulator: Any,
        technician: Any, secretary: Any) -> None:
    fc = frozen_clock
    eps = make_endpoints(session_factory, 5)
    ready_a, ready_b, busy, silent, in_use = eps
    mcu_emulator.set_endpoint(_address(session_factory, busy), "busy", answer_delay=0.05)
    mcu_emulator.set_endpoint(_address(session_factory, silent), "no_answer", answer_delay=0.05)
    # *in_use* is live in another conference right now: the trial must not disturb it.
    _other, other_occ = book(session_factory, fc.now() + timedelta(minutes=1), minutes=60, setup=1,
                             endpoints=[in_use])
    start = fc.now() + timedelta(hours=2)
    meeting_id, _occ = book(session_factory, start, minutes=60, setup=30, endpoints=eps)
    s2, launch = engine_for(settings, session_factory, mcu_emulator.bridge_settings(),
                            launch={"preflight_answer_seconds": 20})
    try:
        drive(launch, fc, lambda: all(leg.state == LegState.CONNECTED for leg in
                                      legs(session_factory, run_for(session_factory, other_occ).id)))
        client = create_app(s2, engine=engine, testing=True).test_client()
        path = f"/api/v1/meetings/{meeting_id}/occurrences/{quote(start.isoformat())}/preflight"
        assert client.get(path, headers=technician.headers).status_code == 404
        assert client.post(path, headers=secretary.headers).status_code == 403
        answer = client.post(path, headers=technician.headers)
        assert answer.status_code == 202, answer.get_json()
        body = answer.get_json()
        assert body["phase"] == "pending" and body["total"] == 5
        # Asking again while it runs returns the same pre-flight, not a second one.
        again = client.post(path, headers=technician.headers)
        assert again.status_code == 200 and again.get_json()["id"] == body["id"]

        drive(launch, fc, lambda: _done(session_factory), max_steps=40)
        result = client.get(path, headers=technician.headers).get_json()
        by_endpoint = {r["endpoint_id"]: r for r in result["results"]}
        assert by_endpoint[ready_a]["status"] == by_endpoint[ready_b]["status"] == "ready"
        assert (by_endpoint[busy]["status"], by_endpoint[busy]["reason"]) == ("failed", "busy")
        assert (by_endpoint[silent]["status"], by_endpoint[silent]["reason"]) == ("failed", "no_answer")
        assert (by_endpoint[in_use]["status"], by_endpoint[in_use]["reason"]) == ("skipped", "in_conference")
        assert all(r["at"] for r in result["results"])
        assert result["ready"] == 2 and result["total"] == 5
        assert result["phase"] == "done" and result["torn_down_at"]

        # The test conference is gone; the live one is untouched; the in-use endpoint was never dialled.
        names = [c["name"] for c in mcu_emulator.state()["conferences"]]
        assert result["conference_name"] not in names
        assert run_for(session_factory, other_occ).conference_name in names
        test_dials = [c for c in mcu_emulator.calls() if c.get("conference") == result["conference_name"]]
        assert sorted(c["participant"] for c in test_dials) == sorted(
            f"cb-ep-{e}" for e in (ready_a, ready_b, busy, silent))

        with session_factory() as s:
            alarms = {a.endpoint_id: a for a in s.scalars(select(Alarm).where(Alarm.kind == "preflight_failed"))}
        assert set(alarms) == {busy, silent}
        assert alarms[busy].meeting_id == meeting_id and alarms[busy].cleared_at is None

        # The alarm is a notice code, read in the reader's language.
        listed = client.get("/api/v1/alarms", headers={**technician.headers, "Accept-Language": "en"}).get_json()
        items = listed["alarms"]
        english = next(a for a in items if a["kind"] == "preflight_failed" and a["endpoint_id"] == busy)
        assert english["code"] == "alarm.preflight_failed"
        assert "is not ready (busy)" in english["message"]

        board = client.get("/api/v1/preflight/board", headers=technician.headers).get_json()
        row = next(r for r in board if r["meeting_id"] == meeting_id)
        assert (row["preflight"]["ready"], row["preflight"]["total"]) == (2, 5)

        # A later tick does nothing more: destroyed exactly once, no re-dial.
        dials = len(mcu_emulator.calls())
        launch.tick(wait=True)
        assert len(mcu_emulator.calls()) == dials
        assert [p.phase for p in _preflights(session_factory)] == ["done"]
    finally:
        launch.close()


def test_automatic_preflight_runs_preflight_minutes_before_the_setup_time(
        settings: Any, session_factory: Any, frozen_clock: Any, mcu_emulator: Any) -> None:
    fc = frozen_clock
    eps = make_endpoints(session_factory, 2)
    start = fc.now() + timedelta(hours=3)
    _m, occ_id = book(session_factory, start, minutes=60, setup=30, endpoints=eps)
    _s2, launch = engine_for(settings, session_factory, mcu_emulator.bridge_settings(),
                             launch={"preflight_minutes": 45})
    try:
        setup = start - timedelta(minutes=30)
        fc.set(setup - timedelta(minutes=45, seconds=1))
        launch.tick(wait=True)
        assert _preflights(session_factory) == []
        fc.set(setup - timedelta(minutes=45))
        drive(launch, fc, lambda: _done(session_factory), max_steps=40)
        (pf,) = _preflights(session_factory)
        assert pf.trigger == "auto" and pf.occurrence_id == occ_id
        assert [r.status for r in pf.results] == ["ready", "ready"]
        assert mcu_emulator.state()["conferences"] == []
        # Once per occurrence: later ticks before the setup time start no second one.
        fc.advance(seconds=600)
        launch.tick(wait=True)
        assert len(_preflights(session_factory)) == 1
    finally:
        launch.close()


def test_no_automatic_preflight_when_the_setup_time_is_nearer_than_an_answer_time(
        settings: Any, session_factory: Any, frozen_clock: Any, mcu_emulator: Any) -> None:
    """Booked 30 s before its setup time (answer time 45 s): a trial call could not finish before the
    launch dials the same endpoints, so none is made; the launch itself dials each endpoint once."""
    fc = frozen_clock
    eps = make_endpoints(session_factory, 2)
    start = fc.now() + timedelta(minutes=10, seconds=30)
    _m, occ_id = book(session_factory, start, minutes=30, setup=10, endpoints=eps)
    _s2, launch = engine_for(settings, session_factory, mcu_emulator.bridge_settings(),
                             launch={"preflight_minutes": 60, "preflight_answer_seconds": 45})
    try:
        launch.tick(wait=True)
        assert _preflights(session_factory) == []
        fc.advance(seconds=30)  # the setup time: launched
        drive(launch, fc, lambda: (run := run_for(session_factory, occ_id)) is not None and all(
            leg.state == LegState.CONNECTED for leg in legs(session_factory, run.id)), max_steps=40)
        assert _preflights(session_factory) == []
        assert sorted(c["participant"] for c in mcu_emulator.calls()) == sorted(
            {c["participant"] for c in mcu_emulator.calls()})
    finally:
        launch.close()


def test_preflight_off_when_preflight_minutes_is_zero(settings: Any, session_factory: Any, frozen_clock: Any,
                                                     mcu_emulator: Any) -> None:
    eps = make_endpoints(session_factory, 1)
    start = frozen_clock.now() + timedelta(minutes=70)
    book(session_factory, start, minutes=30, setup=10, endpoints=eps)
    _s2, launch = engine_for(settings, session_factory, mcu_emulator.bridge_settings(),
                             launch={"preflight_minutes": 0})
    try:
        launch.tick(wait=True)
        assert _preflights(session_factory) == []
    finally:
        launch.close()
