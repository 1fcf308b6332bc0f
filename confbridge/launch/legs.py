"""Leg bookkeeping shared by the executor, the poller and reconcile: outcomes of dials and bridge reports."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from confbridge.alarms.service import clear_alarm, raise_alarm
from confbridge.bridges.base import ParticipantInfo
from confbridge.launch.models import CallLeg, ConferenceRun, LegState, TimelineKind
from confbridge.launch.state import leg_event, note
from confbridge.settings import Settings

REASON_LABELS = {
    "busy": "máy bận / busy", "no_answer": "không trả lời / no answer", "rejected": "từ chối / rejected",
    "unreachable": "không liên lạc được / unreachable", "remote_hangup": "đầu xa ngắt / remote hang-up",
    "operator": "kỹ thuật viên ngắt / operator", "ended": "kết thúc / ended", "other": "khác / other",
}


def dial_failed(session: Session, settings: Settings, run: ConferenceRun, leg: CallLeg, reason: str,
                now: datetime, *, retry: bool = True) -> None:
    """One dial attempt failed: schedule the next attempt, or give up and raise ``dial_failed``."""
    leg.last_reason = reason
    if retry and leg.attempts < settings.launch.dial_attempts and now < run.planned_end:
        leg.state = LegState.PENDING
        leg.next_attempt_at = now + timedelta(seconds=settings.launch.dial_backoff_seconds)
        note(session, run, TimelineKind.NOTE,
             f"Gọi lần {leg.attempts} thất bại ({reason}); gọi lại lúc {leg.next_attempt_at.isoformat()} / "
             f"dial attempt failed, retry scheduled", outcome="retry", endpoint_id=leg.endpoint_id,
             reason=reason, attempts=leg.attempts)
    else:
        leg.state = LegState.FAILED
        leg.next_attempt_at = None
        note(session, run, TimelineKind.NOTE,
             f"Không gọi được điểm cầu sau {leg.attempts} lần ({reason}) / dial failed",
             outcome="failed", endpoint_id=leg.endpoint_id, reason=reason, attempts=leg.attempts)
        raise_alarm(session, "dial_failed", f"dial_failed:run={run.id}:endpoint={leg.endpoint_id}",
                    f"Không gọi được {leg.display_name} vào {run.conference_name} sau {leg.attempts} lần: "
                    f"{reason} / could not dial the endpoint", endpoint_id=leg.endpoint_id,
                    meeting_id=run.meeting_id, conference_id=run.id, bridge_name=run.bridge_name,
                    reason=reason, attempts=leg.attempts)
    leg_event(session, leg)


def mark_connected(session: Session, run: ConferenceRun, leg: CallLeg, now: datetime) -> None:
    leg.state = LegState.CONNECTED
    leg.connected_at = now
    leg.next_attempt_at = None
    leg.last_reason = None
    note(session, run, TimelineKind.NOTE, f"{leg.display_name}: đã kết nối / connected", outcome="connected",
         endpoint_id=leg.endpoint_id, attempts=leg.attempts)
    clear_alarm(session, f"dial_failed:run={run.id}:endpoint={leg.endpoint_id}")
    leg_event(session, leg)


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
            note(session, run, TimelineKind.NOTE, "Lệnh gọi chưa tới MCU; gửi lại / dial never reached the "
                 "bridge; re-sending", endpoint_id=leg.endpoint_id)
            leg_event(session, leg)
        elif leg.on_bridge:
            leg.on_bridge = False
            if leg.state in (LegState.CONNECTED, LegState.DIALLING):
                note(session, run, TimelineKind.NOTE, "Điểm cầu không còn trên MCU / participant vanished "
                     "from the bridge", endpoint_id=leg.endpoint_id)
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
            note(session, run, TimelineKind.NOTE, f"{leg.display_name}: cuộc gọi bị rớt ({reason}) / "
                 "call dropped", outcome="dropped", endpoint_id=leg.endpoint_id, reason=reason)
            raise_alarm(session, "call_dropped", f"call_dropped:run={run.id}:endpoint={leg.endpoint_id}",
                        f"{leg.display_name} rớt khỏi {run.conference_name} ({reason}) / call dropped",
                        endpoint_id=leg.endpoint_id, meeting_id=run.meeting_id, conference_id=run.id,
                        bridge_name=run.bridge_name, reason=reason)
            dial_failed(session, settings, run, leg, REASON_LABELS.get(reason, reason), now)
        elif leg.state == LegState.DIALLING:
            dial_failed(session, settings, run, leg, REASON_LABELS.get(reason, reason), now)
