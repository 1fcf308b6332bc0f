"""Blackout windows: an endpoint or a bridge out of service over ``[start, end)`` (maintenance).

A blackout belongs to exactly one endpoint *or* one bridge (by its configured name).  Bookings that
overlap one are refused by :func:`confbridge.booking.conflicts.find_conflicts`; the operations that
create and delete blackouts are in :mod:`confbridge.maintenance.service`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from confbridge import clock
from confbridge.db import Base, UTCDateTime

REASON_MAX = 300


class Blackout(Base):
    __tablename__ = "blackouts"
    __table_args__ = (
        CheckConstraint("(endpoint_id IS NULL) <> (bridge_name IS NULL)", name="one_target"),
        Index("ix_blackouts_endpoint_window", "endpoint_id", "start", "end"),
        Index("ix_blackouts_bridge_window", "bridge_name", "start", "end"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    endpoint_id: Mapped[int | None] = mapped_column(ForeignKey("endpoints.id", ondelete="CASCADE"))
    bridge_name: Mapped[str | None] = mapped_column(String(64))
    start: Mapped[datetime] = mapped_column(UTCDateTime)
    end: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(String(REASON_MAX), default="")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "endpoint_id": self.endpoint_id, "bridge_name": self.bridge_name,
            "start": self.start.isoformat(), "end": self.end.isoformat(), "reason": self.reason,
            "created_by": self.created_by, "created_at": self.created_at.isoformat(),
        }
