"""Durable launch state: one ``ConferenceRun`` per occurrence, one ``CallLeg`` per endpoint, a timeline.

These rows — not APScheduler's job store — are the record of what must happen and what happened: the
scheduler reads them every tick, so a crash, a restart or a clock jump loses nothing.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from confbridge import clock
from confbridge.db import Base, UTCDateTime
from confbridge.notices import render


class RunState(StrEnum):
    SCHEDULED = "scheduled"
    STARTING = "starting"
    LIVE = "live"
    ENDING = "ending"
    ENDED = "ended"
    FAILED = "failed"
    MISSED = "missed"
    CANCELLED = "cancelled"


TERMINAL_STATES = frozenset({RunState.ENDED, RunState.FAILED, RunState.MISSED, RunState.CANCELLED})
ACTIVE_STATES = frozenset({RunState.STARTING, RunState.LIVE, RunState.ENDING})


class LegState(StrEnum):
    PENDING = "pending"  # to be dialled (first time, or again at next_attempt_at)
    DIALLING = "dialling"  # a dial was decided (committed) and maybe sent; the bridge tells the rest
    CONNECTED = "connected"
    DISCONNECTED = "disconnected"  # hung up (operator or end of the conference)
    FAILED = "failed"  # attempts exhausted or a fault that must not be retried
    REMOVED = "removed"  # endpoint taken out of the meeting while live; hung up and removed


class ConferenceRun(Base):
    __tablename__ = "conference_runs"
    __table_args__ = (Index("ix_conference_runs_state_planned_start", "state", "planned_start"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # SET NULL: the run (and its timeline) outlives a deleted occurrence; the planner then ends/cancels it.
    occurrence_id: Mapped[int | None] = mapped_column(
        ForeignKey("occurrences.id", ondelete="SET NULL"), unique=True
    )
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meetings.id", ondelete="SET NULL"), index=True)
    bridge_name: Mapped[str] = mapped_column(String(64))
    conference_name: Mapped[str] = mapped_column(String(31))
    state: Mapped[str] = mapped_column(String(20), default=RunState.SCHEDULED)
    planned_start: Mapped[datetime] = mapped_column(UTCDateTime, index=True)  # occurrence start - setup
    planned_end: Mapped[datetime] = mapped_column(UTCDateTime)  # occurrence end + extension
    # True once the bridge confirmed the conference exists (created or adopted).
    conference_ready: Mapped[bool] = mapped_column(Boolean, default=False)
    first_call_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lateness_ms: Mapped[int | None] = mapped_column(Integer)
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    # Next instant the executor should retry a bridge-level step (create/teardown) after a fault.
    retry_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_reason: Mapped[str | None] = mapped_column(Text)
    # The endpoint in focus on the bridge (``important``): the meeting's host at launch, moved live by an
    # operator (PATCH /conferences/{id}); kept across redials and scheduler take-overs.
    host_endpoint_id: Mapped[int | None] = mapped_column(Integer)
    # The layout an operator chose ("voice-switched" | "host-large" | "grid"); None: the bridge's default.
    layout: Mapped[str | None] = mapped_column(String(20))
    # When the meeting was booked: an urgent meeting booked after its setup window began is due then,
    # not at ``planned_start`` (it is not "late").
    booked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    live_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now, onupdate=clock.now)

    legs: Mapped[list[CallLeg]] = relationship(
        back_populates="run", cascade="all, delete-orphan", lazy="selectin",
        order_by=lambda: [CallLeg.position, CallLeg.endpoint_id, CallLeg.id],
    )

    @property
    def due_at(self) -> datetime:
        """When the launch should begin: the setup time, or the booking time if that came later."""
        if self.booked_at is not None and self.booked_at > self.planned_start:
            return self.booked_at
        return self.planned_start

    @property
    def is_terminal(self) -> bool:
        return self.state in TERMINAL_STATES

    def leg_for(self, endpoint_id: int) -> CallLeg | None:
        return next((leg for leg in self.legs if leg.endpoint_id == endpoint_id), None)

    def leg_named(self, participant_name: str) -> CallLeg | None:
        return next((leg for leg in self.legs if leg.participant_name == participant_name), None)


class LegKind(StrEnum):
    """What a leg calls: a directory endpoint, an external participant (the ``uplink`` one relays the
    higher-level conference), or someone who dialled in by the conference's number (never dialled by us)."""

    UPLINK = "uplink"
    ENDPOINT = "endpoint"
    EXTERNAL = "external"
    DIAL_IN = "dial_in"


# Roster and dial order: the uplink first, then the endpoints, the other externals, the dial-ins.
LEG_POSITIONS = {LegKind.UPLINK: 0, LegKind.ENDPOINT: 1, LegKind.EXTERNAL: 2, LegKind.DIAL_IN: 3}


# Why a dial attempt failed, as the drivers report it; anything else a bridge said is ``bridge_error``.
DIAL_REASONS = ("busy", "no_answer", "rejected", "unreachable", "remote_hangup", "other")
# Reasons that end a leg on purpose (not a failed attempt): they never replace the last failure.
_NOT_FAILURES = frozenset({"ended", "operator"})


def normalise_reason(reason: str | None) -> str | None:
    """The failure code of a leg's ``last_reason`` (``None`` when it is no failure)."""
    if reason is None or reason in _NOT_FAILURES:
        return None
    if reason in DIAL_REASONS:
        return reason
    return "bridge_error"


class CallLeg(Base):
    __tablename__ = "call_legs"
    __table_args__ = (UniqueConstraint("run_id", "endpoint_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("conference_runs.id", ondelete="CASCADE"))
    # None for external participants and dial-ins (not in the directory).
    endpoint_id: Mapped[int | None] = mapped_column(ForeignKey("endpoints.id"))
    kind: Mapped[str] = mapped_column(String(10), default=LegKind.ENDPOINT)
    position: Mapped[int] = mapped_column(Integer, default=LEG_POSITIONS[LegKind.ENDPOINT])
    participant_name: Mapped[str] = mapped_column(String(31))
    protocol: Mapped[str] = mapped_column(String(8))
    address: Mapped[str] = mapped_column(String(255))
    display_name: Mapped[str] = mapped_column(String(200), default="")
    state: Mapped[str] = mapped_column(String(20), default=LegState.PENDING)
    # False once the endpoint left the meeting or an operator disconnected it: never dialled again.
    wanted: Mapped[bool] = mapped_column(Boolean, default=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_reason: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # True once this leg's participant exists on the bridge (participant.add succeeded or was adopted).
    on_bridge: Mapped[bool] = mapped_column(Boolean, default=False)
    audio_muted: Mapped[bool] = mapped_column(Boolean, default=False)
    video_muted: Mapped[bool] = mapped_column(Boolean, default=False)
    connected_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now, onupdate=clock.now)
    # The final record (kept whatever the end, the take-over or the teardown write later; see
    # ``_track_state``/``_keep_failure``): first connect, seconds connected, drops, last failure's code.
    first_connected_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    connected_seconds: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    drops: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    fail_reason: Mapped[str | None] = mapped_column(String(20))
    # The attempt that first connected (1: connected at the first dial).
    first_connect_attempt: Mapped[int | None] = mapped_column(Integer)

    run: Mapped[ConferenceRun] = relationship(back_populates="legs")

    @validates("state")
    def _track_state(self, _key: str, value: str) -> str:
        """Every way out of ``connected`` adds the seconds connected; a way back to dialling is a drop."""
        now = clock.now()
        if value == LegState.CONNECTED and self.first_connected_at is None:
            self.first_connected_at = now
            self.first_connect_attempt = self.attempts
        if self.state == LegState.CONNECTED and value != LegState.CONNECTED:
            if self.connected_at is not None:
                seconds = int((now - self.connected_at).total_seconds())
                self.connected_seconds = (self.connected_seconds or 0) + max(0, seconds)
            if value in (LegState.PENDING, LegState.DIALLING, LegState.FAILED):
                self.drops = (self.drops or 0) + 1
        return value

    @validates("last_reason")
    def _keep_failure(self, _key: str, value: str | None) -> str | None:
        code = normalise_reason(value)
        if code is not None:
            self.fail_reason = code
        return value

    @property
    def outcome(self) -> str:
        """``connected`` once it ever connected, ``failed`` when dialled and never connected, else
        ``not_dialled``."""
        if self.first_connected_at is not None:
            return "connected"
        return "failed" if (self.attempts or 0) > 0 else "not_dialled"

    def connected_seconds_until(self, end: datetime) -> int:
        """Seconds connected, counting a leg still connected up to *end*."""
        total = self.connected_seconds or 0
        if self.state == LegState.CONNECTED and self.connected_at is not None:
            total += max(0, int((end - self.connected_at).total_seconds()))
        return total

    def as_dict(self) -> dict[str, Any]:
        return {
            "endpoint_id": self.endpoint_id, "kind": self.kind, "participant_name": self.participant_name,
            "address": None if self.kind == LegKind.ENDPOINT else self.address,
            "display_name": self.display_name, "state": self.state, "attempts": self.attempts,
            "reason": self.last_reason, "audio_muted": self.audio_muted, "video_muted": self.video_muted,
            "connected_at": self.connected_at.isoformat() if self.connected_at else None,
            "next_attempt_at": self.next_attempt_at.isoformat() if self.next_attempt_at else None,
        }


class TimelineKind(StrEnum):
    STATE = "state"
    BRIDGE_CALL = "bridge_call"
    OPERATOR = "operator"
    NOTE = "note"


class TimelineEntry(Base):
    """The flight recorder: every state change and every bridge call with its outcome."""

    __tablename__ = "conference_timeline"
    __table_args__ = (Index("ix_conference_timeline_run_id_at", "run_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("conference_runs.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    kind: Mapped[str] = mapped_column(String(20))
    message: Mapped[str] = mapped_column(Text)  # the Vietnamese text; what rows written before codes show
    code: Mapped[str | None] = mapped_column(String(60))  # confbridge.notices code, rendered when read
    params: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=dict)
    outcome: Mapped[str | None] = mapped_column(String(40))
    endpoint_id: Mapped[int | None] = mapped_column(Integer)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    def text(self, locale: str | None) -> str:
        """The entry in *locale* (the stored text for rows written before codes)."""
        return render(self.code, self.params, locale, fallback=self.message)

    def as_dict(self, locale: str | None = None) -> dict[str, Any]:
        return {
            "id": self.id, "at": self.at.isoformat(), "kind": self.kind, "message": self.text(locale),
            "code": self.code, "params": self.params or {},
            "outcome": self.outcome, "endpoint_id": self.endpoint_id, "user_id": self.user_id,
            "details": self.details,
        }


class SchedulerLease(Base):
    """Leader lease: one row per lease name; ``token`` only ever grows (the fencing token)."""

    __tablename__ = "scheduler_lease"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    holder: Mapped[str] = mapped_column(String(120))
    token: Mapped[int] = mapped_column(Integer, default=0)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    acquired_at: Mapped[datetime] = mapped_column(UTCDateTime)
    renewed_at: Mapped[datetime] = mapped_column(UTCDateTime)
