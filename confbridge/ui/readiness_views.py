"""The readiness board (``/console/readiness``): upcoming conferences with their pre-flight results,
"18/20 sẵn sàng" per occurrence and each endpoint's status and reason, and a button to test now.
Thin: the rules are ``launch.preflight_service``."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from confbridge import notices
from confbridge.api.common import db, get_settings
from confbridge.auth import access
from confbridge.auth.web import current_user
from confbridge.errors import DomainError
from confbridge.launch import preflight_service
from confbridge.ui.i18n import select_locale
from confbridge.ui.roles import page_roles

bp = Blueprint("readiness", __name__)


def status_labels() -> dict[str, str]:
    return {"pending": _("Chờ gọi thử"), "dialling": _("Đang gọi thử"), "ready": _("Đã sẵn sàng"),
            "failed": _("Không sẵn sàng"), "skipped": _("Bỏ qua")}


def reason_labels(locale: str) -> dict[str, str]:
    """Each reason's label: the notice catalogue's ``reason.*`` codes (one wording everywhere)."""
    codes = ("busy", "no_answer", "rejected", "unreachable", "in_conference", "remote_hangup", "bridge_error",
             "other")
    return {code: notices.render(f"reason.{code}", None, locale, fallback=code) for code in codes}


@bp.get("/console/readiness")
@page_roles(*access.OPERATORS)
def board() -> ResponseReturnValue:
    rows = preflight_service.board(db(), current_user())
    return render_template("console/readiness.html", rows=rows, status_labels=status_labels(),
                           reason_labels=reason_labels(select_locale()), active_nav="console")


@bp.post("/console/readiness/<int:meeting_id>/<occurrence_start>")
@page_roles(*access.OPERATORS)
def run_now(meeting_id: int, occurrence_start: str) -> ResponseReturnValue:
    try:
        start = datetime.fromisoformat(occurrence_start)
        if start.tzinfo is None:
            raise ValueError(occurrence_start)
    except ValueError:
        flash(_("Thời điểm của buổi họp không hợp lệ."), "error")
        return redirect(url_for("readiness.board"))
    try:
        preflight_service.request_preflight(db(), get_settings(), current_user(), meeting_id, start)
    except DomainError as exc:
        flash(_("Không chạy được kiểm tra trước: %(reason)s", reason=exc.message), "error")
    else:
        flash(_("Đã yêu cầu gọi thử; kết quả hiện ở đây sau ít giây."), "success")
    return redirect(url_for("readiness.board"))
