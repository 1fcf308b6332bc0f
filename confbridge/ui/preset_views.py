"""Pages for endpoint groups (administrators: /admin/groups) and meeting templates (a secretary's own,
an administrator's every one: /templates).  Thin: parse the form, call one service, render."""

from __future__ import annotations

from itertools import groupby
from typing import Any

from flask import Blueprint, Flask, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from confbridge.api.common import db
from confbridge.auth import access
from confbridge.auth.web import current_user
from confbridge.booking import templates
from confbridge.directory import groups
from confbridge.directory import service as directory
from confbridge.errors import InvalidInput
from confbridge.ui.i18n import select_locale
from confbridge.ui.roles import SECRETARY_ROLES, page_roles

groups_bp = Blueprint("endpoint_groups", __name__, url_prefix="/admin/groups")
templates_bp = Blueprint("meeting_templates", __name__, url_prefix="/templates")


def init_app(app: Flask) -> None:
    app.register_blueprint(groups_bp)
    app.register_blueprint(templates_bp)


# ---- endpoint groups ---------------------------------------------------------------------------------
@groups_bp.get("/")
@page_roles(*access.GROUP_MANAGERS)
def index() -> ResponseReturnValue:
    return render_template("admin/groups.html", groups=groups.list_groups(db()), active_nav="admin",
                           section="groups")


def _sites() -> list[tuple[str, list[Any]]]:
    endpoints = sorted(directory.list_endpoints(db(), include_disabled=False), key=lambda e: (e.site.name, e.name))
    return [(site, list(items)) for site, items in groupby(endpoints, key=lambda e: e.site.name)]


def _group_form(group: groups.EndpointGroup | None) -> ResponseReturnValue:
    values: dict[str, Any] = {"name": group.name if group else "",
                              "endpoint_ids": set(group.endpoint_ids) if group else set()}
    errors: dict[str, str] = {}
    if request.method == "POST":
        ids = [int(v) for v in request.form.getlist("endpoint_ids") if v.isdigit()]
        values = {"name": request.form.get("name", ""), "endpoint_ids": set(ids)}
        data = {"name": values["name"], "endpoint_ids": ids}
        try:
            if group is None:
                group = groups.create_group(db(), data, current_user().id)
            else:
                groups.update_group(db(), group, data, current_user().id)
        except InvalidInput as exc:
            db().rollback()
            locale = select_locale()
            errors = {e.field: e.message(locale) for e in exc.errors}
        else:
            flash(_("Đã lưu nhóm điểm cầu “%(name)s”.", name=group.name), "success")
            return redirect(url_for("endpoint_groups.index"))
    return render_template("admin/group_form.html", group=group, values=values, errors=errors, sites=_sites(),
                           active_nav="admin", section="groups"), (422 if errors else 200)


@groups_bp.route("/new", methods=["GET", "POST"])
@page_roles(*access.GROUP_MANAGERS)
def new() -> ResponseReturnValue:
    return _group_form(None)


@groups_bp.route("/<int:group_id>/edit", methods=["GET", "POST"])
@page_roles(*access.GROUP_MANAGERS)
def edit(group_id: int) -> ResponseReturnValue:
    return _group_form(groups.get_group(db(), group_id))


@groups_bp.post("/<int:group_id>/delete")
@page_roles(*access.GROUP_MANAGERS)
def delete(group_id: int) -> ResponseReturnValue:
    group = groups.get_group(db(), group_id)
    name = group.name
    groups.delete_group(db(), group, current_user().id)
    flash(_("Đã xóa nhóm “%(name)s”; các cuộc họp đã đặt vẫn giữ nguyên điểm cầu.", name=name), "success")
    return redirect(url_for("endpoint_groups.index"))


# ---- meeting templates -------------------------------------------------------------------------------
@templates_bp.get("/")
@page_roles(*SECRETARY_ROLES)
def index_templates() -> ResponseReturnValue:
    rows = templates.list_templates(db(), current_user())
    return render_template("booking/templates.html", templates=rows, active_nav="booking")


@templates_bp.post("/<int:template_id>/delete")
@page_roles(*SECRETARY_ROLES)
def delete_template(template_id: int) -> ResponseReturnValue:
    user = current_user()
    template = templates.get_template(db(), user, template_id)
    name = template.name
    templates.delete_template(db(), user, template)
    flash(_("Đã xóa mẫu “%(name)s”; các cuộc họp đã đặt từ mẫu vẫn giữ nguyên.", name=name), "success")
    return redirect(url_for("meeting_templates.index_templates"))
