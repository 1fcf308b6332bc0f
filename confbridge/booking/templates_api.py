"""REST: /api/v1/templates (meeting templates: a secretary's own, an administrator's every one)."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint

from confbridge.api.common import db, get_settings
from confbridge.auth import access
from confbridge.auth.web import current_user, roles_required
from confbridge.booking import templates
from confbridge.booking.preset_schemas import TemplatePatchSchema, TemplateSchema

blp = Blueprint("api_templates", __name__, url_prefix="/api/v1", description="Meeting templates")


@blp.route("/templates", methods=["GET"])
@roles_required(*access.BOOKERS)
@blp.response(200, TemplateSchema(many=True))
def list_templates() -> Any:
    """The caller's templates (an administrator: every template)."""
    return [templates.template_dict(t) for t in templates.list_templates(db(), current_user())]


@blp.route("/templates", methods=["POST"])
@roles_required(*access.BOOKERS)
@blp.arguments(TemplateSchema)
@blp.response(201, TemplateSchema)
def create_template(data: dict[str, Any]) -> Any:
    """A template owned by the caller; its name is unique among the caller's templates."""
    return templates.template_dict(templates.create_template(db(), get_settings(), current_user(), data))


@blp.route("/templates/<int:template_id>", methods=["GET"])
@roles_required(*access.BOOKERS)
@blp.response(200, TemplateSchema)
def get_template(template_id: int) -> Any:
    return templates.template_dict(templates.get_template(db(), current_user(), template_id))


@blp.route("/templates/<int:template_id>", methods=["PATCH"])
@roles_required(*access.BOOKERS)
@blp.arguments(TemplatePatchSchema)
@blp.response(200, TemplateSchema)
def patch_template(data: dict[str, Any], template_id: int) -> Any:
    session = db()
    user = current_user()
    template = templates.get_template(session, user, template_id)
    return templates.template_dict(templates.update_template(session, get_settings(), user, template, data))


@blp.route("/templates/<int:template_id>", methods=["DELETE"])
@roles_required(*access.BOOKERS)
@blp.response(204)
def delete_template(template_id: int) -> Any:
    """Delete the template; meetings booked from it keep their values."""
    session = db()
    user = current_user()
    templates.delete_template(session, user, templates.get_template(session, user, template_id))
    return ""
