"""Audit entries: append-only through the application.

``record`` adds an entry to the current unit of work (committed with the change it describes), with the
actor's name and, inside a request, the client's address.  A flush that would change or delete an
entry is refused (:class:`AuditImmutable`); only the retention purge (``audit.service.purge``) removes
old rows, with one bulk statement.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, column, event, select, table
from sqlalchemy.orm import Mapped, Session, mapped_column

from confbridge import clock
from confbridge.db import Base, UTCDateTime


class AuditImmutable(RuntimeError):
    """An audit entry may not be changed or deleted."""


class AuditEntry(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # The actor's username when the entry was written (kept when the account is gone).
    actor: Mapped[str | None] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(60), index=True)
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[str] = mapped_column(String(64), index=True)
    source_address: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "at": self.at.isoformat(), "user_id": self.user_id, "actor": self.actor,
            "action": self.action, "object_type": self.object_type, "object_id": self.object_id,
            "source_address": self.source_address, "details": self.details,
        }


def _source_address() -> str | None:
    from flask import has_request_context, request

    if not has_request_context():
        return None
    return (request.remote_addr or "")[:64] or None


# The users table as this module needs it (no import of ``auth``, which records through this module).
_USERS = table("users", column("id"), column("username"))


def _actor_name(session: Session, user_id: int | None) -> str | None:
    if user_id is None:
        return None
    name = session.scalar(select(_USERS.c.username).where(_USERS.c.id == user_id))
    return str(name) if name is not None else None


def record(
    session: Session, user_id: int | None, action: str, object_type: str, object_id: object,
    **details: Any,
) -> AuditEntry:
    """Add an audit entry to the current unit of work (committed with the change it describes)."""
    entry = AuditEntry(
        at=clock.now(), user_id=user_id, actor=_actor_name(session, user_id), action=action,
        object_type=object_type, object_id=str(object_id), source_address=_source_address(),
        details=details,
    )
    session.add(entry)
    return entry


def record_failure(session: Session, action: str, object_type: str, object_id: object, *, actor: str,
                   **details: Any) -> None:
    """Record an event whose request fails (a refused sign-in): the failing unit of work is rolled back
    first (it is lost anyway), then the entry is committed on its own, so the refusal cannot undo it."""
    session.rollback()
    entry = record(session, None, action, object_type, object_id, **details)
    entry.actor = actor[:120]
    session.commit()


@event.listens_for(Session, "before_flush")
def _append_only(session: Session, _ctx: Any, _instances: Any) -> None:
    for obj in (*session.dirty, *session.deleted):
        if isinstance(obj, AuditEntry) and (obj in session.deleted or session.is_modified(obj)):
            raise AuditImmutable(f"audit entry {obj.id} cannot be changed or deleted")


def plain(value: object) -> object:
    """A JSON-safe form of a field value for an entry's before/after."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, list | tuple | set):
        return [plain(getattr(v, "id", v)) for v in value]
    return str(value)


def values_of(obj: object, fields: Any) -> dict[str, object]:
    """``{field: value}`` of *obj* for the changed *fields* it has (the before/after of an entry)."""
    return {f: plain(getattr(obj, f)) for f in sorted(fields) if hasattr(obj, f)}
