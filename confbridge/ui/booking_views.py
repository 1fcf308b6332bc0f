"""The booking form, a meeting's page, per-occurrence edit and cancel."""

from __future__ import annotations

from flask import Blueprint
from flask.typing import ResponseReturnValue

from confbridge.ui.roles import SECRETARY_ROLES, page_roles

bp = Blueprint("booking", __name__)


@bp.route("/bookings/new", methods=["GET", "POST"])
@page_roles(*SECRETARY_ROLES)
def new() -> ResponseReturnValue:
    return "TODO"
