"""Operator actions on conference runs (technicians and admins) and the queries behind the REST API.

Each action: check the role and the object, record the decision (timeline + audit) and commit, THEN call
the bridge, then record the outcome.  ``end`` only moves the run to ``ending``: the scheduler (the one
process that owns bridge lifecycles) tears it down within a tick.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from confbridge import clock
from confbridge.audit.models import record
from confbridge.auth import access
from confbridge.auth.models import User
from confbridge.booking.models import Meeting, Occurrence
from confbridge.bridges.base import BridgeDriver, DialTarget
from confbridge.bridges.registry import make_driver
from confbridge.errors import Conflict, DomainError, FieldError, Forbidden, InvalidInput, NotFound
from confbridge.i18n import N_
from confbridge.launch.faults import describe
from confbridge.launch.models import CallLeg, ConferenceRun, LegState, RunState, TimelineEntry, TimelineKind
from confbridge.launch.state import leg_event, note, transition
from confbridge.limits import MAX_EXTEND_MINUTES
from confbridge.notices import coded
from confbridge.settings import Settings

Action = Literal["mute", "unmute", "disconnect", "redial"]
ACTIONS: tuple[Action, ...] = ("mute", "unmute", "disconnect", "redial")
OPERATORS = access.OPERATORS
DriverFactory = Callable[[Settings, str], BridgeDriver]


class BridgeFailed(DomainError):
    """The bridge refused or did not answer; the decision is recorded, the effect did not happen."""

    status = 502
    code = "bridge_error"


def default_driver(settings: Settings, bridge_name: str) -> BridgeDriver:
    bridge = settings.bridge(bridge_name)
    if bridge is None:
        raise BridgeFailed(f"bridge '{bridge_name}' is not configured")
    return make_driver(bridge)


# ---- reading -----------------------------------------------------------------------------------------
def _visible(user: User, run: ConferenceRun, meeting: Meeting | None) -> bool:
    return access.may_see_conference(user, meeting)


def get_run(session: Session, user: User, run_id: int) -> ConferenceRun:
    run = session.get(ConferenceRun, run_id)
    meeting = session.get(Meeting, run.meeting_id) if run is not None and run.meeting_id else None
    if run is None or not _visible(user, run, meeting):
        # Same answer for "absent" and "not yours": ids of other people's meetings are not disclosed.
        raise NotFound.said(N_("Không có hội nghị số %(id)s."), id=run_id)
    return run


def list_runs(session: Session, user: User, *, state: str | None = None, start: datetime | None = None,
              end: datetime | None = None, limit: int = 500) -> list[ConferenceRun]:
    query = select(ConferenceRun).order_by(ConferenceRun.planned_start, ConferenceRun.id).limit(limit)
    if state:
        query = query.where(ConferenceRun.state == state)
    if start is not None:
        query = query.where(ConferenceRun.planned_end > start)
    if end is not None:
        query = query.where(ConferenceRun.planned_start < end)
    if user.role not in access.ANY_ROLE:
        raise Forbidden.said(N_("Việc này cần vai trò kỹ thuật viên, quản trị viên hoặc thư ký."))
    organiser_id = access.followed_organiser(user)
    if organiser_id is not None:
        query = query.join(Meeting, Meeting.id == ConferenceRun.meeting_id).where(
            Meeting.organiser_id == organiser_id)
    return list(session.scalars(query))


def get_timeline(session: Session, user: User, run_id: int) -> list[TimelineEntry]:
    get_run(session, user, run_id)
    return list(session.scalars(select(TimelineEntry).where(TimelineEntry.run_id == run_id)
                                .order_by(TimelineEntry.at, TimelineEntry.id)))


# ---- acting ------------------------------------------------------------------------------------------
def _require_operator(user: User) -> None:
    if user.role not in OPERATORS:
        raise Forbidden.said(N_("Thao tác này cần vai trò kỹ thuật viên hoặc quản trị viên."))


def active_run(session: Session, user: User, run_id: int) -> ConferenceRun:
    _require_operator(user)
    run = get_run(session, user, run_id)
    if run.state not in (RunState.STARTING, RunState.LIVE):
        raise Conflict.said(N_("Hội nghị số %(id)s đang ở trạng thái %(state)s, không phải đang họp."),
            id=run_id, state=run.state, extra={"state": run.state})
    return run


def _leg(run: ConferenceRun, endpoint_id: int) -> CallLeg:
    leg = run.leg_for(endpoint_id)
    if leg is None or not leg.wanted:
        raise NotFound.said(N_("Điểm cầu số %(endpoint)s không tham gia hội nghị số %(conference)s."),
            endpoint=endpoint_id, conference=run.id)
    return leg


@dataclass(frozen=True)
class MuteChange:
    """Which media a mute/unmute applies to (default: audio only)."""

    audio: bool = True
    video: bool = False


def participant_action(
    session: Session, settings: Settings, user: User, run_id: int, endpoint_id: int, action: Action,
    *, mute: MuteChange | None = None, driver_factory: DriverFactory = default_driver,
) -> CallLeg:
    """mute / unmute / disconnect / redial one participant, recorded in the timeline and the audit log."""
    if action not in ACTIONS:
        raise InvalidInput.of([FieldError.of("action", "one_of", choices=", ".join(ACTIONS))])
    run = active_run(session, user, run_id)
    leg = _leg(run, endpoint_id)
    if not run.conference_ready:
        raise Conflict.said(N_("Hội nghị chưa lên MCU; hãy thử lại sau giây lát."))
    change = mute or MuteChange()
    if action in ("mute", "unmute") and not (change.audio or change.video):
        raise InvalidInput.of([FieldError.of("audio", "audio_or_video")])
    # None: leave that medium alone; True/False: mute/unmute it.
    audio = (action == "mute") if change.audio else None
    video = (action == "mute") if change.video else None
    if action in ("mute", "unmute"):
        if not leg.on_bridge:
            raise Conflict.said(N_("%(name)s không có trong hội nghị."), name=leg.display_name)
    elif action == "redial":
        if leg.state in (LegState.CONNECTED, LegState.DIALLING):
            raise Conflict.said(N_("%(name)s đã ở trạng thái %(state)s."),
                name=leg.display_name, state=leg.state, extra={"state": leg.state})
        leg.attempts += 1
        leg.state = LegState.DIALLING
        leg.next_attempt_at = None
    elif action == "disconnect":
        if not leg.on_bridge:
            raise Conflict.said(N_("%(name)s không có trong hội nghị."), name=leg.display_name)
        leg.state, leg.last_reason, leg.next_attempt_at = LegState.DISCONNECTED, "operator", None
    said = {"action": coded(f"action.{action}"), "endpoint": leg.display_name}
    note(session, run, TimelineKind.OPERATOR, "action.on", said, outcome="requested",
         endpoint_id=leg.endpoint_id, user_id=user.id, action=action, audio=audio, video=video)
    record(session, user.id, f"conference.{action}", "conference", run.id, endpoint_id=endpoint_id)
    conference, target, was_on_bridge = run.conference_name, DialTarget(
        participant_name=leg.participant_name, protocol=leg.protocol,  # type: ignore[arg-type]
        address=leg.address, display_name=leg.display_name), leg.on_bridge
    leg_event(session, leg)
    session.commit()  # the decision is durable before the bridge hears of it

    driver = driver_factory(settings, run.bridge_name)
    error: Exception | None = None
    try:
        if action in ("mute", "unmute"):
            driver.set_mute(conference, target.participant_name, target.protocol, audio=audio, video=video)
        elif action == "disconnect":
            driver.hangup(conference, target.participant_name, target.protocol)
        elif was_on_bridge:
            driver.redial(conference, target.participant_name, target.protocol)
        else:
            driver.ensure_participant(conference, target)
    except Exception as exc:  # reported to the operator below
        error = exc
    finally:
        driver.close()
    leg = session.get(CallLeg, leg.id)  # type: ignore[assignment]
    assert leg is not None
    run = leg.run
    if error is not None:
        note(session, run, TimelineKind.BRIDGE_CALL, "action.on", said, outcome="error",
             endpoint_id=leg.endpoint_id, user_id=user.id, reason=describe(error))
        if action == "redial":
            leg.state, leg.last_reason = LegState.FAILED, describe(error)
        session.commit()
        raise BridgeFailed(f"MCU {run.bridge_name}: {describe(error)}")
    if audio is not None:
        leg.audio_muted = audio
    if video is not None:
        leg.video_muted = video
    if action == "redial":
        leg.on_bridge = True
    note(session, run, TimelineKind.BRIDGE_CALL, "action.on", said, outcome="ok",
         endpoint_id=leg.endpoint_id, user_id=user.id)
    leg_event(session, leg)
    session.commit()
    return leg


def extend(session: Session, settings: Settings, user: User, run_id: int, minutes: int) -> ConferenceRun:
    """Extend a live conference; refused (409) when an endpoint or the bridge is needed elsewhere."""
    if not 1 <= minutes <= MAX_EXTEND_MINUTES:
        raise InvalidInput.of([FieldError.of("minutes", "out_of_range", low=1, high=MAX_EXTEND_MINUTES)])
    from confbridge.booking.service import extend_occurrence

    run = active_run(session, user, run_id)
    occ = session.get(Occurrence, run.occurrence_id) if run.occurrence_id else None
    if occ is None:
        raise Conflict.said(N_("Lịch đặt của hội nghị này không còn nữa."))
    # The booking service decides (an endpoint or the bridge booked right after refuses it, named).
    new_end = extend_occurrence(session, settings, occ, minutes, bridge_name=run.bridge_name,
                                endpoint_ids=[leg.endpoint_id for leg in run.legs
                                              if leg.wanted and leg.endpoint_id is not None])
    previous = run.planned_end
    run.planned_end = new_end
    note(session, run, TimelineKind.OPERATOR, "run.extended", {"minutes": minutes},
         outcome="extended", user_id=user.id, previous=previous.isoformat(), planned_end=new_end.isoformat())
    record(session, user.id, "conference.extend", "conference", run.id, minutes=minutes,
           planned_end=new_end.isoformat())
    session.flush()
    return run


def end_now(session: Session, user: User, run_id: int) -> ConferenceRun:
    """Ask the scheduler to end the conference now (hang up everyone, destroy it)."""
    run = active_run(session, user, run_id)
    transition(session, run, RunState.ENDING, coded("why.operator_end"), user_id=user.id)
    record(session, user.id, "conference.end", "conference", run.id, at=clock.now().isoformat())
    session.flush()
    return run
