"""REST: a meeting's invitations (delivery status, current .ics) and calendar-feed tokens.

Who may read a meeting's invitations: its organiser, administrators and technicians.  Feed tokens are
created by their owner (an administrator may create a person feed for someone else) and revoked by
their owner or an administrator; the token is shown once, only its hash is stored.
"""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, url_for
from flask.typing import ResponseReturnValue
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate
from sqlalchemy import select

from confbridge.api.common import commit, current_user, db, get_settings, roles_required
from confbridge.api.validators import ROW_ID
from confbridge.auth.models import ApiToken, Role, User
from confbridge.auth.service import get_user, issue_token
from confbridge.booking.models import Meeting, MeetingStatus
from confbridge.directory.models import Endpoint
from confbridge.errors import Forbidden, InvalidInput, NotFound
from confbridge.invites import ics
from confbridge.invites.outbox import messages_for

blp = Blueprint("api_invites", __name__, url_prefix="/api/v1",
                description="Calendar invitations and feeds")
FEED_PURPOSE = "feed"


def _readable_meeting(meeting_id: int) -> Meeting:
    user = current_user()
    meeting = db().get(Meeting, meeting_id)
    if meeting is None:
        raise NotFound(f"meeting {meeting_id} not found")
    if not (user.role in (Role.ADMIN, Role.TECHNICIAN) or meeting.organiser_id == user.id):
        raise Forbidden("only the organiser, administrators and technicians may see these invitations")
    return meeting


@blp.route("/meetings/<int:meeting_id>/invitations", methods=["GET"])
@roles_required()
def list_invitations(meeting_id: int) -> ResponseReturnValue:
    """Every invitation e-mail queued for the meeting, with its delivery status."""
    meeting = _readable_meeting(meeting_id)
    rows = messages_for(db(), meeting.id)
    return jsonify({"meeting_id": meeting.id, "uid": meeting.uid, "sequence": meeting.sequence,
                    "items": [r.as_dict() for r in rows]})


@blp.route("/meetings/<int:meeting_id>/invite.ics", methods=["GET"])
@roles_required()
def invite_ics(meeting_id: int) -> ResponseReturnValue:
    """The meeting's current calendar object: a REQUEST, or a CANCEL once it is cancelled."""
    meeting = _readable_meeting(meeting_id)
    mail = get_settings().mail
    if meeting.status == MeetingStatus.CANCELLED:
        cal, method = ics.cancel_calendar(meeting, mail), "CANCEL"
    else:
        cal, method = ics.request_calendar(meeting, mail), "REQUEST"
    response = Response(ics.to_bytes(cal), status=200)
    response.headers["Content-Type"] = f"text/calendar; charset=utf-8; method={method}"
    response.headers["Content-Disposition"] = 'attachment; filename="invite.ics"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


# ---- feed tokens ---------------------------------------------------------------------------------------
class FeedRequestSchema(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(["endpoint", "user"]))
    endpoint_id = fields.Integer(load_default=None, allow_none=True, strict=True, validate=ROW_ID)
    username = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=64))


def _feed_dict(row: ApiToken) -> dict[str, Any]:
    kind, _, target = (row.scope or ":").partition(":")
    return {"id": row.id, "kind": kind, "target": target, "created_at": row.created_at.isoformat(),
            "revoked": row.revoked, "owner": row.user.username}


def _feed_url(kind: str, target: str, token: str) -> str:
    if kind == "endpoint":
        return url_for("invites_feeds.endpoint_feed", endpoint_id=int(target), token=token, _external=True)
    return url_for("invites_feeds.user_feed", username=target, token=token, _external=True)


@blp.route("/feeds", methods=["POST"])
@roles_required()
@blp.arguments(FeedRequestSchema)
def create_feed(data: dict[str, Any]) -> ResponseReturnValue:
    """A subscribable feed URL (its token is shown only now): one endpoint's bookings, or a person's."""
    user = current_user()
    session = db()
    if data["kind"] == "endpoint":
        if data["endpoint_id"] is None:
            raise InvalidInput("endpoint_id is required", {"endpoint_id": "required for an endpoint feed"})
        endpoint = session.get(Endpoint, data["endpoint_id"])
        if endpoint is None:
            raise InvalidInput("unknown endpoint", {"endpoint_id": f"no endpoint {data['endpoint_id']}"})
        target = str(endpoint.id)
    else:
        owner: User = user
        if data["username"] and data["username"] != user.username:
            if not user.is_admin:
                raise Forbidden("only administrators may create a feed for someone else")
            owner = get_user(session, data["username"])
        target = owner.username
    token, row = issue_token(session, user, hours=0, purpose=FEED_PURPOSE, scope=f"{data['kind']}:{target}")
    body = {**_feed_dict(row), "token": token, "url": _feed_url(data["kind"], target, token)}
    commit()
    return jsonify(body), 201


@blp.route("/feeds", methods=["GET"])
@roles_required()
def list_feeds() -> ResponseReturnValue:
    """The caller's feed tokens (all of them for an administrator); tokens themselves are not shown."""
    user = current_user()
    query = select(ApiToken).where(ApiToken.purpose == FEED_PURPOSE).order_by(ApiToken.id)
    if not user.is_admin:
        query = query.where(ApiToken.user_id == user.id)
    return jsonify({"items": [_feed_dict(r) for r in db().scalars(query)]})


@blp.route("/feeds/<int:feed_id>", methods=["DELETE"])
@roles_required()
def revoke_feed(feed_id: int) -> ResponseReturnValue:
    """Revoke a feed token: calendars subscribed with it stop receiving updates."""
    user = current_user()
    row = db().get(ApiToken, feed_id)
    if row is None or row.purpose != FEED_PURPOSE or not (user.is_admin or row.user_id == user.id):
        raise NotFound(f"feed {feed_id} not found")
    row.revoked = True
    commit()
    return "", 204
