"""The side-effecting steps: create the conference, dial a leg, drop a leg, tear down, poll.

Each step: decide and record in a short write transaction (fenced), commit, THEN call the bridge, then
record the outcome in another short transaction.  A crash between the two leaves a row that says what
was decided; reconcile/poll compare it with what the bridge reports and converge without repeating a
dial that reached the bridge (names are deterministic, so "did it happen?" is always answerable).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from confbridge import clock, metrics
from confbridge.alarms.service import raise_alarm
from confbridge.booking.models import Meeting
from confbridge.bridges.base import BridgeDriver, DialTarget, ParticipantInfo
from confbridge.bridges.view import ParticipantView
from confbridge.db import chunked, unit_of_work
from confbridge.launch.faults import FaultKind, bridge_alarm, bridge_ok, classify, describe
from confbridge.launch.fence import Fence
from confbridge.launch.legs import apply_report, dial_failed, mark_connected, report_changes_nothing
from confbridge.launch.models import (
    LEG_POSITIONS,
    CallLeg,
    ConferenceRun,
    LegKind,
    LegState,
    RunState,
    TimelineKind,
)
from confbridge.launch.state import leg_event, meeting_title, note, transition
from confbridge.notices import coded
from confbridge.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class StepContext:
    session_factory: sessionmaker[Session]
    settings: Settings
    fence: Fence
    # Real-time instants (monotonic) at which a step for a run/leg last finished (key: ("dial", leg id),
    # ("run", run id)…): a bridge listing taken before that is stale for that object.
    done_at: dict[tuple[str, int | str], float]
    inflight: Callable[[], set[tuple[str, int | str]]]
    # Held around every transaction on SQLite (see confbridge.launch.dbgate).
    gate: AbstractContextManager[Any] = field(default_factory=nullcontext)

    def read(self) -> Any:
        """A read-only session under the gate (``with ctx.read() as s``)."""
        return _GatedSession(self)

    def leg_settled(self, leg_id: int, listed_at: float, busy: set[tuple[str, int | str]]) -> bool:
        """True when no step for the leg runs now or finished after the listing at *listed_at*."""
        return all((kind, leg_id) not in busy and self.done_at.get((kind, leg_id), 0.0) < listed_at
                   for kind in ("dial", "drop"))

    def run_settled(self, run_id: int, listed_at: float, busy: set[tuple[str, int | str]]) -> bool:
        return ("run", run_id) not in busy and self.done_at.get(("run", run_id), 0.0) < listed_at

    def write(self) -> Any:
        return _FencedUnit(self)


class _FencedUnit:
    def __init__(self, ctx: StepContext) -> None:
        self._ctx = ctx
        self._cm: Any = None

    def __enter__(self) -> Session:
        self._ctx.gate.__enter__()
        try:
            self._cm = unit_of_work(self._ctx.session_factory)
            session: Session = self._cm.__enter__()
        except BaseException:
            self._ctx.gate.__exit__(None, None, None)
            raise
        try:
            self._ctx.fence.check(session)
        except BaseException as exc:
            try:
                self._cm.__exit__(type(exc), exc, exc.__traceback__)
            finally:
                self._ctx.gate.__exit__(None, None, None)
            raise
        return session

    def __exit__(self, *exc: Any) -> Any:
        try:
            return self._cm.__exit__(*exc)
        finally:
            self._ctx.gate.__exit__(None, None, None)


class _GatedSession:
    def __init__(self, ctx: StepContext) -> None:
        self._ctx = ctx
        self._session: Session | None = None

    def __enter__(self) -> Session:
        self._ctx.gate.__enter__()
        self._session = self._ctx.session_factory()
        return self._session

    def __exit__(self, *exc: Any) -> None:
        try:
            if self._session is not None:
                self._session.rollback()
                self._session.close()
        finally:
            self._ctx.gate.__exit__(None, None, None)


def _record_first_call(run: ConferenceRun, at: datetime) -> None:
    if run.first_call_at is None:
        # Counted from when the launch was due: the setup time, or the booking of an urgent meeting.
        due = run.due_at
        run.first_call_at = at
        run.lateness_ms = int((at - due).total_seconds() * 1000)
        metrics.LAUNCH_LATENESS.observe(max(0.0, (at - due).total_seconds()))


def _retry_or_fail(session: Session, ctx: StepContext, run: ConferenceRun, kind: FaultKind, reason: str,
                   now: datetime, step: str) -> None:
    """A run-level bridge step (*step*: a notice code, ``step.create``) failed: retry later within the
    deadline, or fail the run."""
    bridge_alarm(session, kind, run.bridge_name, reason, run_id=run.id, meeting_id=run.meeting_id)
    delay = {FaultKind.CAPACITY: ctx.settings.launch.capacity_retry_seconds,
             FaultKind.UNREACHABLE: ctx.settings.launch.unreachable_retry_seconds,
             FaultKind.UNKNOWN_OUTCOME: ctx.settings.launch.unreachable_retry_seconds}.get(kind)
    run.last_reason = reason
    ending = run.state == RunState.ENDING
    if delay is not None and (ending or now + timedelta(seconds=delay) < run.planned_end):
        run.retry_at = now + timedelta(seconds=delay)
        note(session, run, TimelineKind.NOTE, "run.retry_scheduled",
             {"what": coded(step), "at": run.retry_at.isoformat()}, outcome="retry", reason=reason, fault=str(kind))
        return
    run.retry_at = None
    transition(session, run, RunState.FAILED, coded("why.step_failed", what=coded(step), reason=reason),
               fault=str(kind))
    if kind not in (FaultKind.AUTH, FaultKind.CAPACITY, FaultKind.UNREACHABLE, FaultKind.UNKNOWN_OUTCOME):
        raise_alarm(session, "launch_missed", f"launch_failed:run={run.id}",
                    "alarm.launch_failed", {"meeting": meeting_title(session, run), "reason": reason},
                    severity="critical", meeting_id=run.meeting_id, conference_id=run.id,
                    bridge_name=run.bridge_name)


# ---- create -----------------------------------------------------------------------------------------
def start_run(ctx: StepContext, driver: BridgeDriver, run_id: int) -> None:
    """scheduled → starting (flag lateness), then make sure the conference exists on the bridge."""
    with ctx.write() as s:
        run = s.get(ConferenceRun, run_id)
        if run is None or run.state not in (RunState.SCHEDULED, RunState.STARTING, RunState.LIVE):
            return
        now = clock.now()
        if run.state == RunState.SCHEDULED:
            # An urgent meeting booked after its setup time began is due at its booking, not "late".
            delay = (now - run.due_at).total_seconds()
            if delay > ctx.settings.launch.late_after_seconds:
                run.late = True
                note(s, run, TimelineKind.NOTE, "run.launched_late", {"seconds": int(delay)}, outcome="late",
                     delay_seconds=int(delay))
                raise_alarm(s, "launch_late", f"launch_late:run={run.id}", "alarm.launch_late",
                            {"meeting": meeting_title(s, run), "seconds": int(delay)},
                            severity="minor", meeting_id=run.meeting_id, conference_id=run.id,
                            bridge_name=run.bridge_name, delay_seconds=int(delay))
            transition(s, run, RunState.STARTING)
        if run.conference_ready or (run.retry_at is not None and run.retry_at > now):
            return
        run.retry_at = None
        name, meeting_id = run.conference_name, run.meeting_id
        meeting = s.get(Meeting, meeting_id) if meeting_id is not None else None
        pin = meeting.pin if meeting is not None and meeting.pin else None
        join_muted = bool(meeting is not None and meeting.join_muted)
        numeric_id = meeting.dial_in_number if meeting is not None else None
    if not ctx.fence.valid_locally():
        return
    sent_at = clock.now()
    try:
        driver.ensure_conference(name, pin=pin, description=f"run {run_id}", join_audio_muted=join_muted,
                                 numeric_id=numeric_id)
    except Exception as exc:
        reason, kind = describe(exc), classify(exc)
        with ctx.write() as s:
            run = s.get(ConferenceRun, run_id)
            if run is None:
                return
            _record_first_call(run, sent_at)
            note(s, run, TimelineKind.BRIDGE_CALL, "call.conference", {"method": "conference.create", "name": name},
                 outcome="error",
                 reason=reason, fault=str(kind))
            if run.state in (RunState.STARTING, RunState.LIVE):
                _retry_or_fail(s, ctx, run, kind, reason, clock.now(), "step.create")
        return
    with ctx.write() as s:
        run = s.get(ConferenceRun, run_id)
        if run is None:
            return
        _record_first_call(run, sent_at)
        run.conference_ready = True
        run.last_reason = None
        note(s, run, TimelineKind.BRIDGE_CALL, "call.conference", {"method": "conference.create", "name": name},
             outcome="ok",
             lateness_ms=run.lateness_ms)
        bridge_ok(s, run.bridge_name)


# ---- dial ------------------------------------------------------------------------------------------
def dial_target(run: ConferenceRun, leg: CallLeg) -> DialTarget:
    """What to dial for *leg*: the run's host is the focus (``important``); a leg muted by the meeting's
    ``join_muted`` (or an operator) joins with its microphone muted on the bridge."""
    return DialTarget(
        participant_name=leg.participant_name, protocol=leg.protocol,  # type: ignore[arg-type]
        address=leg.address, display_name=leg.display_name,
        important=leg.endpoint_id == run.host_endpoint_id, audio_rx_muted=bool(leg.audio_muted))


@dataclass(frozen=True)
class Claimed:
    """A dial decided and recorded (``dialling``, attempt counted) and not yet sent to the bridge."""

    leg_id: int
    conference: str
    target: DialTarget
    attempt: int
    redial: bool


def _claim(s: Session, run: ConferenceRun, leg: CallLeg, now: datetime) -> Claimed | None:
    """Decide one dial inside the caller's fenced transaction (committed before the bridge hears of it)."""
    if (run.state not in (RunState.STARTING, RunState.LIVE) or not run.conference_ready
            or not leg.wanted or leg.state != LegState.PENDING
            or (leg.next_attempt_at is not None and leg.next_attempt_at > now)):
        return None
    leg.attempts += 1
    leg.state = LegState.DIALLING
    leg.next_attempt_at = None
    leg_event(s, leg)
    return Claimed(leg.id, run.conference_name, dial_target(run, leg), leg.attempts, leg.on_bridge)


def claim_dials(s: Session, run: ConferenceRun, now: datetime, reserve: Callable[[int], bool]) -> list[Claimed]:
    """Decide every due dial of *run* in the caller's fenced transaction: the pipeline of a storm (one
    transaction for a conference's dials instead of one per leg).  *reserve* marks the leg's dial step
    in flight before the commit (False: one already is; skipped), so no poll takes the ``dialling``
    row for a dial that was lost before reaching the bridge (``legs.apply_report``) meanwhile."""
    claimed = []
    for leg in run.legs:
        if leg.wanted and leg.state == LegState.PENDING and (
                leg.next_attempt_at is None or leg.next_attempt_at <= now) and reserve(leg.id):
            c = _claim(s, run, leg, now)
            if c is not None:
                claimed.append(c)
    return claimed


def dial_leg(ctx: StepContext, driver: BridgeDriver, leg_id: int) -> None:
    with ctx.write() as s:
        leg = s.get(CallLeg, leg_id)
        if leg is None:
            return
        claimed = _claim(s, leg.run, leg, clock.now())
    if claimed is not None:
        send_dial(ctx, driver, claimed)


def send_dial(ctx: StepContext, driver: BridgeDriver, claimed: Claimed) -> None:
    """Send a claimed dial to the bridge, then record the outcome."""
    if not ctx.fence.valid_locally():
        return
    leg_id, conference, target, attempt, redial = (claimed.leg_id, claimed.conference, claimed.target,
                                                    claimed.attempt, claimed.redial)
    sent_at = clock.now()
    info: ParticipantInfo | None = None
    error: Exception | None = None
    try:
        if redial:
            driver.redial(conference, target.participant_name, target.protocol)
            if target.important:  # the focus lives with a call: mark the host's new call again
                driver.set_important(conference, target.participant_name, target.protocol, True)
        else:
            info = driver.ensure_participant(conference, target)
    except Exception as exc:
        error = exc
    method = "participant.connect" if redial else "participant.add"
    metrics.DIAL_ATTEMPTS.labels("ok" if error is None else str(classify(error))).inc()
    with ctx.write() as s:
        leg = s.get(CallLeg, leg_id)
        if leg is None:
            return
        run = leg.run
        now = clock.now()
        _record_first_call(run, sent_at)
        if error is None:
            leg.on_bridge = True
            note(s, run, TimelineKind.BRIDGE_CALL, "call.dial", {
                "method": method, "endpoint": leg.display_name, "address": leg.address, "attempt": attempt,
            }, outcome="ok", endpoint_id=leg.endpoint_id, attempt=attempt)
            bridge_ok(s, run.bridge_name)
            if info is not None and info.state == "connected" and leg.state == LegState.DIALLING:
                mark_connected(s, run, leg, now)
            elif info is not None and info.state in ("failed", "disconnected") \
                    and leg.state == LegState.DIALLING:
                dial_failed(s, ctx.settings, run, leg, info.reason or "other", now)
            return
        reason, kind = describe(error), classify(error)
        note(s, run, TimelineKind.BRIDGE_CALL, "call.dial", {
            "method": method, "endpoint": leg.display_name, "address": leg.address, "attempt": attempt,
        }, outcome="error", endpoint_id=leg.endpoint_id, attempt=attempt, reason=reason, fault=str(kind))
        if leg.state != LegState.DIALLING:
            return
        if kind == FaultKind.UNKNOWN_OUTCOME:
            # It may have reached the bridge: stay "dialling"; the next poll adopts it or re-sends it.
            leg.last_reason = reason
            bridge_alarm(s, kind, run.bridge_name, reason, run_id=run.id, meeting_id=run.meeting_id)
        elif kind in (FaultKind.UNREACHABLE, FaultKind.CAPACITY):
            # Nothing happened on the bridge: the attempt is given back; wait (no storm) and try again.
            leg.attempts -= 1
            leg.state = LegState.PENDING
            leg.last_reason = reason
            delay = (ctx.settings.launch.capacity_retry_seconds if kind == FaultKind.CAPACITY
                     else ctx.settings.launch.unreachable_retry_seconds)
            leg.next_attempt_at = now + timedelta(seconds=delay)
            bridge_alarm(s, kind, run.bridge_name, reason, run_id=run.id, meeting_id=run.meeting_id)
            leg_event(s, leg)
        elif kind == FaultKind.NOT_FOUND and not redial:
            # The conference vanished under us: re-create it, then dial again as the same attempt.
            leg.attempts -= 1
            leg.state = LegState.PENDING
            run.conference_ready = False
            note(s, run, TimelineKind.NOTE, "run.conference_vanished")
        elif kind == FaultKind.NOT_FOUND:
            leg.on_bridge = False
            leg.state = LegState.PENDING
            leg.attempts -= 1
        elif kind == FaultKind.AUTH:
            bridge_alarm(s, kind, run.bridge_name, reason, run_id=run.id, meeting_id=run.meeting_id)
            dial_failed(s, ctx.settings, run, leg, reason, now, retry=False)
        else:
            dial_failed(s, ctx.settings, run, leg, reason, now, retry=False)


def drop_leg(ctx: StepContext, driver: BridgeDriver, leg_id: int) -> None:
    """An endpoint left the meeting while live: hang it up and remove it from the conference."""
    with ctx.write() as s:
        leg = s.get(CallLeg, leg_id)
        if leg is None or leg.wanted or not leg.on_bridge:
            return
        conference, pname, proto = leg.run.conference_name, leg.participant_name, leg.protocol
    if not ctx.fence.valid_locally():
        return
    error: Exception | None = None
    try:
        driver.remove(conference, pname, proto)
    except Exception as exc:
        error = exc
    with ctx.write() as s:
        leg = s.get(CallLeg, leg_id)
        if leg is None:
            return
        run = leg.run
        if error is not None:
            note(s, run, TimelineKind.BRIDGE_CALL, "call.participant",
             {"method": "participant.remove", "endpoint": leg.display_name}, outcome="error",
                 endpoint_id=leg.endpoint_id, reason=describe(error))
            return
        note(s, run, TimelineKind.BRIDGE_CALL, "call.participant",
             {"method": "participant.remove", "endpoint": leg.display_name}, outcome="ok",
             endpoint_id=leg.endpoint_id)
        leg.on_bridge = False
        if leg.state != LegState.DISCONNECTED:
            leg.state = LegState.REMOVED
        leg_event(s, leg)


# ---- teardown --------------------------------------------------------------------------------------
def teardown(ctx: StepContext, driver: BridgeDriver, run_id: int) -> None:
    """ending → ended: hang up every leg, destroy the conference (each call idempotent, each recorded)."""
    with ctx.write() as s:
        run = s.get(ConferenceRun, run_id)
        if run is None or run.state != RunState.ENDING:
            return
        if run.retry_at is not None and run.retry_at > clock.now():
            return
        run.retry_at = None
        name, ready = run.conference_name, run.conference_ready
        # Dial-ins are not ours to hang up one by one: destroying the conference ends their calls.
        legs = [(leg.id, leg.participant_name, leg.protocol, leg.display_name) for leg in run.legs
                if leg.on_bridge and leg.kind != LegKind.DIAL_IN
                and leg.state not in (LegState.DISCONNECTED, LegState.REMOVED)]
    for leg_id, pname, proto, shown in legs:
        if not ctx.fence.valid_locally():
            return
        try:
            driver.hangup(name, pname, proto)
        except Exception as exc:
            _teardown_failed(ctx, run_id, "call.participant",
                             {"method": "participant.disconnect", "endpoint": shown or pname}, exc)
            return
        with ctx.write() as s:
            leg = s.get(CallLeg, leg_id)
            if leg is not None:
                leg.state, leg.last_reason = LegState.DISCONNECTED, "ended"
                note(s, leg.run, TimelineKind.BRIDGE_CALL, "call.participant",
                     {"method": "participant.disconnect", "endpoint": leg.display_name}, outcome="ok",
                     endpoint_id=leg.endpoint_id)
                leg_event(s, leg)
    if not ctx.fence.valid_locally():
        return
    try:
        # Destroy even when we never saw it created: a create that timed out may have happened.
        driver.destroy_conference(name)
    except Exception as exc:
        _teardown_failed(ctx, run_id, "call.conference", {"method": "conference.destroy", "name": name}, exc)
        return
    with ctx.write() as s:
        run = s.get(ConferenceRun, run_id)
        if run is None or run.state != RunState.ENDING:
            return
        note(s, run, TimelineKind.BRIDGE_CALL, "call.conference", {"method": "conference.destroy", "name": name},
             outcome="ok", was_ready=ready)
        for leg in run.legs:
            if leg.state in (LegState.PENDING, LegState.DIALLING, LegState.CONNECTED):
                leg.state, leg.last_reason = LegState.DISCONNECTED, "ended"
                leg_event(s, leg)
            leg.on_bridge = False
        run.conference_ready = False
        transition(s, run, RunState.ENDED)


def _teardown_failed(ctx: StepContext, run_id: int, code: str, params: dict[str, Any], exc: Exception) -> None:
    reason, kind = describe(exc), classify(exc)
    with ctx.write() as s:
        run = s.get(ConferenceRun, run_id)
        if run is None:
            return
        note(s, run, TimelineKind.BRIDGE_CALL, code, params, outcome="error", reason=reason, fault=str(kind))
        if kind == FaultKind.AUTH:
            bridge_alarm(s, kind, run.bridge_name, reason, run_id=run.id, meeting_id=run.meeting_id)
            transition(s, run, RunState.FAILED,
                       coded("why.step_failed", what=coded("step.teardown"), reason=reason))
        else:
            _retry_or_fail(s, ctx, run, kind if kind != FaultKind.FATAL else FaultKind.UNREACHABLE, reason,
                           clock.now(), "step.teardown")


# ---- poll ------------------------------------------------------------------------------------------
def poll_bridge(ctx: StepContext, view: ParticipantView, bridge: str) -> None:
    """Read the bridge's participants once and fold them into every open run on that bridge.

    Through the bridge's ``ParticipantView``: only what changed since the last read is fetched, and the
    legs still see the full list (the same states a full read would give)."""
    if not ctx.fence.valid_locally():
        return
    listed_at = time.monotonic()
    try:
        reported = view.read()
    except Exception as exc:
        log.warning("bridge %s: participant poll failed: %s", bridge, describe(exc))
        return
    by_key = {(p.conference, p.participant_name): p for p in reported}
    dial_ins: dict[str, list[ParticipantInfo]] = {}
    for p in reported:
        if not p.ours:
            dial_ins.setdefault(p.conference, []).append(p)
    now = clock.now()
    ready = (ConferenceRun.bridge_name == bridge, ConferenceRun.state.in_([RunState.STARTING, RunState.LIVE]),
             ConferenceRun.conference_ready.is_(True))
    with ctx.write() as s:
        busy = ctx.inflight()
        # The legs as plain columns first; only runs where a report changes something are loaded.
        to_fold = {run_id for run_id, name in s.execute(select(ConferenceRun.id, ConferenceRun.conference_name)
                                                        .where(*ready)) if name in dial_ins}
        for row in s.execute(select(CallLeg.id, CallLeg.run_id, CallLeg.kind, CallLeg.participant_name,
                                    CallLeg.state, CallLeg.wanted, CallLeg.on_bridge, CallLeg.audio_muted,
                                    CallLeg.video_muted, ConferenceRun.conference_name)
                             .join(ConferenceRun, ConferenceRun.id == CallLeg.run_id).where(*ready)):
            if row.run_id in to_fold:
                continue
            if row.kind == LegKind.DIAL_IN:
                quiet = dial_in_gone(row.state, row.on_bridge)  # and not reported: nothing to fold
            else:
                quiet = not ctx.leg_settled(row.id, listed_at, busy) or report_changes_nothing(
                    row.state, row.wanted, row.on_bridge, row.audio_muted, row.video_muted,
                    by_key.get((row.conference_name, row.participant_name)))
            if not quiet:
                to_fold.add(row.run_id)
        for chunk in chunked(sorted(to_fold)):
            for run in s.scalars(select(ConferenceRun).where(ConferenceRun.id.in_(chunk))):
                for leg in run.legs:
                    if leg.kind == LegKind.DIAL_IN or not ctx.leg_settled(leg.id, listed_at, busy):
                        continue  # a dial is in flight or finished after this snapshot: it is stale
                    key = (run.conference_name, leg.participant_name)
                    apply_report(s, ctx.settings, run, leg, by_key.get(key), now)
                fold_dial_ins(s, run, dial_ins.get(run.conference_name, []), now)


def dial_in_gone(state: str, on_bridge: bool) -> bool:
    """A dial-in leg already marked as having left: a report without it changes nothing."""
    return not on_bridge and state == LegState.DISCONNECTED


def fold_dial_ins(session: Session, run: ConferenceRun, reported: list[ParticipantInfo], now: datetime) -> None:
    """Participants who dialled the conference's number (``ours=False``) join the roster as ``dial_in``
    legs (never dialled, redialled or hung up by us); one that left is marked disconnected."""
    present = {p.participant_name: p for p in reported if not p.ours}
    known = {leg.participant_name: leg for leg in run.legs if leg.kind == LegKind.DIAL_IN}
    for name, info in present.items():
        leg = known.get(name[:31])
        state = LegState.CONNECTED if info.state == "connected" else LegState.DIALLING
        if info.state in ("failed", "disconnected"):
            state = LegState.DISCONNECTED
        if leg is None:
            leg = CallLeg(run_id=run.id, endpoint_id=None, kind=LegKind.DIAL_IN,
                          position=LEG_POSITIONS[LegKind.DIAL_IN], participant_name=name[:31],
                          protocol=info.protocol[:8], address=info.address[:255],
                          display_name=(info.display_name or info.address)[:200], state=state, wanted=False,
                          attempts=0, on_bridge=True, audio_muted=info.audio_muted,
                          video_muted=info.video_muted, connected_at=now if state == LegState.CONNECTED else None)
            session.add(leg)
            run.legs.append(leg)
            session.flush()
            note(session, run, TimelineKind.NOTE, "leg.dialled_in",
                 {"endpoint": leg.display_name, "address": leg.address},
                 outcome="dial_in", participant=leg.participant_name, address=leg.address)
            leg_event(session, leg)
        elif (leg.state, leg.on_bridge, leg.audio_muted, leg.video_muted) != (
                state, True, info.audio_muted, info.video_muted):
            if state == LegState.CONNECTED and leg.state != LegState.CONNECTED:
                leg.connected_at = now
            leg.state, leg.on_bridge = state, True
            leg.audio_muted, leg.video_muted = info.audio_muted, info.video_muted
            leg_event(session, leg)
    for name, leg in known.items():
        if name not in {n[:31] for n in present} and not dial_in_gone(leg.state, leg.on_bridge):
            leg.on_bridge = False
            leg.state = LegState.DISCONNECTED
            note(session, run, TimelineKind.NOTE, "leg.left", {"endpoint": leg.display_name},
                 outcome="left", participant=leg.participant_name)
            leg_event(session, leg)
