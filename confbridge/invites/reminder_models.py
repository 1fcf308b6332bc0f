"""One row per (occurrence, contact) whose reminder e-mail was queued: the unique key makes the reminder
job idempotent across restarts and with two schedulers (the second insert fails and rolls back)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from confbridge import clock
from confbridge.db import Base, UTCDateTime


class ContactReminder(Base):
    __tablename__ = "contact_reminders"
    __table_args__ = (UniqueConstraint("occurrence_id", "recipient"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    occurrence_id: Mapped[int] = mapped_column(ForeignKey("occurrences.id", ondelete="CASCADE"))
    recipient: Mapped[str] = mapped_column(String(254))  # lower-cased e-mail address
    outbox_id: Mapped[int | None] = mapped_column(ForeignKey("invitation_outbox.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
