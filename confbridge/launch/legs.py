"""Leg bookkeeping shared by the executor, the poller and reconcile: outcomes of dials and bridge reports."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from confbridge import notices
from confbridge.alarms.service import clear_alarm, raise_alarm
from confbridge.bridges.base import ParticipantInfo
from confbridge.launch.models import CallLeg, ConferenceRun, LegState, TimelineKind
from confbridge.launch.state import leg_event, meeting_title, note
from confbridge.settings import Settings


def leg_ref(leg: CallLeg) -> str:
    """The leg in an alarm key: ``endpoint=<id>`` for a directory endpoint, else its participant name."""
    return f"endpoint={leg.endpoint_id}" if leg.endpoint_id is not None else f"participant={leg.participant_name}"


def dial_failed(session: Session, settings: Settings, run: ConferenceRun, leg: CallLeg, reason: str,
                now: datetime, *, retry: bool = True) -> None:
    """One dial attempt failed: schedule the next attempt, or give up and raise ``dial_failed``.

    *reason* is a driver's reason code (``busy``: shown translated) or a bridge's own error text."""
    leg.last_reason = reason
    if retry and leg.attempts < settings.launch.dial_attempts and now < run.planned_end:
        leg.state = LegState.PENDING
        leg.next_attempt_at = now + timedelta(seconds=settings.launch.dial_backoff_seconds)
        note(session, run, TimelineKind.NOTE, "leg.retry",
             {"endpoint": leg.display_name, "attempt": leg.attempts, "reason": notices.reason(reason),
              "at": leg.next_attempt_at.isoformat()},
             outcome="retry", endpoint_id=leg.endpoint_id, reason=reason, attempts=leg.attempts)
    else:
        leg.state = LegState.FAILED
        leg.next_attempt_at = None
        note(session, run, TimelineKind.NOTE, "leg.failed",
             {"endpoint": leg.display_name, "attempts": leg.attempts, "reason": notices.reason(reason)},
             outcome="failed", endpoint_id=leg.endpoint_id, reason=reason, attempts=leg.attempts)
        raise_alarm(session, "dial_failed", f"dial_failed:run={run.id}:{leg_ref(leg)}",
                    "alarm.dial_failed",
                    {"endpoint": leg.display_name, "meeting": meeting_title(session, run),
                     "attempts": leg.attempts, "reason": notices.reason(reason)}, endpoint_id=leg.endpoint_id,
                    meeting_id=run.meeting_id, conference_id=run.id, bridge_name=run.bridge_name,
                    reason=reason, attempts=leg.attempts)
    leg_event(session, leg)


def mark_connected(session: Session, run: ConferenceRun, leg: CallLeg, now: datetime) -> None:
    leg.state = LegState.CONNECTED
    leg.connected_at = now
    leg.next_attempt_at = None
    leg.last_reason = None
    note(session, run, TimelineKind.NOTE, "leg.connected", {"endpoint": leg.display_name}, outcome="connected",
         endpoint_id=leg.endpoint_id, attempts=leg.attempts)
    clear_alarm(session, f"dial_failed:run={run.id}:{leg_ref(leg)}")
    leg_event(session, leg)


def report_changes_nothing(state: str, wanted: bool, on_bridge: bool, audio_muted: bool, video_muted: bool,
                           info: ParticipantInfo | None) -> bool:
    """True when ``apply_report`` would leave a leg with these columns exactly as it is: a call that
    holds, a dial still ringing, a leg that is over.  The poll reads its legs as plain columns and loads
    only the runs with a leg this is False for (most legs of most polls: 600 a bridge at national scale,
    every 2 s)."""
    if not wanted or state in (LegState.REMOVED, LegState.DISCONNECTED, LegState.FAILED):
        return info is None or on_bridge
    if info is None:
        return not on_bridge and state != LegState.DIALLING
    return (on_bridge and (audio_muted, video_muted) == (info.audio_muted, info.video_muted)
            and (state, info.state) in ((LegState.CONNECTED, "connected"), (LegState.DIALLING, "dialling")))


def apply_report(session: Session, settings: Settings, run: ConferenceRun, leg: CallLeg,
                 info: ParticipantInfo | None, now: datetime) -> None:
    """Fold what the bridge reports about *leg* into our row (poll and reconcile)."""
    if not leg.wanted or leg.state in (LegState.REMOVED, LegState.DISCONNECTED, LegState.FAILED):
        if info is not None:
            leg.on_bridge = True
        return
    if info is None:
        if leg.state == LegState.DIALLING and not leg.on_bridge:
            # The dial was decided but never reached the bridge (crash or lost request): send it again
            # as the same attempt.
            leg.state = LegState.PENDING
            leg.attempts = max(0, leg.attempts - 1)
            leg.next_attempt_at = None
            note(session, run, TimelineKind.NOTE, "leg.resend", {"endpoint": leg.display_name},
                 endpoint_id=leg.endpoint_id)
            leg_event(session, leg)
        elif leg.on_bridge:
            leg.on_bridge = False
            if leg.state in (LegState.CONNECTED, LegState.DIALLING):
                note(session, run, TimelineKind.NOTE, "leg.vanished", {"endpoint": leg.display_name},
                     endpoint_id=leg.endpoint_id)
                leg.state = LegState.PENDING
                leg.next_attempt_at = None
                leg_event(session, leg)
        return
    leg.on_bridge = True
    if (leg.audio_muted, leg.video_muted) != (info.audio_muted, info.video_muted):
        leg.audio_muted, leg.video_muted = info.audio_muted, info.video_muted
        leg_event(session, leg)
    if info.state == "connected":
        if leg.state != LegState.CONNECTED:
            mark_connected(session, run, leg, now)
    elif info.state == "dialling":
        if leg.state == LegState.PENDING and leg.attempts == 0:
            leg.attempts = 1  # adopted a dial we sent before a crash
        if leg.state in (LegState.PENDING, LegState.DIALLING) and leg.next_attempt_at is None:
            leg.state = LegState.DIALLING
    else:  # failed or disconnected
        reason = info.reason or "other"
        if leg.state == LegState.CONNECTED:
            note(session, run, TimelineKind.NOTE, "leg.dropped",
                 {"endpoint": leg.display_name, "reason": notices.reason(reason)},
                 outcome="dropped", endpoint_id=leg.endpoint_id, reason=reason)
            raise_alarm(session, "call_dropped", f"call_dropped:run={run.id}:{leg_ref(leg)}",
                        "alarm.call_dropped", {"endpoint": leg.display_name, "meeting": meeting_title(session, run),
                                               "reason": notices.reason(reason)},
                        endpoint_id=leg.endpoint_id, meeting_id=run.meeting_id, conference_id=run.id,
                        bridge_name=run.bridge_name, reason=reason)
            dial_failed(session, settings, run, leg, reason, now)
        elif leg.state == LegState.DIALLING:
            dial_failed(session, settings, run, leg, reason, now)
