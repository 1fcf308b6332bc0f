"""REST: /api/v1/endpoint-groups (administrators manage; every signed-in role reads)."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from confbridge.api.common import db
from confbridge.api.validators import ROW_ID
from confbridge.auth import access
from confbridge.auth.web import current_user, roles_required
from confbridge.directory import groups

blp = Blueprint("api_endpoint_groups", __name__, url_prefix="/api/v1",
                description="Endpoint groups (booked together in one click)")


class EndpointGroupSchema(Schema):
    id = fields.Integer(dump_only=True)
    name = fields.String(required=True, validate=validate.Length(max=200))
    endpoint_ids = fields.List(fields.Integer(strict=True, validate=ROW_ID), load_default=list)


class EndpointGroupPatchSchema(Schema):
    name = fields.String(validate=validate.Length(max=200))
    endpoint_ids = fields.List(fields.Integer(strict=True, validate=ROW_ID))


@blp.route("/endpoint-groups", methods=["GET"])
@roles_required(*access.ANY_ROLE)
@blp.response(200, EndpointGroupSchema(many=True))
def list_groups() -> Any:
    return [groups.group_dict(g) for g in groups.list_groups(db())]


@blp.route("/endpoint-groups", methods=["POST"])
@roles_required(*access.GROUP_MANAGERS)
@blp.arguments(EndpointGroupSchema)
@blp.response(201, EndpointGroupSchema)
def create_group(data: dict[str, Any]) -> Any:
    """A group; its name is unique (case-insensitive), its endpoints exist and are in use."""
    return groups.group_dict(groups.create_group(db(), data, current_user().id))


@blp.route("/endpoint-groups/<int:group_id>", methods=["GET"])
@roles_required(*access.ANY_ROLE)
@blp.response(200, EndpointGroupSchema)
def get_group(group_id: int) -> Any:
    return groups.group_dict(groups.get_group(db(), group_id))


@blp.route("/endpoint-groups/<int:group_id>", methods=["PATCH"])
@roles_required(*access.GROUP_MANAGERS)
@blp.arguments(EndpointGroupPatchSchema)
@blp.response(200, EndpointGroupSchema)
def patch_group(data: dict[str, Any], group_id: int) -> Any:
    """Rename the group or replace its endpoints (meetings already booked keep theirs)."""
    session = db()
    return groups.group_dict(groups.update_group(session, groups.get_group(session, group_id), data,
                                                 current_user().id))


@blp.route("/endpoint-groups/<int:group_id>", methods=["DELETE"])
@roles_required(*access.GROUP_MANAGERS)
@blp.response(204)
def delete_group(group_id: int) -> Any:
    """Delete the group; meetings booked with it keep their endpoints."""
    session = db()
    groups.delete_group(session, groups.get_group(session, group_id), current_user().id)
    return ""
