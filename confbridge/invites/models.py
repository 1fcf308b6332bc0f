"""The invitation outbox: one row per e-mail, queued in the booking's own transaction.

The row holds the finished RFC 5322 message (built when the change was decided, so a later change
cannot rewrite what an earlier mail said) and its delivery state.  Feed tokens are ``ApiToken`` rows with
``purpose="feed"`` and ``scope="endpoint:<id>"`` / ``"user:<username>"`` (see ``confbridge.auth``).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from confbridge import clock
from confbridge.db import Base, UTCDateTime


class OutboxStatus(StrEnum):
    QUEUED = "queued"
    SENDING = "sending"  # claimed by a worker; re-claimed when its lease (next_attempt_at) runs out
    SENT = "sent"
    FAILED = "failed"


class OutboxMessage(Base):
    __tablename__ = "invitation_outbox"
    __table_args__ = (Index("ix_invitation_outbox_status_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # None: a mail about no meeting (an alarm e-mail, confbridge.invites.alarm_mail).
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    # The occurrence a per-occurrence mail is about (its RECURRENCE-ID), else None.
    occurrence_start: Mapped[datetime | None] = mapped_column(UTCDateTime)
    recipient: Mapped[str] = mapped_column(String(254))
    recipient_name: Mapped[str] = mapped_column(String(200), default="")
    method: Mapped[str] = mapped_column(String(10))  # REQUEST | CANCEL
    kind: Mapped[str] = mapped_column(String(30))  # invitation | update | cancel | removed | occurrence_*
    sequence: Mapped[int] = mapped_column(Integer)
    subject: Mapped[str] = mapped_column(String(300))
    message_id: Mapped[str] = mapped_column(String(300))
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(10), default=OutboxStatus.QUEUED)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "meeting_id": self.meeting_id,
            "occurrence_start": self.occurrence_start.isoformat() if self.occurrence_start else None,
            "recipient": self.recipient,
            "recipient_name": self.recipient_name,
            "method": self.method,
            "kind": self.kind,
            "sequence": self.sequence,
            "subject": self.subject,
            "status": self.status,
            "attempts": self.attempts,
            "next_attempt_at": self.next_attempt_at.isoformat() if self.status in ("queued", "sending")
            else None,
            "last_error": self.last_error,
            "created_at": self.created_at.isoformat(),
            "sent_at": self.sent_at.isoformat() if self.sent_at else None,
        }
