"""Admin pages: endpoints (with CSV import), bridges (settings + probe), users and roles."""

from __future__ import annotations

from flask import Blueprint
from flask.typing import ResponseReturnValue

from confbridge.ui.roles import page_roles

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.get("/endpoints")
@page_roles("admin")
def endpoints() -> ResponseReturnValue:
    return "TODO"
