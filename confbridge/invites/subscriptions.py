"""Calendar subscriptions: the feed tokens behind ``/calendar/endpoints/<id>.ics`` and
``/calendar/users/<username>.ics`` — who may create, list, revoke and open them.  The REST API
(``invites.api``), the subscribe page (``ui.subscribe_views``) and the feed routes (``invites.feeds``)
all call these functions, so the rules live here once.

Rules:
- every signed-in role may subscribe to any endpoint's bookings: every role may already read every
  endpoint and every occurrence (``GET /api/v1/endpoints``, ``GET /api/v1/occurrences``), so an endpoint
  feed shows nothing its owner could not read through the API;
- a person feed is one's own; an administrator may create one for someone else;
- a token is shown once (only its SHA-256 is stored), revoked by its owner or an administrator; a revoked
  feed answers 404 from that moment (a token that never existed, or opens another feed, answers 401).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from confbridge.auth import access
from confbridge.auth.models import ApiToken, User
from confbridge.auth.passwords import token_digest
from confbridge.auth.service import get_user, issue_token, resolve_token
from confbridge.directory.models import Endpoint
from confbridge.errors import FieldError, Forbidden, InvalidInput, NotFound, Unauthorized
from confbridge.i18n import N_

FEED_PURPOSE = "feed"
KINDS = ("endpoint", "user")


@dataclass(frozen=True)
class FeedTarget:
    kind: str  # "endpoint" | "user"
    target: str  # endpoint id or username

    @property
    def scope(self) -> str:
        return f"{self.kind}:{self.target}"

    @staticmethod
    def of(row: ApiToken) -> FeedTarget:
        kind, _, target = (row.scope or ":").partition(":")
        return FeedTarget(kind, target)


def may_subscribe_to_endpoints(user: User) -> bool:
    """Every role: see the module docstring."""
    return user.role in access.ANY_ROLE


def create_feed(
    session: Session, actor: User, kind: str, *, endpoint_id: int | None = None, username: str | None = None,
) -> tuple[str, ApiToken]:
    """A new feed token (returned once) and its row; field errors for a bad request."""
    if kind not in KINDS:
        raise InvalidInput.of([FieldError.of("kind", "one_of", choices="endpoint, user")])
    if kind == "endpoint":
        if endpoint_id is None:
            raise InvalidInput.of([FieldError.of("endpoint_id", "required")])
        if not may_subscribe_to_endpoints(actor):
            raise Forbidden.said(N_("Vai trò này không được đăng ký lịch của điểm cầu."))
        endpoint = session.get(Endpoint, endpoint_id)
        if endpoint is None:
            raise InvalidInput.of([FieldError.of("endpoint_id", "unknown", id=endpoint_id)])
        target = FeedTarget("endpoint", str(endpoint.id))
    else:
        owner = actor
        if username and username != actor.username:
            if not actor.is_admin:
                raise Forbidden.said(N_("Chỉ quản trị viên được tạo lịch đăng ký cho người khác."))
            owner = get_user(session, username)
        target = FeedTarget("user", owner.username)
    return issue_token(session, actor, hours=0, purpose=FEED_PURPOSE, scope=target.scope)


def list_feeds(session: Session, actor: User, *, everyone: bool = False) -> list[ApiToken]:
    """The actor's feed tokens, newest last; with ``everyone`` (administrators only) all of them."""
    query = select(ApiToken).where(ApiToken.purpose == FEED_PURPOSE).order_by(ApiToken.id)
    if not (everyone and actor.is_admin):
        query = query.where(ApiToken.user_id == actor.id)
    return list(session.scalars(query))


def revoke_feed(session: Session, actor: User, feed_id: int) -> ApiToken:
    """Revoke one feed token (its owner or an administrator); NotFound for anyone else."""
    row = session.get(ApiToken, feed_id)
    if row is None or row.purpose != FEED_PURPOSE or not (actor.is_admin or row.user_id == actor.id):
        raise NotFound.said(N_("Không có lịch đăng ký số %(id)s."), id=feed_id)
    row.revoked = True
    session.flush()
    return row


def open_feed(session: Session, token: str, target: FeedTarget) -> User:
    """The owner of a token that opens *target*.  A revoked feed is gone (404); a missing, unknown or
    foreign token is refused (401)."""
    if not token:
        raise Unauthorized.said(N_("Lịch đăng ký này cần mã của nó (?token=…)."))
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == token_digest(token)))
    if row is not None and row.purpose == FEED_PURPOSE and row.revoked and row.scope == target.scope:
        raise NotFound.said(N_("Lịch đăng ký này đã bị thu hồi."))
    user, row = resolve_token(session, token, FEED_PURPOSE)
    if row.scope != target.scope:
        raise Unauthorized.said(N_("Mã này không mở được lịch đăng ký này."))
    return user
