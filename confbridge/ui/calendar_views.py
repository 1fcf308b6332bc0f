"""Calendar (week and day) and the endpoint availability grid."""

from __future__ import annotations

from flask import Blueprint
from flask.typing import ResponseReturnValue

from confbridge.ui.roles import ANY_ROLE, SECRETARY_ROLES, page_roles

bp = Blueprint("calendar", __name__)


@bp.get("/calendar")
@page_roles(*ANY_ROLE)
def week() -> ResponseReturnValue:
    return "TODO"


@bp.get("/availability")
@page_roles(*SECRETARY_ROLES)
def availability() -> ResponseReturnValue:
    return "TODO"
