"""Pre-flight test calls: one ``PreflightRun`` per trial of an occurrence, one ``PreflightResult`` per endpoint.

The rows decide (crash-safe like launches): the test conference's MCU name is derived from the row id
(``cb-pf-<id>``), committed before the bridge hears of it, so a restarted scheduler adopts it, and the
``phase`` column says what remains to do — create, dial, watch, tear down — each step idempotent.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from confbridge import clock
from confbridge.db import Base, UTCDateTime


class PreflightPhase(StrEnum):
    PENDING = "pending"  # requested; the scheduler creates the test conference
    DIALLING = "dialling"  # the conference exists; endpoints are dialled and watched
    TEARDOWN = "teardown"  # results are final; the test conference is to be destroyed
    DONE = "done"  # destroyed (exactly once)


class ResultStatus(StrEnum):
    PENDING = "pending"
    DIALLING = "dialling"
    READY = "ready"
    FAILED = "failed"
    SKIPPED = "skipped"  # the endpoint is in another conference right now: not disturbed


class PreflightRun(Base):
    __tablename__ = "preflight_runs"
    __table_args__ = (Index("ix_preflight_runs_occurrence_id", "occurrence_id"),
                      Index("ix_preflight_runs_phase", "phase"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    occurrence_id: Mapped[int | None] = mapped_column(ForeignKey("occurrences.id", ondelete="SET NULL"))
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meetings.id", ondelete="SET NULL"))
    bridge_name: Mapped[str] = mapped_column(String(64))
    phase: Mapped[str] = mapped_column(String(20), default=PreflightPhase.PENDING)
    trigger: Mapped[str] = mapped_column(String(10), default="manual")  # manual | auto
    requested_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    conference_ready: Mapped[bool] = mapped_column(Boolean, default=False)
    last_reason: Mapped[str | None] = mapped_column(Text)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deadline: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    torn_down_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    results: Mapped[list[PreflightResult]] = relationship(
        back_populates="preflight", cascade="all, delete-orphan", lazy="selectin",
        order_by="PreflightResult.endpoint_id")

    @property
    def conference_name(self) -> str:
        return f"cb-pf-{self.id}"

    def as_dict(self) -> dict[str, Any]:
        ready = sum(1 for r in self.results if r.status == ResultStatus.READY)
        return {
            "id": self.id, "meeting_id": self.meeting_id, "occurrence_id": self.occurrence_id,
            "bridge_name": self.bridge_name, "phase": self.phase, "trigger": self.trigger,
            "conference_name": self.conference_name,
            "requested_at": self.requested_at.isoformat(),
            "started_at": self.started_at.isoformat() if self.started_at else None,
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "torn_down_at": self.torn_down_at.isoformat() if self.torn_down_at else None,
            "reason": self.last_reason, "ready": ready, "total": len(self.results),
            "results": [r.as_dict() for r in self.results],
        }


class PreflightResult(Base):
    __tablename__ = "preflight_results"
    __table_args__ = (UniqueConstraint("preflight_id", "endpoint_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    preflight_id: Mapped[int] = mapped_column(ForeignKey("preflight_runs.id", ondelete="CASCADE"))
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("endpoints.id", ondelete="CASCADE"))
    participant_name: Mapped[str] = mapped_column(String(31))
    protocol: Mapped[str] = mapped_column(String(8))
    address: Mapped[str] = mapped_column(String(255))
    display_name: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(20), default=ResultStatus.PENDING)
    reason: Mapped[str | None] = mapped_column(String(40))  # busy | no_answer | unreachable | in_conference…
    at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # when the status became final

    preflight: Mapped[PreflightRun] = relationship(back_populates="results")

    def as_dict(self) -> dict[str, Any]:
        return {"endpoint_id": self.endpoint_id, "display_name": self.display_name, "status": self.status,
                "reason": self.reason, "at": self.at.isoformat() if self.at else None}
