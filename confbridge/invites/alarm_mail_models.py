"""What was e-mailed about an alarm: one row per (alarm, stage), so each stage is mailed once.

Stages: ``raised`` (to ``[alerts] email``), ``escalated`` (to ``[alerts] escalate_email``), and the
follow-ups ``acknowledged`` and ``cleared`` (to everyone already told).  The unique constraint makes the
mailing job idempotent across restarts and two schedulers: a second writer of the same stage fails to
insert and sends nothing.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from confbridge import clock
from confbridge.db import Base, UTCDateTime

STAGES = ("raised", "escalated", "acknowledged", "cleared")


class AlarmMail(Base):
    __tablename__ = "alarm_mails"
    __table_args__ = (UniqueConstraint("alarm_id", "stage"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    alarm_id: Mapped[int] = mapped_column(ForeignKey("alarms.id", ondelete="CASCADE"), index=True)
    stage: Mapped[str] = mapped_column(String(20))
    recipients: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
