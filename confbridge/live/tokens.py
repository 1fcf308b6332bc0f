"""Short-lived, single-use tokens that open one live connection.

The browser gets one from ``POST /api/v1/live/token`` (signed-in session or bearer token) and sends it as
the first WebSocket message — never in the URL, where it would end up in proxy and server logs.  Only
its SHA-256 is stored (``api_tokens`` rows with ``purpose = "live"``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from confbridge.auth.models import User
from confbridge.auth.service import consume_token, issue_token
from confbridge.db import unit_of_work
from confbridge.settings import LiveSettings

PURPOSE = "live"


def issue_live_token(session: Session, user: User, settings: LiveSettings) -> tuple[str, datetime]:
    """A new live token for *user*: ``(token, expires_at)``; the caller commits."""
    token, row = issue_token(session, user, hours=settings.token_seconds / 3600, purpose=PURPOSE)
    assert row.expires_at is not None  # hours > 0 always sets it
    return token, row.expires_at


def redeem_live_token(factory: sessionmaker[Session], token: str) -> tuple[int, str]:
    """Consume *token* in its own transaction: ``(user_id, role)``; ``Unauthorized`` when expired/used."""
    with unit_of_work(factory) as session:
        user = consume_token(session, token, PURPOSE)
        return user.id, user.role
