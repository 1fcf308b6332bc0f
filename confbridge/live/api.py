"""``POST /api/v1/live/token``: a short-lived, single-use token to open one live connection."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint
from marshmallow import Schema, fields

from confbridge.api.common import db, get_settings
from confbridge.auth.web import current_user, roles_required
from confbridge.live.tokens import issue_live_token
from confbridge.public_urls import live_url

blp = Blueprint("live", __name__, url_prefix="/api/v1/live",
                description="Live status: one-time tokens for the WebSocket server")


class LiveTokenSchema(Schema):
    token = fields.String(required=True, metadata={"description": "send as {\"type\":\"auth\",\"token\":…}"})
    expires_at = fields.DateTime(required=True)
    url = fields.String(required=True, metadata={"description": "the live server's WebSocket address"})


@blp.route("/token", methods=["POST"])
@blp.response(201, LiveTokenSchema)
@roles_required()
def create_live_token() -> dict[str, Any]:
    """Issue a live token for the caller (signed-in session with CSRF header, or bearer token).

    The token is valid for ``live.token_seconds`` and opens exactly one connection; it is never put in
    a URL: the client sends it as its first WebSocket message.
    """
    user = current_user()
    settings = get_settings()
    token, expires_at = issue_live_token(db(), user, settings.live)
    return {"token": token, "expires_at": expires_at,
            "url": live_url(settings)}
