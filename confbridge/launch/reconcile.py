"""Reconcile: compare our runs with what a bridge reports, and converge.

- a conference of ours (``naming``) that an open run expects but has not confirmed → adopted;
- an open run whose conference vanished from the bridge → re-created and re-dialled;
- a conference of ours whose run is over (or that no planned occurrence wants) → torn down;
- a participant of ours → its leg adopts the reported state (a dial sent before a crash is not repeated);
- anything not named by us (another system's conference, ad-hoc dial-ins) → never touched.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta

from sqlalchemy import or_, select

from confbridge import clock
from confbridge.booking.models import Meeting, MeetingStatus, Occurrence, OccurrenceStatus
from confbridge.bridges import naming
from confbridge.bridges.base import BridgeDriver
from confbridge.bridges.view import ParticipantView
from confbridge.launch.faults import describe
from confbridge.launch.legs import apply_report
from confbridge.launch.models import TERMINAL_STATES, ConferenceRun, LegState, RunState, TimelineKind
from confbridge.launch.state import leg_event, note
from confbridge.launch.steps import StepContext

log = logging.getLogger(__name__)


def _wanted_by_booking(session: object, name: str) -> bool:
    from sqlalchemy.orm import Session

    assert isinstance(session, Session)
    parsed = naming.parse_conference_name(name)
    if parsed is None or not parsed[0].isdigit():
        return False
    meeting_id, start = int(parsed[0]), parsed[1]
    occ = session.scalars(select(Occurrence).join(Meeting).where(
        Occurrence.meeting_id == meeting_id,
        Occurrence.original_start >= start, Occurrence.original_start < start + timedelta(minutes=1),
        Occurrence.status == OccurrenceStatus.PLANNED, Meeting.status == MeetingStatus.PLANNED,
    )).first()
    return occ is not None and occ.effective_end > clock.now()


def reconcile_bridge(ctx: StepContext, driver: BridgeDriver, bridge: str,
                     view: ParticipantView | None = None, *, full: bool = True) -> None:
    if not ctx.fence.valid_locally():
        return
    listed_at = time.monotonic()
    try:
        conferences = driver.list_conferences(count_participants=False)  # names are enough here
        # At start-up a full read, which also primes the view the polls' delta reads start from.  The
        # periodic reconcile reads the view's changes: a full read of a 600-leg bridge is 120 pages
        # (18 s at 150 ms a call), a third of a bridge's request capacity every 15 s; the view makes
        # its own full read every few minutes (``FULL_READ_SECONDS``) as the safety net.
        participants = view.read(full=full) if view is not None else driver.list_participants()
    except Exception as exc:
        log.warning("bridge %s: reconcile could not list the bridge: %s", bridge, describe(exc))
        return
    present = {c.name for c in conferences}
    by_key = {(p.conference, p.participant_name): p for p in participants}
    now = clock.now()
    leftovers: list[tuple[str, int | None]] = []
    with ctx.write() as s:
        runs = s.scalars(select(ConferenceRun).where(
            ConferenceRun.bridge_name == bridge,
            or_(ConferenceRun.state.notin_([str(x) for x in TERMINAL_STATES]),
                ConferenceRun.ended_at >= now - timedelta(days=2)),
        )).all()
        by_name = {r.conference_name: r for r in runs}
        busy = ctx.inflight()
        for name in sorted(present):
            if naming.parse_conference_name(name) is None:
                continue  # not ours: never touched
            run = by_name.get(name)
            if run is None:
                if not _wanted_by_booking(s, name):
                    leftovers.append((name, None))
            elif run.state in TERMINAL_STATES:
                leftovers.append((name, run.id))
            elif run.state in (RunState.STARTING, RunState.LIVE) and not run.conference_ready \
                    and ctx.run_settled(run.id, listed_at, busy):
                run.conference_ready = True
                run.retry_at = None
                note(s, run, TimelineKind.NOTE, "reconcile.adopted", outcome="adopted")
        for run in runs:
            if run.state not in (RunState.STARTING, RunState.LIVE) or not run.conference_ready:
                continue
            if run.conference_name not in present:
                if not ctx.run_settled(run.id, listed_at, busy) or any(
                        not ctx.leg_settled(leg.id, listed_at, busy) for leg in run.legs):
                    continue
                run.conference_ready = False
                note(s, run, TimelineKind.NOTE, "reconcile.recreate", outcome="recreate")
                for leg in run.legs:
                    leg.on_bridge = False
                    if leg.wanted and leg.state in (LegState.CONNECTED, LegState.DIALLING):
                        leg.state = LegState.PENDING
                        leg.next_attempt_at = None
                        leg_event(s, leg)
                continue
            for leg in run.legs:
                if ctx.leg_settled(leg.id, listed_at, busy):
                    apply_report(s, ctx.settings, run, leg, by_key.get((run.conference_name,
                                                                        leg.participant_name)), now)
    for name, run_id in leftovers:
        if not ctx.fence.valid_locally():
            return
        try:
            driver.destroy_conference(name)
            outcome, reason = "ok", None
        except Exception as exc:
            outcome, reason = "error", describe(exc)
        log.info("bridge %s: reconcile destroyed leftover conference %s (%s)", bridge, name, outcome)
        if run_id is not None:
            with ctx.write() as s:
                run = s.get(ConferenceRun, run_id)
                if run is not None:
                    note(s, run, TimelineKind.BRIDGE_CALL, "reconcile.leftover", {"name": name},
                         outcome=outcome, reason=reason)
