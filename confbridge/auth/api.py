"""REST: POST /api/v1/auth/token, users (admin)."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request
from flask.typing import ResponseReturnValue
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate
from sqlalchemy import select

from confbridge.api.common import db, get_settings
from confbridge.auth import service
from confbridge.auth.models import Role, User
from confbridge.auth.ratelimit import MAX_USERNAME, sign_in_guard
from confbridge.auth.serialise import user_dict
from confbridge.auth.web import current_user, roles_required
from confbridge.errors import Unauthorized
from confbridge.i18n import N_

blp = Blueprint("api_auth", __name__, url_prefix="/api/v1", description="Tokens and users")


class TokenRequestSchema(Schema):
    username = fields.String(required=True, validate=validate.Length(min=1, max=MAX_USERNAME))
    password = fields.String(required=True, validate=validate.Length(min=1, max=1024))


class TokenSchema(Schema):
    token = fields.String()
    expires_at = fields.String()
    role = fields.String()


class UserCreateSchema(Schema):
    username = fields.String(required=True)
    password = fields.String(required=True, load_only=True)
    role = fields.String(required=True, validate=validate.OneOf([r.value for r in Role]))
    email = fields.Email(load_default=None, allow_none=True)
    display_name = fields.String(load_default="", validate=validate.Length(max=200))


class UserPatchSchema(Schema):
    role = fields.String(validate=validate.OneOf([r.value for r in Role]))
    email = fields.Email(allow_none=True)
    display_name = fields.String(validate=validate.Length(max=200))
    active = fields.Boolean()
    locale = fields.String(validate=validate.OneOf(["vi", "en"]))
    timezone = fields.String(allow_none=True)


@blp.route("/auth/token", methods=["POST"])
@blp.arguments(TokenRequestSchema)
@blp.response(200, TokenSchema)
def token(data: dict[str, Any]) -> Any:
    """Exchange a username and password for a bearer token."""
    username, address = data["username"].strip().lower(), request.remote_addr or "?"
    guard = sign_in_guard()
    guard.check_address(address)
    guard.slow_down(username)
    session = db()
    try:
        with guard.password_check():
            user = service.authenticate(session, username, data["password"])
    except Unauthorized:
        guard.failed(username, address)
        raise
    guard.succeeded(username, address)
    raw, row = service.issue_token(session, user, hours=get_settings().web.api_token_hours)
    return {"token": raw, "expires_at": row.expires_at.isoformat() if row.expires_at else None,
            "role": user.role}


@blp.route("/auth/token", methods=["DELETE"])
@roles_required()
@blp.response(204)
def revoke_token() -> None:
    """Revoke the bearer token this request carries (sign this client out)."""
    from confbridge.api.common import bearer_token

    token = bearer_token()
    if token is None:
        raise Unauthorized.said(N_("Gửi mã (bearer token) cần thu hồi trong tiêu đề Authorization."))
    service.revoke_token(db(), token)


@blp.route("/auth/me", methods=["GET"])
@roles_required()
def me() -> ResponseReturnValue:
    return jsonify(user_dict(current_user()))


@blp.route("/users", methods=["GET"])
@roles_required(Role.ADMIN)
def list_users() -> ResponseReturnValue:
    return jsonify([user_dict(u) for u in db().scalars(select(User).order_by(User.username))])


@blp.route("/users", methods=["POST"])
@roles_required(Role.ADMIN)
@blp.arguments(UserCreateSchema)
def create_user(data: dict[str, Any]) -> ResponseReturnValue:
    user = service.create_user(db(), data["username"], data["password"], data["role"], email=data["email"],
                               display_name=data["display_name"], actor_id=current_user().id)
    return jsonify(user_dict(user)), 201


@blp.route("/users/<username>", methods=["PATCH"])
@roles_required(Role.ADMIN)
@blp.arguments(UserPatchSchema)
def patch_user(data: dict[str, Any], username: str) -> ResponseReturnValue:
    session = db()
    user = service.update_user(session, service.get_user(session, username), data, current_user().id)
    return jsonify(user_dict(user))
