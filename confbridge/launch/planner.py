"""Materialise and refresh conference runs from ``Occurrence`` rows (the booking is the desired state).

Runs are created for planned occurrences whose setup window opens within ``launch.lookahead_minutes``;
every tick re-reads the occurrences behind the open runs, so moves, cancellations, extensions and
endpoint changes are followed whether or not any booking hook fired.  Occurrences whose end passed
while nobody was launching (downtime) become ``missed`` runs with an alarm: nothing is dropped silently.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import false, or_, select, true
from sqlalchemy.orm import Session, contains_eager, selectinload

from confbridge.alarms.service import raise_alarm
from confbridge.booking.models import Meeting, MeetingStatus, Occurrence, OccurrenceStatus
from confbridge.bridges import naming
from confbridge.db import chunked
from confbridge.directory.models import Endpoint
from confbridge.launch import approval_gate
from confbridge.launch.models import (
    ACTIVE_STATES,
    LEG_POSITIONS,
    TERMINAL_STATES,
    CallLeg,
    ConferenceRun,
    LegKind,
    LegState,
    RunState,
    TimelineKind,
)
from confbridge.launch.scope import Scope, owns, scoped
from confbridge.launch.state import leg_event, meeting_title, note, transition
from confbridge.notices import coded
from confbridge.settings import Settings


def desired_bridge(settings: Settings, meeting: Meeting) -> str:
    bridge = settings.bridge(meeting.bridge_name)
    if bridge is not None:
        return bridge.name
    return meeting.bridge_name or ""


def desired_clause(settings: Settings, scope: Scope | None) -> list[Any]:
    """A generous SQL condition on ``Meeting.bridge_name`` for the meetings *scope* may launch (the
    exact test is ``owns(scope, desired_bridge(…))``): with one engine per bridge, each engine's plan
    loaded every unplanned occurrence of every bridge and kept a tenth of them (1.7–14.8 s per plan at
    national scale, 500 occurrences due in one minute)."""
    if scope is None:
        return []
    column = Meeting.bridge_name
    parts: list[Any] = [column.in_(sorted(scope.bridges))] if scope.bridges else []
    default = settings.default_bridge()
    if scope.others or (default is not None and default.name in scope.bridges):
        parts.append(column.is_(None))  # no bridge chosen: the default one
    if scope.others:
        parts.append(column.notin_(sorted(scope.known)) if scope.known else true())
    return [or_(*parts) if parts else false()]


def desired_endpoints(session: Session, occurrence: Occurrence,
                      cache: dict[int, Endpoint] | None = None) -> list[Endpoint]:
    ids = occurrence.endpoint_ids or occurrence.meeting.endpoint_ids
    if not ids:
        return []
    if cache is not None and all(i in cache for i in ids):
        return [cache[i] for i in sorted(ids)]
    return list(session.scalars(select(Endpoint).where(Endpoint.id.in_(ids)).order_by(Endpoint.id)))


def _is_live_occurrence(occ: Occurrence | None) -> bool:
    return (
        occ is not None and occ.status == OccurrenceStatus.PLANNED
        and occ.meeting.status == MeetingStatus.PLANNED
    )


def joins_muted(meeting: Meeting, host_endpoint_id: int | None, endpoint_id: int | None) -> bool:
    """A meeting with ``join_muted``: everyone but the host joins with the microphone muted."""
    return bool(meeting.join_muted) and endpoint_id != host_endpoint_id


def _new_leg(run: ConferenceRun, endpoint: Endpoint, meeting: Meeting) -> CallLeg:
    return CallLeg(
        run_id=run.id, endpoint_id=endpoint.id, participant_name=naming.participant_name(endpoint.id),
        protocol=endpoint.protocol, address=endpoint.address, display_name=endpoint.name,
        state=LegState.PENDING, wanted=True, attempts=0,
        audio_muted=joins_muted(meeting, run.host_endpoint_id, endpoint.id), video_muted=False,
    )


def _sync_control(run: ConferenceRun, meeting: Meeting) -> None:
    """Before launch the run follows the meeting's host and join-muted choice (live, operators decide)."""
    run.host_endpoint_id = meeting.host_endpoint_id
    for leg in run.legs:
        if not leg.on_bridge:
            # The uplink carries the higher-level conference being relayed: never joined muted.
            leg.audio_muted = leg.kind != LegKind.UPLINK and joins_muted(meeting, run.host_endpoint_id,
                                                                         leg.endpoint_id)


def desired_externals(occurrence: Occurrence) -> dict[str, dict[str, Any]]:
    """The meeting's external participants by their MCU participant name (uplink first)."""
    out: dict[str, dict[str, Any]] = {}
    for item in occurrence.meeting.external_participants or []:
        out[naming.external_participant_name(item["protocol"], item["address"])] = item
    return out


def _new_external_leg(run: ConferenceRun, name: str, item: dict[str, Any]) -> CallLeg:
    kind = LegKind.UPLINK if item.get("uplink") else LegKind.EXTERNAL
    return CallLeg(
        run_id=run.id, endpoint_id=None, kind=kind, position=LEG_POSITIONS[kind], participant_name=name,
        protocol=item["protocol"], address=item["address"], display_name=item["name"],
        state=LegState.PENDING, wanted=True, attempts=0,
    )


def _sync_externals(session: Session, run: ConferenceRun, occ: Occurrence) -> None:
    """External participants follow the meeting like endpoints do: added, removed, re-added."""
    wanted = desired_externals(occ)
    legs = {leg.participant_name: leg for leg in run.legs if leg.kind in (LegKind.EXTERNAL, LegKind.UPLINK)}
    for name, leg in legs.items():
        item = wanted.get(name)
        if item is None and leg.wanted:
            leg.wanted = False
            if run.state == RunState.SCHEDULED or not leg.on_bridge:
                leg.state = LegState.REMOVED
            note(session, run, TimelineKind.NOTE, "leg.removed", {"endpoint": leg.display_name},
                 participant=name)
            leg_event(session, leg)
        elif item is not None:
            kind = LegKind.UPLINK if item.get("uplink") else LegKind.EXTERNAL
            if (leg.kind, leg.display_name) != (kind, item["name"]):
                leg.kind, leg.position, leg.display_name = kind, LEG_POSITIONS[kind], item["name"]
                leg_event(session, leg)
            if not leg.wanted and leg.state == LegState.REMOVED:
                leg.wanted, leg.state, leg.attempts, leg.next_attempt_at = True, LegState.PENDING, 0, None
                note(session, run, TimelineKind.NOTE, "leg.readded", {"endpoint": leg.display_name},
                     participant=name)
                leg_event(session, leg)
    for name, item in wanted.items():
        if name not in legs:
            leg = _new_external_leg(run, name, item)
            session.add(leg)
            run.legs.append(leg)
            note(session, run, TimelineKind.NOTE, "leg.added", {"endpoint": leg.display_name},
                 participant=name)
            session.flush()
            leg_event(session, leg)


def create_run(session: Session, settings: Settings, occ: Occurrence) -> ConferenceRun:
    meeting = occ.meeting
    run = ConferenceRun(
        occurrence_id=occ.id, meeting_id=meeting.id, bridge_name=desired_bridge(settings, meeting),
        conference_name=naming.conference_name(meeting.id, occ.original_start),
        state=RunState.SCHEDULED, planned_start=occ.window_start, planned_end=occ.effective_end,
        host_endpoint_id=meeting.host_endpoint_id, booked_at=meeting.created_at,
    )
    session.add(run)
    session.flush()
    for endpoint in desired_endpoints(session, occ):
        session.add(_new_leg(run, endpoint, meeting))
    for name, item in desired_externals(occ).items():
        session.add(_new_external_leg(run, name, item))
    note(session, run, TimelineKind.STATE, "run.scheduled",
         {"meeting": meeting.title, "start": run.planned_start.isoformat(), "end": run.planned_end.isoformat(),
          "bridge": run.bridge_name or coded("run.no_bridge")},
         outcome=RunState.SCHEDULED, planned_start=run.planned_start.isoformat(),
         planned_end=run.planned_end.isoformat())
    session.flush()
    session.refresh(run)
    return run


def _sync_legs(session: Session, run: ConferenceRun, occ: Occurrence,
               cache: dict[int, Endpoint] | None = None) -> None:
    wanted = {e.id: e for e in desired_endpoints(session, occ, cache)}
    _sync_externals(session, run, occ)
    endpoint_legs = [leg for leg in run.legs if leg.kind == LegKind.ENDPOINT]
    if {leg.endpoint_id for leg in endpoint_legs if leg.wanted} == set(wanted) and all(
            leg.wanted or leg.state != LegState.REMOVED for leg in endpoint_legs if leg.endpoint_id in wanted):
        return  # the common case, every tick: nothing changed
    for leg in endpoint_legs:
        if leg.endpoint_id not in wanted and leg.wanted:
            leg.wanted = False
            if run.state == RunState.SCHEDULED or not leg.on_bridge:
                leg.state = LegState.REMOVED
            note(session, run, TimelineKind.NOTE, "leg.removed", {"endpoint": leg.display_name},
                 endpoint_id=leg.endpoint_id)
            leg_event(session, leg)
        elif leg.endpoint_id in wanted and not leg.wanted and leg.state == LegState.REMOVED:
            # Re-added after removal: dial it again with a fresh attempt budget.
            leg.wanted, leg.state, leg.attempts, leg.next_attempt_at = True, LegState.PENDING, 0, None
            note(session, run, TimelineKind.NOTE, "leg.readded", {"endpoint": leg.display_name},
                 endpoint_id=leg.endpoint_id)
            leg_event(session, leg)
    present = {leg.endpoint_id for leg in endpoint_legs}
    for endpoint_id, endpoint in wanted.items():
        if endpoint_id not in present:
            leg = _new_leg(run, endpoint, occ.meeting)
            session.add(leg)
            run.legs.append(leg)
            note(session, run, TimelineKind.NOTE, "leg.added", {"endpoint": endpoint.name},
                 endpoint_id=endpoint_id)
            session.flush()
            leg_event(session, leg)


def _refresh(session: Session, settings: Settings, run: ConferenceRun, now: datetime,
             occ: Occurrence | None, cache: dict[int, Endpoint]) -> None:
    if not _is_live_occurrence(occ):
        if run.state == RunState.SCHEDULED:
            transition(session, run, RunState.CANCELLED, coded("why.occurrence_cancelled"))
        elif run.state in (RunState.STARTING, RunState.LIVE):
            transition(session, run, RunState.ENDING, coded("why.occurrence_cancelled"))
        return
    assert occ is not None
    start, end = occ.window_start, occ.effective_end
    if run.state == RunState.SCHEDULED and start != run.planned_start:
        note(session, run, TimelineKind.NOTE, "run.replanned", {"start": start.isoformat()},
             previous=run.planned_start.isoformat(), planned_start=start.isoformat())
        run.planned_start = start
    if end != run.planned_end and run.state in (RunState.SCHEDULED, RunState.STARTING, RunState.LIVE):
        note(session, run, TimelineKind.NOTE, "run.end_changed", {"end": end.isoformat()},
             previous=run.planned_end.isoformat(), planned_end=end.isoformat())
        run.planned_end = end
    if run.state == RunState.SCHEDULED:
        bridge = desired_bridge(settings, occ.meeting)
        if bridge != run.bridge_name:
            note(session, run, TimelineKind.NOTE, "run.bridge_changed",
                 {"previous": run.bridge_name or coded("run.no_bridge"), "bridge": bridge or coded("run.no_bridge")},
                 previous=run.bridge_name, bridge=bridge)
            run.bridge_name = bridge
    if run.state in (RunState.SCHEDULED, RunState.STARTING, RunState.LIVE):
        _sync_legs(session, run, occ, cache)
    if run.state == RunState.SCHEDULED:
        _sync_control(run, occ.meeting)
    if run.state == RunState.SCHEDULED and run.planned_end <= now:
        mark_missed(session, run)


def mark_missed(session: Session, run: ConferenceRun) -> None:
    transition(session, run, RunState.MISSED, coded("why.end_passed"))
    raise_alarm(
        session, "launch_missed", f"launch_missed:run={run.id}",
        "alarm.launch_missed", {"meeting": meeting_title(session, run)},
        severity="critical", meeting_id=run.meeting_id, conference_id=run.id, bridge_name=run.bridge_name,
    )


def plan(session: Session, settings: Settings, now: datetime, scope: Scope | None = None, *,
         refresh_within: timedelta | None = None) -> None:
    """Create runs for occurrences entering the lookahead window and refresh every open run.

    With a *scope* (one engine per held bridge), only the occurrences and runs on its bridges.  With
    *refresh_within* only the runs at a turning point are refreshed: due to start, or to end, before
    ``now + refresh_within`` (the engine refreshes every run every few seconds, and these at every
    tick: a meeting moved, extended or cancelled at the last moment is still followed on time)."""
    horizon = now + timedelta(minutes=settings.launch.lookahead_minutes)
    lookback = now - timedelta(hours=settings.launch.missed_lookback_hours)
    # Generous SQL bounds (setup ≤ limits.MAX_SETUP_MINUTES); exact window checks in Python.
    candidates = session.scalars(
        select(Occurrence)
        .join(Meeting, Meeting.id == Occurrence.meeting_id)
        .outerjoin(ConferenceRun, ConferenceRun.occurrence_id == Occurrence.id)
        .where(
            ConferenceRun.id.is_(None),
            Occurrence.status == OccurrenceStatus.PLANNED,
            Meeting.status == MeetingStatus.PLANNED,
            approval_gate.launchable(),
            Occurrence.start <= horizon + timedelta(hours=4),
            Occurrence.end >= lookback,
            *desired_clause(settings, scope),
        )
        .options(contains_eager(Occurrence.meeting).lazyload("*"))
        .order_by(Occurrence.start)
    ).all()
    for occ in candidates:
        if occ.window_start <= horizon and occ.effective_end > lookback \
                and owns(scope, desired_bridge(settings, occ.meeting)):
            run = create_run(session, settings, occ)
            if run.planned_end <= now:
                mark_missed(session, run)
    # Every open run is compared with its occurrence each tick: loaded in bulk (a handful of queries
    # whatever the number of runs), because on SQLite this transaction holds the database write lock.
    turning: list[Any] = []
    if refresh_within is not None:
        soon = now + refresh_within
        turning = [or_(
            (ConferenceRun.state == RunState.SCHEDULED) & (ConferenceRun.planned_start <= soon),
            ConferenceRun.state.in_([RunState.STARTING, RunState.LIVE]) & (ConferenceRun.planned_end <= soon),
        )]
    open_runs = session.scalars(
        select(ConferenceRun).where(ConferenceRun.state.notin_([str(s) for s in TERMINAL_STATES]),
                                    *scoped(scope, ConferenceRun.bridge_name), *turning)
    ).all()
    occ_ids = [r.occurrence_id for r in open_runs if r.occurrence_id is not None]
    occurrences: dict[int, Occurrence] = {}
    for chunk in chunked(occ_ids):
        # The meetings' own collections (attendees, co-organisers, endpoints…) only if a run needs them:
        # loading them for every open run on every tick was most of a steady-state tick's CPU.
        for occ in session.scalars(select(Occurrence).where(Occurrence.id.in_(chunk))
                                   .options(selectinload(Occurrence.meeting).lazyload("*"))):
            occurrences[occ.id] = occ
    endpoint_ids = {slot.endpoint_id for occ in occurrences.values() for slot in occ.slots}
    cache: dict[int, Endpoint] = {}
    for chunk in chunked(sorted(endpoint_ids)):
        for endpoint in session.scalars(select(Endpoint).where(Endpoint.id.in_(chunk))):
            cache[endpoint.id] = endpoint
    for run in open_runs:
        if run.state in ACTIVE_STATES or run.state == RunState.SCHEDULED:
            current = occurrences.get(run.occurrence_id) if run.occurrence_id is not None else None
            _refresh(session, settings, run, now, current, cache)
    if refresh_within is None:
        approval_gate.flag_overdue(session, now, lambda m: owns(scope, desired_bridge(settings, m)))
    session.flush()
