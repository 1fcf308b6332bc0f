"""Sign-in, sign-out, password change, language switch."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from confbridge.api.common import db
from confbridge.auth.ratelimit import MAX_USERNAME, sign_in_guard
from confbridge.auth.service import authenticate, change_password
from confbridge.auth.sessions import end_session, start_session
from confbridge.auth.web import current_user, optional_user
from confbridge.errors import InvalidInput, TooManyRequests, Unauthorized
from confbridge.ui.i18n import LOCALES
from confbridge.ui.roles import ANY_ROLE, page_roles, safe_next

bp = Blueprint("auth", __name__)


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    next_url = safe_next(request.values.get("next"))
    if request.method == "GET":
        if optional_user() is not None:  # already signed in: nothing to do here
            return redirect(next_url or url_for("home"))
        return render_template("auth/login.html", next_url=next_url, username="")
    username = request.form.get("username", "").strip().lower()
    password = request.form.get("password", "")
    if len(username) > MAX_USERNAME:  # refused before anything about it is stored or hashed
        message = _("Tên đăng nhập dài quá %(n)d ký tự.", n=MAX_USERNAME)
        return render_template("auth/login.html", next_url=next_url, username="", error=message), 422
    address = request.remote_addr or "?"
    guard = sign_in_guard()
    wait = guard.address_wait(address)
    if wait:
        message = _("Quá nhiều lần đăng nhập sai. Vui lòng thử lại sau %(seconds)d giây.", seconds=wait)
        page = render_template("auth/login.html", next_url=next_url, username=username, error=message)
        return page, 429, {"Retry-After": str(wait)}
    if not username or not password:
        message = _("Vui lòng nhập tên đăng nhập và mật khẩu.")
        return render_template("auth/login.html", next_url=next_url, username=username, error=message), 422
    guard.slow_down(username)
    try:
        with guard.password_check():
            user = authenticate(db(), username, password)
    except TooManyRequests:
        message = _("Máy chủ đang bận kiểm tra đăng nhập. Vui lòng thử lại sau giây lát.")
        page = render_template("auth/login.html", next_url=next_url, username=username, error=message)
        return page, 429, {"Retry-After": "1"}
    except Unauthorized:
        guard.failed(username, address)
        message = _("Sai tên đăng nhập hoặc mật khẩu.")
        return render_template("auth/login.html", next_url=next_url, username=username, error=message), 401
    end_session(db(), session.get("sid"))  # a session this browser had before: no fixation
    raw_sid = start_session(db(), user)
    guard.succeeded(username, address)
    chosen_locale = session.get("locale")
    session.clear()  # a new session on sign-in: no fixation
    session.permanent = True
    session["user_id"] = user.id
    session["sid"] = raw_sid
    session["cv"] = user.credentials_version
    if chosen_locale in LOCALES:
        session["locale"] = chosen_locale
    return redirect(next_url or url_for("home"))


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    locale = session.get("locale")
    end_session(db(), session.get("sid"))  # the cookie, even if copied, signs nobody in any more
    session.clear()
    if locale in LOCALES:
        session["locale"] = locale
    flash(_("Bạn đã đăng xuất."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@page_roles(*ANY_ROLE)
def password() -> ResponseReturnValue:
    if request.method == "GET":
        return render_template("auth/password.html", errors={})
    user = current_user()
    old = request.form.get("old_password", "")
    new = request.form.get("new_password", "")
    repeat = request.form.get("new_password_repeat", "")
    errors: dict[str, str] = {}
    if new != repeat:
        errors["new_password_repeat"] = _("Hai mật khẩu mới không khớp.")
    else:
        try:
            change_password(db(), user, old, new)
        except InvalidInput as exc:
            if "old_password" in exc.fields:
                errors["old_password"] = _("Mật khẩu hiện tại không đúng.")
            else:
                errors["new_password"] = _("Mật khẩu mới cần ít nhất 10 ký tự.")
    if errors:
        return render_template("auth/password.html", errors=errors), 422
    session["sid"] = start_session(db(), user)  # every session was ended: this browser gets a new one
    session["cv"] = user.credentials_version  # this browser stays signed in; every other one is out
    flash(_("Đã đổi mật khẩu. Các phiên đăng nhập khác đã bị đăng xuất."), "success")
    return redirect(url_for("home"))


@bp.post("/language")
def language() -> ResponseReturnValue:
    """Switch the interface language; remembered on the account when signed in."""
    code = request.form.get("locale", "")
    if code in LOCALES:
        session["locale"] = code
        user = optional_user()
        if user is not None:
            user.locale = code
    target = safe_next(request.form.get("next")) or url_for("home")
    return redirect(target)


@bp.route("/account/timezone", methods=["POST"])
@page_roles(*ANY_ROLE)
def timezone() -> ResponseReturnValue:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    zone = request.form.get("timezone", "").strip()
    user = current_user()
    if zone == "":
        user.timezone = None
    else:
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            flash(_("Múi giờ không hợp lệ: %(zone)s", zone=zone), "error")
            return redirect(url_for("auth.password"))
        user.timezone = zone
    flash(_("Đã lưu múi giờ."), "success")
    return redirect(url_for("auth.password"))
