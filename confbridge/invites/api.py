"""REST: a meeting's invitations (delivery status, current .ics) and calendar-feed tokens.

Who may read a meeting's invitations: its organiser, administrators and technicians.  Feed tokens follow
``invites.subscriptions`` (the subscribe page uses the same functions): the token is shown once, only
its hash is stored.
"""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify
from flask.typing import ResponseReturnValue
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from confbridge.api.common import db, get_settings
from confbridge.api.validators import ROW_ID
from confbridge.auth import access
from confbridge.auth.web import current_user, roles_required
from confbridge.booking.models import Meeting, MeetingStatus
from confbridge.errors import Forbidden, NotFound
from confbridge.i18n import N_
from confbridge.invites import ics, subscriptions
from confbridge.invites.feeds import feed_url
from confbridge.invites.outbox import messages_for
from confbridge.invites.serialise import feed_dict
from confbridge.invites.subscriptions import FeedTarget

blp = Blueprint("api_invites", __name__, url_prefix="/api/v1",
                description="Calendar invitations and feeds")


def _readable_meeting(meeting_id: int) -> Meeting:
    user = current_user()
    meeting = db().get(Meeting, meeting_id)
    if meeting is None:
        raise NotFound.said(N_("Không có cuộc họp số %(id)d."), id=meeting_id)
    if not access.may_see_meeting(user, meeting):
        raise Forbidden.said(N_("Chỉ người đặt lịch, quản trị viên và kỹ thuật viên được xem các lời mời này."))
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


@blp.route("/feeds", methods=["POST"])
@roles_required()
@blp.arguments(FeedRequestSchema)
def create_feed(data: dict[str, Any]) -> ResponseReturnValue:
    """A subscribable feed URL (its token is shown only now): one endpoint's bookings, or a person's."""
    token, row = subscriptions.create_feed(db(), current_user(), data["kind"], endpoint_id=data["endpoint_id"],
                                           username=data["username"])
    feed = FeedTarget.of(row)
    body = {**feed_dict(row), "token": token, "url": feed_url(feed, token)}
    return jsonify(body), 201


@blp.route("/feeds", methods=["GET"])
@roles_required()
def list_feeds() -> ResponseReturnValue:
    """The caller's feed tokens (all of them for an administrator); tokens themselves are not shown."""
    rows = subscriptions.list_feeds(db(), current_user(), everyone=True)
    return jsonify({"items": [feed_dict(r) for r in rows]})


@blp.route("/feeds/<int:feed_id>", methods=["DELETE"])
@roles_required()
def revoke_feed(feed_id: int) -> ResponseReturnValue:
    """Revoke a feed token: its URL answers 404 from now on."""
    subscriptions.revoke_feed(db(), current_user(), feed_id)
    return "", 204
