"""Endpoint status: the current normalised status per endpoint, and its history for uptime reports.

``EndpointStatus`` holds one row per endpoint (the latest verdict); every change closes the open
``EndpointStatusHistory`` row and opens a new one, so "how long was Phú Quốc offline last month" is a
sum over rows, never a guess from logs.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from confbridge import clock
from confbridge.db import Base, UTCDateTime

STATUSES = ("unknown", "offline", "idle", "dialling", "in_call", "muted", "degraded", "failed")


class EndpointStatus(Base):
    __tablename__ = "endpoint_status"

    endpoint_id: Mapped[int] = mapped_column(
        ForeignKey("endpoints.id", ondelete="CASCADE"), primary_key=True
    )
    status: Mapped[str] = mapped_column(String(20), default="unknown")
    since: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    # The run the endpoint is in (or was last in) when the status comes from a call.
    conference_id: Mapped[int | None] = mapped_column(Integer)
    packet_loss: Mapped[str] = mapped_column(String(10), default="none")
    detail: Mapped[str] = mapped_column(Text, default="")

    def as_dict(self) -> dict[str, Any]:
        return {
            "endpoint_id": self.endpoint_id, "status": self.status, "since": self.since.isoformat(),
            "checked_at": self.checked_at.isoformat(), "conference_id": self.conference_id,
            "packet_loss": self.packet_loss, "detail": self.detail,
        }


class EndpointStatusHistory(Base):
    __tablename__ = "endpoint_status_history"
    __table_args__ = (Index("ix_endpoint_status_history_endpoint_started", "endpoint_id", "started_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("endpoints.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(20))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
