"""Admin pages: endpoints (create, edit, disable, CSV import with a per-row report), bridges (settings
without secrets, a probe button), users and roles."""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy import select

from confbridge.api.common import db, get_settings
from confbridge.auth.models import Role, User
from confbridge.auth.service import create_user, set_password, update_user
from confbridge.auth.web import current_user
from confbridge.directory import service as directory
from confbridge.errors import Conflict, InvalidInput, NotFound
from confbridge.ui.i18n import select_locale
from confbridge.ui.roles import page_roles

log = logging.getLogger(__name__)
bp = Blueprint("admin", __name__, url_prefix="/admin")
ENDPOINT_FIELDS = ("name", "site", "kind", "protocol", "address", "seats", "requires_approval",
                   "contact_name", "contact_email", "contact_phone")
MAX_CSV_BYTES = 1024 * 1024


def _field_messages(exc: InvalidInput | Conflict) -> dict[str, str]:
    """The directory service's refusal per field, in the user's language (its codes, never its wording)."""
    locale = select_locale()
    if isinstance(exc, InvalidInput):
        return {e.field: e.message(locale) for e in exc.errors}
    return {field: exc.text(locale) for field in exc.extra.get("fields") or {}}


@bp.get("/")
@page_roles("admin")
def index() -> ResponseReturnValue:
    return redirect(url_for("admin.endpoints"))


@bp.get("/endpoints")
@page_roles("admin")
def endpoints() -> ResponseReturnValue:
    return render_template("admin/endpoints.html", endpoints=directory.list_endpoints(db()),
                           active_nav="admin", section="endpoints")


def _endpoint_form(endpoint: Any | None) -> ResponseReturnValue:
    values: dict[str, str] = {k: "" for k in ENDPOINT_FIELDS}
    values["protocol"] = "sip"
    if endpoint is not None:
        values.update(name=endpoint.name, site=endpoint.site.name, kind=endpoint.kind,
                      protocol=endpoint.protocol, address=endpoint.address, seats=str(endpoint.seats),
                      contact_name=endpoint.contact_name, contact_email=endpoint.contact_email,
                      contact_phone=endpoint.contact_phone,
                      requires_approval="1" if endpoint.requires_approval else "")
    errors: dict[str, str] = {}
    if request.method == "POST":
        current = dict(values)
        values = {k: request.form.get(k, "").strip() for k in ENDPOINT_FIELDS}
        # An edit sends only what changed (the audit entry then names the real changes).
        data: dict[str, Any] = dict(values) if endpoint is None else {
            k: v for k, v in values.items() if v != current[k]}
        if "requires_approval" in data:  # a checkbox: "1" when ticked
            data["requires_approval"] = data["requires_approval"] == "1"
        try:
            if endpoint is None:
                endpoint = directory.create_endpoint(db(), data, current_user().id)
            elif data:
                directory.update_endpoint(db(), endpoint, data, current_user().id)
        except (InvalidInput, Conflict) as exc:
            db().rollback()
            errors = _field_messages(exc)
            stray = [f"{k}: {v}" for k, v in errors.items() if k not in ENDPOINT_FIELDS]
            if stray or not errors:
                errors["form"] = "; ".join(stray) or exc.message
        else:
            flash(_("Đã lưu điểm cầu “%(name)s”.", name=endpoint.name), "success")
            return redirect(url_for("admin.endpoints"))
    sites = sorted({e.site.name for e in directory.list_endpoints(db())})
    return render_template("admin/endpoint_form.html", endpoint=endpoint, values=values, errors=errors,
                           sites=sites, active_nav="admin", section="endpoints"), (422 if errors else 200)


@bp.route("/endpoints/new", methods=["GET", "POST"])
@page_roles("admin")
def endpoint_new() -> ResponseReturnValue:
    return _endpoint_form(None)


@bp.route("/endpoints/<int:endpoint_id>/edit", methods=["GET", "POST"])
@page_roles("admin")
def endpoint_edit(endpoint_id: int) -> ResponseReturnValue:
    return _endpoint_form(directory.get_endpoint(db(), endpoint_id))


@bp.post("/endpoints/<int:endpoint_id>/enabled")
@page_roles("admin")
def endpoint_enabled(endpoint_id: int) -> ResponseReturnValue:
    endpoint = directory.get_endpoint(db(), endpoint_id)
    if request.form.get("enabled") == "1":
        directory.update_endpoint(db(), endpoint, {"enabled": True}, current_user().id)
        flash(_("Đã bật lại điểm cầu “%(name)s”.", name=endpoint.name), "success")
    else:
        directory.disable_endpoint(db(), endpoint, current_user().id)
        flash(_("Đã ngừng sử dụng điểm cầu “%(name)s”; điểm cầu không còn được chọn khi đặt lịch mới.",
                name=endpoint.name), "success")
    return redirect(url_for("admin.endpoints"))


@bp.route("/endpoints/import", methods=["GET", "POST"])
@page_roles("admin")
def endpoint_import() -> ResponseReturnValue:
    report = None
    error = None
    if request.method == "POST":
        upload = request.files.get("file")
        raw = upload.read(MAX_CSV_BYTES + 1) if upload else b""
        if not raw:
            error = _("Chọn một tệp CSV.")
        elif len(raw) > MAX_CSV_BYTES:
            error = _("Tệp quá lớn (tối đa 1 MB).")
        else:
            try:
                text = raw.decode("utf-8-sig")
            except UnicodeDecodeError:
                error = _("Tệp phải được lưu với mã UTF-8.")
            else:
                try:
                    report = directory.import_csv(db(), text, current_user().id)
                except InvalidInput as exc:
                    db().rollback()
                    error = "; ".join(e.message(select_locale()) for e in exc.errors) or exc.text(select_locale())
        status = 422 if error else 200
    else:
        status = 200
    return render_template("admin/import.html", report=report, error=error, active_nav="admin",
                           section="endpoints"), status


@bp.get("/bridges")
@page_roles("admin")
def bridges() -> ResponseReturnValue:
    return render_template("admin/bridges.html", bridges=get_settings().bridges, probe=None,
                           active_nav="admin",
                           section="bridges")


@bp.post("/bridges/<name>/probe")
@page_roles("admin")
def bridge_probe(name: str) -> ResponseReturnValue:
    bridge = get_settings().bridge(name)
    if bridge is None or bridge.name != name:
        raise NotFound(_("Không có cầu MCU tên “%(name)s”.", name=name))
    from confbridge.bridges.registry import make_driver

    result: dict[str, Any] = {"name": name}
    driver = None
    try:
        driver = make_driver(bridge)
        info = driver.probe()
        result.update(ok=True, info=info)
    except Exception as exc:
        # One line the admin can act on; the exception text never contains the password (read from
        # env/file at call time and sent only in the request body).
        result.update(ok=False, error=f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")
        log.info("probe of bridge %s failed: %s", name, result["error"])
    finally:
        if driver is not None:
            try:
                driver.close()
            except Exception:
                log.debug("closing the driver failed", exc_info=True)
    return render_template("admin/bridges.html", bridges=get_settings().bridges, probe=result,
                           active_nav="admin", section="bridges")


@bp.route("/users", methods=["GET", "POST"])
@page_roles("admin")
def users() -> ResponseReturnValue:
    errors: dict[str, str] = {}
    values = {"username": "", "display_name": "", "email": "", "role": "secretary"}
    if request.method == "POST":
        values = {k: request.form.get(k, "").strip() for k in values}
        password = request.form.get("password", "")
        try:
            create_user(db(), values["username"], password, values["role"], email=values["email"] or None,
                        display_name=values["display_name"], actor_id=current_user().id)
        except InvalidInput as exc:
            db().rollback()
            known = {"password": _("Mật khẩu cần ít nhất 10 ký tự."),
                     "username": _("2–63 ký tự: chữ thường không dấu, số, '.', '_' hoặc '-'."),
                     "email": _("Địa chỉ e-mail không hợp lệ."), "role": _("Chọn một vai trò.")}
            errors = {k: known.get(k, v) for k, v in exc.fields.items()}
        except Conflict:
            db().rollback()
            errors = {"username": _("Tên đăng nhập đã tồn tại.")}
        else:
            flash(_("Đã tạo tài khoản “%(name)s”.", name=values["username"]), "success")
            return redirect(url_for("admin.users"))
    rows = list(db().scalars(select(User).order_by(User.username)))
    return render_template("admin/users.html", users=rows, values=values, errors=errors,
                           roles=[r.value for r in Role],
                           active_nav="admin", section="users"), (422 if errors else 200)


@bp.post("/users/<int:user_id>")
@page_roles("admin")
def user_update(user_id: int) -> ResponseReturnValue:
    user = db().get(User, user_id)
    if user is None:
        raise NotFound(_("Không có tài khoản này."))
    actor = current_user()
    role = request.form.get("role", user.role)
    active = request.form.get("active", "1" if user.active else "0") == "1"
    if role not in {r.value for r in Role}:
        flash(_("Vai trò không hợp lệ."), "error")
        return redirect(url_for("admin.users"))
    try:
        update_user(db(), user, {"role": role, "active": active}, actor.id)
    except Conflict:
        flash(_("Bạn không thể tự bỏ quyền quản trị hoặc khóa tài khoản của chính mình."), "error")
        return redirect(url_for("admin.users"))
    new_password = request.form.get("new_password", "")
    if new_password:
        try:
            set_password(db(), user, new_password, actor.id)
        except InvalidInput:
            db().rollback()
            flash(_("Mật khẩu cần ít nhất 10 ký tự."), "error")
            return redirect(url_for("admin.users"))
    flash(_("Đã cập nhật tài khoản “%(name)s”.", name=user.username), "success")
    return redirect(url_for("admin.users"))
