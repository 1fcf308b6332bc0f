"""Subscribable calendar feeds (page module): ``/calendar/endpoints/<id>.ics`` and
``/calendar/users/<username>.ics``.

Calendar clients can only send a URL, so these are the one place a token travels in a URL (a feed
token: purpose "feed", scoped to exactly one feed, revocable, useless for the API; the rules are
``invites.subscriptions``).  A revoked feed answers 404 at once.  Responses are
private (never stored by shared caches), carry a strong ETag of the body and Last-Modified, and answer
conditional requests with 304 so clients can poll cheaply.  Only live meetings appear; cancelled
occurrences are EXDATEs, cancelled meetings are gone.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

from flask import Blueprint, Flask, Response, request, url_for
from sqlalchemy import Exists, exists, func, or_, select
from werkzeug.wrappers import Response as BaseResponse

from confbridge import clock
from confbridge.api.common import db, get_settings
from confbridge.auth.access import may_see_confidential
from confbridge.auth.models import User
from confbridge.booking.models import Attendee, Meeting, Occurrence, meeting_endpoints
from confbridge.directory.models import Endpoint
from confbridge.errors import NotFound
from confbridge.i18n import N_, negotiate, translate
from confbridge.invites import ics
from confbridge.invites.subscriptions import FeedTarget, open_feed

bp = Blueprint("invites_feeds", __name__)
# Meetings whose last occurrence ended longer ago than this drop out of the feeds.
HISTORY = timedelta(days=31)
MAX_AGE_SECONDS = 300
ENDPOINT_FEED, USER_FEED = N_("%(name)s — hội nghị truyền hình"), N_("%(name)s — lịch họp")


def feed_url(feed: FeedTarget, token: str) -> str:
    """The feed's absolute URL with its token (the scheme and host of the current request)."""
    if feed.kind == "endpoint":
        return url_for("invites_feeds.endpoint_feed", endpoint_id=int(feed.target), token=token, _external=True)
    return url_for("invites_feeds.user_feed", username=feed.target, token=token, _external=True)


def _check_token(target: FeedTarget) -> User:
    return open_feed(db(), request.args.get("token", ""), target)


def _recent() -> Exists:
    cutoff = clock.now() - HISTORY
    return exists().where(Occurrence.meeting_id == Meeting.id, Occurrence.end >= cutoff)


def _name(msgid: str, owner: str) -> str:
    """The calendar's name in the language the calendar client asks for (Vietnamese by default)."""
    return translate(negotiate(request.headers.get("Accept-Language")), msgid, name=owner)


def _respond(meetings: list[Meeting], name: str, reader: User) -> BaseResponse:
    """The feed; a meeting's PIN only when the feed's owner may see it (``auth.access``)."""
    mail = get_settings().mail
    body = ics.to_bytes(ics.feed_calendar(meetings, mail, name=name, refresh_minutes=MAX_AGE_SECONDS // 60,
                                          may_see_pin=lambda m: may_see_confidential(reader, m)))
    response = Response(body, status=200)
    response.headers["Content-Type"] = "text/calendar; charset=utf-8"
    response.headers["Content-Disposition"] = 'inline; filename="calendar.ics"'
    response.cache_control.private = True
    response.cache_control.max_age = MAX_AGE_SECONDS
    response.cache_control.no_cache = None
    response.set_etag(hashlib.sha256(body).hexdigest()[:32])
    if meetings:
        response.last_modified = max(m.updated_at for m in meetings)
    response.headers["Referrer-Policy"] = "no-referrer"  # the URL holds the token
    response.vary.add("Accept-Language")  # the calendar's name is in the client's language
    return response.make_conditional(request)


@bp.route("/calendar/endpoints/<int:endpoint_id>.ics")
def endpoint_feed(endpoint_id: int) -> BaseResponse:
    """Everything booked on one endpoint (as a participant or as the host)."""
    reader = _check_token(FeedTarget("endpoint", str(endpoint_id)))
    endpoint = db().get(Endpoint, endpoint_id)
    if endpoint is None:
        raise NotFound.said(N_("Không có điểm cầu số %(id)s."), id=endpoint_id)
    on_endpoint = exists().where(meeting_endpoints.c.meeting_id == Meeting.id,
                                 meeting_endpoints.c.endpoint_id == endpoint_id)
    meetings = list(db().scalars(
        select(Meeting).where(or_(on_endpoint, Meeting.host_endpoint_id == endpoint_id), _recent())
        .order_by(Meeting.start, Meeting.id)
    ))
    return _respond(meetings, _name(ENDPOINT_FEED, endpoint.name), reader)


@bp.route("/calendar/users/<username>.ics")
def user_feed(username: str) -> BaseResponse:
    """A person's meetings: those they organise and those they are invited to (by e-mail)."""
    user = _check_token(FeedTarget("user", username))
    owner = db().scalar(select(User).where(User.username == username))
    if owner is None or not owner.active:
        raise NotFound.said(N_("Không có tài khoản “%(username)s”."), username=username)
    conditions = [Meeting.organiser_id == owner.id]
    if owner.email:
        conditions.append(exists().where(Attendee.meeting_id == Meeting.id,
                                         func.lower(Attendee.email) == owner.email.lower()))
    meetings = list(db().scalars(
        select(Meeting).where(or_(*conditions), _recent()).order_by(Meeting.start, Meeting.id)
    ))
    # The token's owner may be an administrator who created this feed for the person.
    return _respond(meetings, _name(USER_FEED, owner.display_name or owner.username), user)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
