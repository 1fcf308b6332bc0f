"""The approvals page (``/approvals``): meetings waiting for approval, approve or reject with a reason.

For approvers and administrators.  The rules are ``booking.decisions``; this page parses and renders.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from confbridge.api.common import db, get_settings
from confbridge.auth import access
from confbridge.auth.web import current_user
from confbridge.booking import decisions, service
from confbridge.errors import Conflict, InvalidInput
from confbridge.ui.i18n import select_locale
from confbridge.ui.roles import page_roles

bp = Blueprint("approvals", __name__, url_prefix="/approvals")
APPROVER_ROLES = access.APPROVERS


def _page(errors: dict[int, str] | None = None, reasons: dict[int, str] | None = None) -> ResponseReturnValue:
    pending = decisions.list_pending(db())
    return render_template("booking/approvals.html", pending=pending, errors=errors or {},
                           reasons=reasons or {}, active_nav="approvals"), (422 if errors else 200)


@bp.get("/")
@page_roles(*APPROVER_ROLES)
def index() -> ResponseReturnValue:
    return _page()


def _decided(message: str) -> ResponseReturnValue:
    flash(message, "success")
    return redirect(url_for("approvals.index"))


@bp.post("/<int:meeting_id>/approve")
@page_roles(*APPROVER_ROLES)
def approve(meeting_id: int) -> ResponseReturnValue:
    meeting = service.get_meeting(db(), meeting_id)
    try:
        decisions.approve(db(), get_settings(), current_user(), meeting)
    except Conflict as exc:
        db().rollback()
        flash(exc.text(select_locale()), "error")
        return redirect(url_for("approvals.index"))
    return _decided(_("Đã phê duyệt «%(title)s»; giấy mời đã được gửi.", title=meeting.title))


@bp.post("/<int:meeting_id>/reject")
@page_roles(*APPROVER_ROLES)
def reject(meeting_id: int) -> ResponseReturnValue:
    meeting = service.get_meeting(db(), meeting_id)
    reason = request.form.get("reason", "")
    try:
        decisions.reject(db(), get_settings(), current_user(), meeting, reason)
    except InvalidInput as exc:
        db().rollback()
        locale = select_locale()
        message = "; ".join(e.message(locale) for e in exc.errors)
        return _page({meeting_id: message}, {meeting_id: reason})
    except Conflict as exc:
        db().rollback()
        flash(exc.text(select_locale()), "error")
        return redirect(url_for("approvals.index"))
    return _decided(_("Đã từ chối «%(title)s».", title=meeting.title))
