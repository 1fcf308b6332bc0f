"""REST: /api/v1/endpoints."""

from __future__ import annotations

from typing import Any

from flask import jsonify
from flask.typing import ResponseReturnValue
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from confbridge.api.common import db
from confbridge.auth import access
from confbridge.auth.models import Role
from confbridge.auth.web import current_user, roles_required
from confbridge.directory import service
from confbridge.directory.serialise import endpoint_dict

blp = Blueprint("api_endpoints", __name__, url_prefix="/api/v1", description="Endpoints (room systems)")


class EndpointSchema(Schema):
    id = fields.Integer(dump_only=True)
    name = fields.String(required=True)
    site = fields.String(required=True)
    kind = fields.String(load_default="")
    protocol = fields.String(required=True, metadata={"enum": ["sip", "h323"]})
    address = fields.String(required=True)
    seats = fields.Integer(load_default=0, strict=True)
    enabled = fields.Boolean(load_default=True)
    contact_name = fields.String(load_default="", metadata={"description": "the room's local technician"})
    contact_email = fields.String(load_default="", metadata={
        "description": "gets the invitations (optional attendee) and the reminder before the setup time"})
    contact_phone = fields.String(load_default="")
    requires_approval = fields.Boolean(load_default=False, metadata={
        "description": "bookings of this endpoint wait for an approver (status pending)"})


class EndpointPatchSchema(Schema):
    name = fields.String()
    site = fields.String()
    kind = fields.String()
    protocol = fields.String()
    address = fields.String()
    seats = fields.Integer(strict=True)
    enabled = fields.Boolean()
    contact_name = fields.String()
    contact_email = fields.String()
    contact_phone = fields.String()
    requires_approval = fields.Boolean()


@blp.route("/endpoints", methods=["GET"])
@roles_required(*access.ANY_ROLE)
@blp.response(200, EndpointSchema(many=True))
def list_endpoints() -> Any:
    return [endpoint_dict(e) for e in service.list_endpoints(db())]


@blp.route("/endpoints", methods=["POST"])
@roles_required(Role.ADMIN)
@blp.arguments(EndpointSchema)
@blp.response(201, EndpointSchema)
def create_endpoint(data: dict[str, Any]) -> Any:
    endpoint = service.create_endpoint(db(), data, current_user().id)
    return endpoint_dict(endpoint)


@blp.route("/endpoints/<int:endpoint_id>", methods=["GET"])
@roles_required(*access.ANY_ROLE)
@blp.response(200, EndpointSchema)
def get_endpoint(endpoint_id: int) -> Any:
    return endpoint_dict(service.get_endpoint(db(), endpoint_id))


@blp.route("/endpoints/<int:endpoint_id>", methods=["PATCH"])
@roles_required(Role.ADMIN)
@blp.arguments(EndpointPatchSchema)
@blp.response(200, EndpointSchema)
def patch_endpoint(data: dict[str, Any], endpoint_id: int) -> Any:
    session = db()
    endpoint = service.update_endpoint(session, service.get_endpoint(session, endpoint_id), data, current_user().id)
    return endpoint_dict(endpoint)


@blp.route("/endpoints/<int:endpoint_id>", methods=["DELETE"])
@roles_required(Role.ADMIN)
def delete_endpoint(endpoint_id: int) -> ResponseReturnValue:
    """Disable the endpoint: it stays in the history of past meetings but cannot be booked."""
    session = db()
    endpoint = service.disable_endpoint(session, service.get_endpoint(session, endpoint_id), current_user().id)
    return jsonify(endpoint_dict(endpoint))
