"""Reading the audit log (filters, paging) and its retention purge."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from confbridge import clock
from confbridge.audit.models import AuditEntry

log = logging.getLogger(__name__)
MAX_PAGE_SIZE = 500


@dataclass
class AuditQuery:
    start: datetime | None = None
    end: datetime | None = None
    actor: str | None = None  # a username (also one that no longer exists)
    action: str | None = None  # exact, or a prefix ending in "." ("meeting.")
    object_type: str | None = None
    object_id: str | None = None


def _where(query: AuditQuery) -> list[Any]:
    conditions: list[Any] = []
    if query.start is not None:
        conditions.append(AuditEntry.at >= query.start)
    if query.end is not None:
        conditions.append(AuditEntry.at < query.end)
    if query.actor:
        conditions.append(AuditEntry.actor == query.actor)
    if query.action:
        conditions.append(AuditEntry.action.startswith(query.action, autoescape=True) if query.action.endswith(".")
                          else AuditEntry.action == query.action)
    if query.object_type:
        conditions.append(AuditEntry.object_type == query.object_type)
    if query.object_id:
        conditions.append(AuditEntry.object_id == query.object_id)
    return conditions


def list_entries(session: Session, query: AuditQuery, *, page: int = 1,
                 page_size: int = 100) -> tuple[list[AuditEntry], int]:
    """One page of entries, newest first, and the number of entries matching."""
    conditions = _where(query)
    total = session.scalar(select(func.count()).select_from(AuditEntry).where(*conditions)) or 0
    rows = session.scalars(select(AuditEntry).where(*conditions).order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
                           .offset((page - 1) * page_size).limit(page_size))
    return list(rows), total


def all_entries(session: Session, query: AuditQuery, limit: int = 100_000) -> list[AuditEntry]:
    return list(session.scalars(select(AuditEntry).where(*_where(query))
                                .order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit)))


def actions(session: Session) -> list[str]:
    return list(session.scalars(select(AuditEntry.action).distinct().order_by(AuditEntry.action)))


def purge(session: Session, retention_days: int, now: datetime | None = None) -> int:
    """Delete entries older than *retention_days* (the only deletion of audit rows); returns how many."""
    cutoff = (now or clock.now()) - timedelta(days=retention_days)
    result = session.execute(delete(AuditEntry).where(AuditEntry.at < cutoff)
                             .execution_options(synchronize_session=False))
    return int(getattr(result, "rowcount", 0) or 0)


PURGE_INTERVAL_SECONDS = 24 * 3600


def purge_job(session_factory: sessionmaker[Session], retention_days: int) -> int:
    """The scheduler leader's daily retention purge (``[audit] retention_days``)."""
    from confbridge.db import unit_of_work

    with unit_of_work(session_factory) as session:
        removed = purge(session, retention_days)
    if removed:
        log.info("audit: %d entries older than %d days purged", removed, retention_days)
    return removed
