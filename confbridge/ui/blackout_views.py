"""Admin page: an endpoint's blackout windows (maintenance) — list, add, delete.

The page parses the form (local date and time in the user's zone) and calls
:mod:`confbridge.maintenance.service`, the same operations as the REST API; a blackout laid over
bookings is saved and the affected meetings are listed in the confirmation (each has raised an alarm).
"""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from confbridge.api.common import db, get_settings
from confbridge.auth.web import current_user
from confbridge.errors import FieldError, InvalidInput
from confbridge.maintenance import service
from confbridge.ui.i18n import select_locale, user_zone
from confbridge.ui.roles import page_roles

bp = Blueprint("admin_blackouts", __name__, url_prefix="/admin")
FIELDS = ("start_date", "start_time", "end_date", "end_time", "reason")


def _local(date: str, time: str, name: str, errors: list[FieldError]) -> datetime | None:
    """A date input (``YYYY-MM-DD``) and a time input (``HH:MM``) read in the user's zone."""
    if not date.strip() or not time.strip():
        errors.append(FieldError.of(name, "required"))
        return None
    try:
        parsed = datetime.fromisoformat(f"{date.strip()}T{time.strip()}")
    except ValueError:
        errors.append(FieldError.of(name, "not_datetime"))
        return None
    return parsed.replace(tzinfo=user_zone()) if parsed.tzinfo is None else parsed


def _page(endpoint_id: int, values: dict[str, str], errors: dict[str, str], status: int = 200) -> ResponseReturnValue:
    session = db()
    target = service.endpoint_target(session, endpoint_id)
    return render_template(
        "admin/blackouts.html", endpoint=target.endpoint, blackouts=service.list_blackouts(session, target),
        values=values, errors=errors, zone=user_zone(), active_nav="admin", section="endpoints",
    ), status


@bp.get("/endpoints/<int:endpoint_id>/blackouts")
@page_roles("admin")
def endpoint_blackouts(endpoint_id: int) -> ResponseReturnValue:
    return _page(endpoint_id, dict.fromkeys(FIELDS, ""), {})


@bp.post("/endpoints/<int:endpoint_id>/blackouts")
@page_roles("admin")
def endpoint_blackout_add(endpoint_id: int) -> ResponseReturnValue:
    values = {k: request.form.get(k, "") for k in FIELDS}
    target = service.endpoint_target(db(), endpoint_id)
    parse_errors: list[FieldError] = []
    start = _local(values["start_date"], values["start_time"], "start", parse_errors)
    end = _local(values["end_date"], values["end_time"], "end", parse_errors)
    try:
        if parse_errors:
            raise InvalidInput.of(parse_errors)
        _blackout, affected = service.create_blackout(
            db(), get_settings(), target, start=start, end=end, reason=values["reason"], actor_id=current_user().id)
    except InvalidInput as exc:
        locale = select_locale()
        return _page(endpoint_id, values, {e.field: e.message(locale) for e in exc.errors}, 422)
    if affected:
        titles = "; ".join(f"{a.meeting.title} ({a.occurrence.start.astimezone(user_zone()):%H:%M %d/%m/%Y})"
                           for a in affected[:10])
        flash(_("Đã lưu lịch ngừng phục vụ. %(n)d buổi họp đã đặt bị ảnh hưởng (đã báo cảnh báo): %(list)s",
                n=len(affected), list=titles), "warning")
    else:
        flash(_("Đã lưu lịch ngừng phục vụ."), "success")
    return redirect(url_for("admin_blackouts.endpoint_blackouts", endpoint_id=endpoint_id))


@bp.post("/endpoints/<int:endpoint_id>/blackouts/<int:blackout_id>/delete")
@page_roles("admin")
def endpoint_blackout_delete(endpoint_id: int, blackout_id: int) -> ResponseReturnValue:
    session = db()
    target = service.endpoint_target(session, endpoint_id)
    service.delete_blackout(session, service.get_blackout(session, target, blackout_id), current_user().id)
    flash(_("Đã xóa lịch ngừng phục vụ."), "success")
    return redirect(url_for("admin_blackouts.endpoint_blackouts", endpoint_id=endpoint_id))

