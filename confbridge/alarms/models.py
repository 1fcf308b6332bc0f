"""Alarm records.

An alarm is identified by its ``key`` while open (e.g. ``dial_failed:run=12:endpoint=3``): raising the
same key again refreshes the open alarm instead of adding a duplicate.  Acknowledging records who and when;
clearing closes it (a later raise of the same key opens a new one).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from confbridge import clock
from confbridge.db import Base, UTCDateTime
from confbridge.notices import render

ALARM_KINDS = (
    "endpoint_offline",
    "dial_failed",
    "call_dropped",
    "packet_loss",
    "bridge_unreachable",
    "bridge_auth",
    "bridge_capacity",
    "scheduler_heartbeat",
    "launch_missed",
    "launch_late",
    "mail_failed",
    "preflight_failed",
    "blackout_overlap",
    "approval_overdue",
)


class Alarm(Base):
    __tablename__ = "alarms"
    __table_args__ = (
        Index("ix_alarms_key_open", "key", "cleared_at"),
        # One open alarm per key, whoever raises it (launch engine, monitor, two schedulers): migration 0017.
        Index("ux_alarms_open_key", "key", unique=True, postgresql_where=text("cleared_at IS NULL"),
              sqlite_where=text("cleared_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(40))
    severity: Mapped[str] = mapped_column(String(10), default="major")  # critical | major | minor | info
    message: Mapped[str] = mapped_column(Text)  # the Vietnamese text; what rows written before codes show
    code: Mapped[str | None] = mapped_column(String(60))  # confbridge.notices code, rendered when read
    params: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=dict)
    endpoint_id: Mapped[int | None] = mapped_column(ForeignKey("endpoints.id", ondelete="SET NULL"))
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meetings.id", ondelete="SET NULL"))
    conference_id: Mapped[int | None] = mapped_column(Integer)
    bridge_name: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now, index=True)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    count: Mapped[int] = mapped_column(Integer, default=1)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    cleared_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def is_open(self) -> bool:
        return self.cleared_at is None

    def text(self, locale: str | None) -> str:
        """The alarm in *locale* (the stored text for rows written before codes)."""
        return render(self.code, self.params, locale, fallback=self.message)

    def as_dict(self, locale: str | None = None) -> dict[str, Any]:
        return {
            "id": self.id, "key": self.key, "kind": self.kind, "severity": self.severity,
            "message": self.text(locale), "code": self.code, "params": self.params or {},
            "endpoint_id": self.endpoint_id, "meeting_id": self.meeting_id,
            "conference_id": self.conference_id, "bridge_name": self.bridge_name,
            "raised_at": self.raised_at.isoformat(), "last_seen_at": self.last_seen_at.isoformat(),
            "count": self.count,
            "acknowledged_at": self.acknowledged_at.isoformat() if self.acknowledged_at else None,
            "acknowledged_by": self.acknowledged_by,
            "cleared_at": self.cleared_at.isoformat() if self.cleared_at else None,
        }
