"""Pre-flight test calls run by the scheduler: plan them, create the test conference, dial, watch, tear down.

Like launches (``launch.steps``): decide and commit in a short fenced transaction, THEN call the bridge,
then record the outcome.  Every bridge call is idempotent (``ensure_*``; destroying a gone conference
succeeds), the MCU name comes from the row id (``cb-pf-<id>``), so a scheduler restarted after a crash
reads the ``phase`` and carries on: it adopts the conference, does not re-dial a participant already on
it, and destroys the conference once (``phase`` becomes ``done`` with ``torn_down_at``).

Endpoints that are in another conference at that moment are not dialled (``skipped``, ``in_conference``):
a trial call must never disturb a live meeting.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from confbridge import clock, notices
from confbridge.alarms.service import clear_alarm, raise_alarm
from confbridge.booking.models import Meeting, MeetingStatus, Occurrence, OccurrenceStatus
from confbridge.bridges import naming
from confbridge.bridges.base import BridgeDriver, DialTarget, NotFound, ParticipantInfo, TransientError
from confbridge.launch.approval_gate import launchable as _launchable
from confbridge.launch.faults import describe
from confbridge.launch.models import ACTIVE_STATES, CallLeg, ConferenceRun
from confbridge.launch.planner import desired_bridge, desired_endpoints
from confbridge.launch.preflight_models import PreflightPhase, PreflightResult, PreflightRun, ResultStatus
from confbridge.launch.scope import Scope, owns, scoped
from confbridge.settings import Settings

if TYPE_CHECKING:
    from confbridge.launch.executor import LaunchEngine
    from confbridge.launch.steps import StepContext

log = logging.getLogger(__name__)
OPEN_PHASES = (PreflightPhase.PENDING, PreflightPhase.DIALLING, PreflightPhase.TEARDOWN)
# The test conference lives on the bridge at most this long even if nobody destroys it (a safety net).
TEST_CONFERENCE_SECONDS = 15 * 60
# Give up creating the test conference after this long (the bridge is down): results become failed.
CREATE_GIVE_UP = timedelta(minutes=5)


def alarm_key(occurrence_id: int | None, endpoint_id: int) -> str:
    return f"preflight_failed:occ={occurrence_id}:endpoint={endpoint_id}"


# ---- creating ---------------------------------------------------------------------------------------
def open_preflight(session: Session, occurrence_id: int) -> PreflightRun | None:
    return session.scalars(select(PreflightRun).where(
        PreflightRun.occurrence_id == occurrence_id,
        PreflightRun.phase.in_([str(p) for p in OPEN_PHASES]))).first()


def create_preflight(session: Session, settings: Settings, occ: Occurrence, *, trigger: str,
                     user_id: int | None = None) -> PreflightRun:
    """A pre-flight for *occ* with one pending result per booked endpoint (flushed, not committed)."""
    pf = PreflightRun(occurrence_id=occ.id, meeting_id=occ.meeting_id,
                      bridge_name=desired_bridge(settings, occ.meeting), phase=PreflightPhase.PENDING,
                      trigger=trigger, requested_by=user_id, conference_ready=False, requested_at=clock.now())
    session.add(pf)
    session.flush()
    for endpoint in desired_endpoints(session, occ):
        session.add(PreflightResult(
            preflight_id=pf.id, endpoint_id=endpoint.id, participant_name=naming.participant_name(endpoint.id),
            protocol=endpoint.protocol, address=endpoint.address, display_name=endpoint.name,
            status=ResultStatus.PENDING))
    session.flush()
    session.refresh(pf)
    return pf


def plan_automatic(session: Session, settings: Settings, now: datetime, scope: Scope | None = None) -> None:
    """Create the automatic pre-flight of every occurrence whose setup time is ``preflight_minutes`` away
    (with a *scope*: of the occurrences on its bridges)."""
    minutes = settings.launch.preflight_minutes
    if minutes <= 0:
        return
    lead = timedelta(minutes=minutes)
    already = select(PreflightRun.occurrence_id).where(PreflightRun.occurrence_id.is_not(None))
    candidates = session.scalars(
        select(Occurrence).join(Meeting, Meeting.id == Occurrence.meeting_id).where(
            Occurrence.status == OccurrenceStatus.PLANNED, Meeting.status == MeetingStatus.PLANNED,
            _launchable(),
            Occurrence.start > now, Occurrence.start <= now + lead + timedelta(hours=4),
            Occurrence.id.notin_(already),
        )).all()
    # Not when the setup time is nearer than one answer time: the trial call could not finish before the
    # launch dials the same endpoints (it would ring them twice, and take the bridge's request slots at
    # the launch instant: a storm of meetings booked minutes before their start).
    answer = timedelta(seconds=settings.launch.preflight_answer_seconds)
    for occ in candidates:
        # From preflight_minutes before the setup time until one answer time before it.
        if occ.window_start - lead <= now < occ.window_start - answer \
                and owns(scope, desired_bridge(settings, occ.meeting)) and desired_endpoints(session, occ):
            create_preflight(session, settings, occ, trigger="auto")


# ---- the steps --------------------------------------------------------------------------------------
def _settle(session: Session, pf: PreflightRun, result: PreflightResult, status: ResultStatus,
            reason: str | None, now: datetime) -> None:
    result.status, result.reason, result.at = status, reason, now
    if status == ResultStatus.FAILED:
        meeting = session.get(Meeting, pf.meeting_id) if pf.meeting_id is not None else None
        raise_alarm(session, "preflight_failed", alarm_key(pf.occurrence_id, result.endpoint_id),
                    "alarm.preflight_failed", {"meeting": meeting.title if meeting else "",
                                               "endpoint": result.display_name, "reason": notices.reason(reason)},
                    severity="major", endpoint_id=result.endpoint_id, meeting_id=pf.meeting_id,
                    bridge_name=pf.bridge_name, reason=reason, preflight_id=pf.id)
    elif status == ResultStatus.READY:
        clear_alarm(session, alarm_key(pf.occurrence_id, result.endpoint_id))


def _finish_if_settled(pf: PreflightRun, now: datetime) -> None:
    if all(r.status in (ResultStatus.READY, ResultStatus.FAILED, ResultStatus.SKIPPED) for r in pf.results):
        pf.phase = PreflightPhase.TEARDOWN
        pf.finished_at = now


def _in_other_conference(session: Session, endpoint_ids: list[int]) -> set[int]:
    if not endpoint_ids:
        return set()
    rows = session.scalars(select(CallLeg.endpoint_id).join(ConferenceRun).where(
        CallLeg.endpoint_id.in_(endpoint_ids), CallLeg.on_bridge.is_(True), CallLeg.wanted.is_(True),
        ConferenceRun.state.in_([str(s) for s in ACTIVE_STATES])))
    return {endpoint_id for endpoint_id in rows if endpoint_id is not None}


def _create(ctx: StepContext, driver: BridgeDriver, pf_id: int, name: str) -> None:
    try:
        driver.ensure_conference(name, duration_seconds=TEST_CONFERENCE_SECONDS, description=f"preflight {pf_id}")
        error: str | None = None
    except Exception as exc:
        error = describe(exc)
    with ctx.write() as s:
        pf = s.get(PreflightRun, pf_id)
        if pf is None or pf.phase != PreflightPhase.PENDING:
            return
        now = clock.now()
        if error is not None:
            pf.last_reason = error
            if now - pf.requested_at >= CREATE_GIVE_UP:
                for r in pf.results:
                    _settle(s, pf, r, ResultStatus.FAILED, "bridge_error", now)
                pf.phase, pf.finished_at = PreflightPhase.DONE, now  # nothing was created
            return
        pf.conference_ready, pf.last_reason = True, None
        pf.phase, pf.started_at = PreflightPhase.DIALLING, now
        pf.deadline = now + timedelta(seconds=ctx.settings.launch.preflight_answer_seconds)
        occ = s.get(Occurrence, pf.occurrence_id) if pf.occurrence_id is not None else None
        if occ is not None and now < occ.window_start < pf.deadline:
            pf.deadline = occ.window_start  # the real launch dials these endpoints at the setup time
        busy = _in_other_conference(s, [r.endpoint_id for r in pf.results])
        for r in pf.results:
            if r.endpoint_id in busy:
                _settle(s, pf, r, ResultStatus.SKIPPED, "in_conference", now)
        _finish_if_settled(pf, now)


def _listing(driver: BridgeDriver, pf_id: int, name: str) -> dict[str, ParticipantInfo] | None:
    try:
        return {p.participant_name: p for p in driver.list_participants(name)}
    except Exception as exc:
        log.info("pre-flight %s: could not read the participants: %s", pf_id, describe(exc))
        return None


def _dial(ctx: StepContext, driver: BridgeDriver, pf_id: int, name: str) -> None:
    """Dial the pending results, and re-send those left ``dialling`` by a crash that the bridge does not
    list (``ensure_participant`` adopts one that did reach it: never a second call to the endpoint)."""
    reported = _listing(driver, pf_id, name)
    with ctx.write() as s:
        pf = s.get(PreflightRun, pf_id)
        if pf is None or pf.phase != PreflightPhase.DIALLING:
            return
        todo = [r for r in pf.results if r.status == ResultStatus.PENDING or (
            r.status == ResultStatus.DIALLING and reported is not None and r.participant_name not in reported)]
        for r in todo:
            r.status = ResultStatus.DIALLING  # decided before the bridge hears of it
        targets = [(r.id, DialTarget(participant_name=r.participant_name, protocol=r.protocol,
                                     address=r.address, display_name=r.display_name)) for r in todo]
    failures: dict[int, str] = {}
    for result_id, target in targets:
        if not ctx.fence.valid_locally():
            return
        try:
            driver.ensure_participant(name, target)
        except TransientError:
            failures[result_id] = "unreachable"
        except Exception as exc:
            log.info("pre-flight %s: dialling %s failed: %s", pf_id, target.address, describe(exc))
            failures[result_id] = "rejected"
    if failures:
        with ctx.write() as s:
            pf = s.get(PreflightRun, pf_id)
            if pf is None:
                return
            now = clock.now()
            for r in pf.results:
                if r.id in failures and r.status == ResultStatus.DIALLING:
                    _settle(s, pf, r, ResultStatus.FAILED, failures[r.id], now)
            _finish_if_settled(pf, now)


def _watch(ctx: StepContext, driver: BridgeDriver, pf_id: int, name: str) -> None:
    reported = _listing(driver, pf_id, name) or {}
    with ctx.write() as s:
        pf = s.get(PreflightRun, pf_id)
        if pf is None or pf.phase != PreflightPhase.DIALLING:
            return
        now = clock.now()
        for r in pf.results:
            if r.status != ResultStatus.DIALLING:
                continue
            info = reported.get(r.participant_name)
            if info is not None and info.state == "connected":
                _settle(s, pf, r, ResultStatus.READY, None, now)
            elif info is not None and info.state in ("failed", "disconnected"):
                _settle(s, pf, r, ResultStatus.FAILED, info.reason or "other", now)
            elif pf.deadline is not None and now >= pf.deadline:
                _settle(s, pf, r, ResultStatus.FAILED, "no_answer", now)
        _finish_if_settled(pf, now)


def _teardown(ctx: StepContext, driver: BridgeDriver, pf_id: int, name: str) -> None:
    try:
        driver.destroy_conference(name)
    except NotFound:
        pass  # already gone (a retry after a crash): the contract says this succeeds silently anyway
    except Exception as exc:
        with ctx.write() as s:
            pf = s.get(PreflightRun, pf_id)
            if pf is not None:
                pf.last_reason = describe(exc)
        return  # retried next tick
    with ctx.write() as s:
        pf = s.get(PreflightRun, pf_id)
        if pf is not None and pf.phase == PreflightPhase.TEARDOWN:
            pf.phase, pf.torn_down_at = PreflightPhase.DONE, clock.now()


def advance(ctx: StepContext, driver: BridgeDriver, pf_id: int) -> None:
    """One pass over one pre-flight: whatever its phase asks for next (each call idempotent)."""
    with ctx.read() as s:
        pf = s.get(PreflightRun, pf_id)
        if pf is None:
            return
        phase, name = pf.phase, pf.conference_name
    if not ctx.fence.valid_locally():
        return
    if phase == PreflightPhase.PENDING:
        _create(ctx, driver, pf_id, name)
        phase = PreflightPhase.DIALLING
    if phase == PreflightPhase.DIALLING:
        _dial(ctx, driver, pf_id, name)
        _watch(ctx, driver, pf_id, name)
        with ctx.read() as s:
            pf = s.get(PreflightRun, pf_id)
            phase = PreflightPhase(pf.phase) if pf is not None else PreflightPhase.DONE
    if phase == PreflightPhase.TEARDOWN:
        _teardown(ctx, driver, pf_id, name)


def tick(engine: LaunchEngine, now: datetime, *, automatic: bool = True) -> None:
    """Plan automatic pre-flights (when *automatic*: at the engine's full plan) and submit one step
    per open pre-flight (called by the engine's tick)."""
    if automatic:
        with engine.ctx.write() as s:
            plan_automatic(s, engine.settings, now, engine.scope)
    with engine.ctx.read() as s:
        rows = s.execute(select(PreflightRun.id, PreflightRun.bridge_name).where(
            PreflightRun.phase.in_([str(p) for p in OPEN_PHASES]), *scoped(engine.scope, PreflightRun.bridge_name),
        )).all()
    for pf_id, bridge in rows:
        driver = engine.drivers.get(bridge)
        if driver is not None:
            engine._submit(("preflight", pf_id), partial(advance, engine.ctx, driver, pf_id),
                           context={"preflight_id": pf_id, "bridge": bridge})
