"""REST: blackout windows of endpoints and bridges.

``GET|POST /api/v1/endpoints/{id}/blackouts``, ``GET|POST /api/v1/bridges/{name}/blackouts``,
``DELETE …/blackouts/{blackout_id}``.  Every signed-in role reads (a secretary sees why a booking is
refused); administrators and technicians create and delete.  A blackout created over existing bookings
is accepted (201) and lists them as ``affected`` (each has raised an alarm).
"""

from __future__ import annotations

from typing import Any

from flask import jsonify
from flask.typing import ResponseReturnValue
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from confbridge.api.common import db, get_settings
from confbridge.auth import access
from confbridge.auth.web import current_user, roles_required
from confbridge.booking.blackout_models import REASON_MAX
from confbridge.maintenance import service
from confbridge.maintenance.service import Target

blp = Blueprint("api_blackouts", __name__, url_prefix="/api/v1",
                description="Blackout windows (maintenance) of endpoints and bridges")


class BlackoutInSchema(Schema):
    start = fields.AwareDateTime(required=True, metadata={"description": "RFC 3339 with offset"})
    end = fields.AwareDateTime(required=True, metadata={"description": "RFC 3339 with offset; after start"})
    reason = fields.String(load_default="", validate=validate.Length(max=REASON_MAX))


class BlackoutSchema(Schema):
    id = fields.Integer()
    endpoint_id = fields.Integer(allow_none=True)
    bridge_name = fields.String(allow_none=True)
    start = fields.String()
    end = fields.String()
    reason = fields.String()
    created_by = fields.Integer(allow_none=True)
    created_at = fields.String()


class AffectedSchema(Schema):
    meeting_id = fields.Integer()
    meeting_title = fields.String()
    occurrence_id = fields.Integer()
    occurrence_start = fields.String()
    start = fields.String()
    end = fields.String()


class BlackoutCreatedSchema(BlackoutSchema):
    affected = fields.List(fields.Nested(AffectedSchema))


class BlackoutListSchema(Schema):
    blackouts = fields.List(fields.Nested(BlackoutSchema))


class PastQuerySchema(Schema):
    past = fields.Boolean(load_default=False, metadata={"description": "include blackouts that have ended"})


def _list(target: Target, past: bool) -> ResponseReturnValue:
    return jsonify({"blackouts": [b.as_dict() for b in service.list_blackouts(db(), target, include_past=past)]})


def _create(target: Target, data: dict[str, Any]) -> ResponseReturnValue:
    blackout, affected = service.create_blackout(
        db(), get_settings(), target, start=data.get("start"), end=data.get("end"), reason=data.get("reason"),
        actor_id=current_user().id)
    return jsonify({**blackout.as_dict(), "affected": [a.as_dict() for a in affected]}), 201


def _delete(target: Target, blackout_id: int) -> ResponseReturnValue:
    session = db()
    service.delete_blackout(session, service.get_blackout(session, target, blackout_id), current_user().id)
    return "", 204


@blp.route("/endpoints/<int:endpoint_id>/blackouts", methods=["GET"])
@roles_required(*access.ANY_ROLE)
@blp.arguments(PastQuerySchema, location="query")
@blp.response(200, BlackoutListSchema)
def list_endpoint_blackouts(query: dict[str, Any], endpoint_id: int) -> ResponseReturnValue:
    """Current and future blackouts of the endpoint (``?past=true``: also ended ones)."""
    return _list(service.endpoint_target(db(), endpoint_id), query["past"])


@blp.route("/endpoints/<int:endpoint_id>/blackouts", methods=["POST"])
@roles_required(*access.MAINTAINERS)
@blp.arguments(BlackoutInSchema)
@blp.response(201, BlackoutCreatedSchema)
def create_endpoint_blackout(data: dict[str, Any], endpoint_id: int) -> ResponseReturnValue:
    """Take the endpoint out of service; ``affected`` lists the bookings it overlaps (each alarmed)."""
    return _create(service.endpoint_target(db(), endpoint_id), data)


@blp.route("/endpoints/<int:endpoint_id>/blackouts/<int:blackout_id>", methods=["DELETE"])
@roles_required(*access.MAINTAINERS)
@blp.response(204)
def delete_endpoint_blackout(endpoint_id: int, blackout_id: int) -> ResponseReturnValue:
    """Remove the blackout (its alarms are cleared)."""
    return _delete(service.endpoint_target(db(), endpoint_id), blackout_id)


@blp.route("/bridges/<name>/blackouts", methods=["GET"])
@roles_required(*access.ANY_ROLE)
@blp.arguments(PastQuerySchema, location="query")
@blp.response(200, BlackoutListSchema)
def list_bridge_blackouts(query: dict[str, Any], name: str) -> ResponseReturnValue:
    """Current and future blackouts of the bridge (``?past=true``: also ended ones)."""
    return _list(service.bridge_target(get_settings(), name), query["past"])


@blp.route("/bridges/<name>/blackouts", methods=["POST"])
@roles_required(*access.MAINTAINERS)
@blp.arguments(BlackoutInSchema)
@blp.response(201, BlackoutCreatedSchema)
def create_bridge_blackout(data: dict[str, Any], name: str) -> ResponseReturnValue:
    """Take the bridge out of service; ``affected`` lists the bookings it overlaps (each alarmed)."""
    return _create(service.bridge_target(get_settings(), name), data)


@blp.route("/bridges/<name>/blackouts/<int:blackout_id>", methods=["DELETE"])
@roles_required(*access.MAINTAINERS)
@blp.response(204)
def delete_bridge_blackout(name: str, blackout_id: int) -> ResponseReturnValue:
    """Remove the blackout (its alarms are cleared)."""
    return _delete(service.bridge_target(get_settings(), name), blackout_id)
