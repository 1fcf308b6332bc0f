"""Server-side sign-in sessions and the periodic purge of expired credentials.

The browser's signed cookie carries a random session id; only its SHA-256 is stored (``web_sessions``).
A request is signed in while that row exists and has not expired: signing out deletes it (a copied cookie
replayed later is anonymous), and a password change, role change or lock deletes every row of the user.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from confbridge import clock
from confbridge.auth.models import ApiToken, User, WebSession
from confbridge.auth.passwords import token_digest

LIFETIME = timedelta(hours=12)


def start_session(session: Session, user: User, lifetime: timedelta = LIFETIME) -> str:
    """A new session for *user*; returns the raw id for the signed cookie (the caller commits)."""
    raw = secrets.token_urlsafe(32)
    now = clock.now()
    session.add(WebSession(id_hash=token_digest(raw), user_id=user.id, created_at=now, expires_at=now + lifetime))
    session.flush()
    return raw


def session_user_id(session: Session, raw: str | None) -> int | None:
    """The user of a live session id, or None (unknown, signed out, revoked or expired)."""
    if not raw or len(raw) > 100:
        return None
    row = session.get(WebSession, token_digest(raw))
    if row is None or row.expires_at <= clock.now():
        return None
    return row.user_id


def end_session(session: Session, raw: str | None) -> None:
    if raw and len(raw) <= 100:
        session.execute(delete(WebSession).where(WebSession.id_hash == token_digest(raw)))


def end_all_sessions(session: Session, user_id: int) -> None:
    """Sign *user_id* out everywhere (password change, role change, lock)."""
    session.execute(delete(WebSession).where(WebSession.user_id == user_id))


def purge_expired(session: Session, now: datetime | None = None) -> tuple[int, int]:
    """Delete expired sessions and expired, revoked-and-expired or used single-use token rows.

    Returns ``(sessions, tokens)`` deleted.  Feed tokens never expire (revoked ones stay: a revoked
    feed answers 404, not 401).
    """
    now = now or clock.now()
    expired = list(session.scalars(select(WebSession.id_hash).where(WebSession.expires_at <= now)))
    for start in range(0, len(expired), 500):
        session.execute(delete(WebSession).where(WebSession.id_hash.in_(expired[start:start + 500])))
    stale = select(ApiToken.id).where(
        ApiToken.purpose != "feed",
        or_(ApiToken.expires_at <= now, ApiToken.used_at.is_not(None)),
    )
    ids = list(session.scalars(stale))
    for start in range(0, len(ids), 500):
        session.execute(delete(ApiToken).where(ApiToken.id.in_(ids[start:start + 500])))
    return len(expired), len(ids)
