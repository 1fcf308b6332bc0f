"""Audit entries."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, Session, mapped_column

from confbridge import clock
from confbridge.db import Base, UTCDateTime


class AuditEntry(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(60))
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[str] = mapped_column(String(64), index=True)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


def record(
    session: Session, user_id: int | None, action: str, object_type: str, object_id: object,
    **details: Any,
) -> AuditEntry:
    """Add an audit entry to the current unit of work (committed with the change it describes)."""
    entry = AuditEntry(
        at=clock.now(), user_id=user_id, action=action, object_type=object_type,
        object_id=str(object_id), details=details,
    )
    session.add(entry)
    return entry
