"""REST: /api/v1/alarms — list alarms, acknowledge one.

Technicians and admins see every alarm and acknowledge them; a secretary sees only the alarms attached
to her own meetings (read-only).
"""

from __future__ import annotations

from typing import Any

from flask import jsonify, request
from flask.typing import ResponseReturnValue
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from confbridge.alarms import service
from confbridge.alarms.models import ALARM_KINDS, Alarm
from confbridge.api.common import db
from confbridge.api.validators import ROW_ID
from confbridge.audit.models import record
from confbridge.auth import access
from confbridge.auth.web import current_user, roles_required
from confbridge.errors import NotFound
from confbridge.i18n import N_, negotiate

blp = Blueprint("api_alarms", __name__, url_prefix="/api/v1/alarms",
                description="Alarms raised by the launch engine and the monitor")
READERS = access.ANY_ROLE
OPERATORS = access.OPERATORS


class AlarmQuerySchema(Schema):
    open = fields.Boolean(load_default=False, metadata={"description": "only alarms not yet cleared"})
    kind = fields.String(load_default=None, validate=validate.OneOf(ALARM_KINDS))
    endpoint_id = fields.Integer(load_default=None, validate=ROW_ID)
    limit = fields.Integer(load_default=200, validate=validate.Range(min=1, max=1000))


@blp.route("", methods=["GET"])
@roles_required(*READERS)
@blp.arguments(AlarmQuerySchema, location="query")
def list_alarms(query: dict[str, Any]) -> ResponseReturnValue:
    """Alarms, newest first: ``?open=true`` for the ones not cleared, ``kind``, ``endpoint_id``.

    ``message`` is in the caller's language (``Accept-Language``); ``code`` and ``params`` carry it too."""
    alarms = service.list_alarms(db(), open_only=query["open"], limit=query["limit"], kind=query["kind"],
                         endpoint_id=query["endpoint_id"], organiser_id=access.followed_organiser(current_user()))
    locale = negotiate(request.headers.get("Accept-Language"))
    return jsonify({"alarms": [a.as_dict(locale) for a in alarms]})


@blp.route("/<int:alarm_id>/ack", methods=["POST"])
@roles_required(*OPERATORS)
def ack_alarm(alarm_id: int) -> ResponseReturnValue:
    """Acknowledge: records who and when (once; a second ack keeps the first)."""
    user = current_user()
    session = db()
    if session.get(Alarm, alarm_id) is None:
        raise NotFound.said(N_("Không có cảnh báo số %(id)s."), id=alarm_id)
    alarm = service.acknowledge(session, alarm_id, user.id)
    record(session, user.id, "alarm.ack", "alarm", alarm.id, kind=alarm.kind)
    return jsonify(alarm.as_dict(negotiate(request.headers.get("Accept-Language"))))
