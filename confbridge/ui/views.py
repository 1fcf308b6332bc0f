"""Wire the pages into the app: Flask-Babel (vi default, en), template helpers, the page blueprints."""

from __future__ import annotations

from typing import Any

from flask import Flask, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import Babel
from werkzeug.exceptions import HTTPException

from confbridge.api.common import get_settings
from confbridge.app import WEB_ROOT
from confbridge.auth import access
from confbridge.auth.access import HasRole
from confbridge.auth.web import optional_user
from confbridge.errors import DomainError
from confbridge.ui import format as fmt
from confbridge.ui.i18n import LOCALE_NAMES, compile_catalogues, select_locale, select_timezone
from confbridge.ui.roles import role_label

TRANSLATIONS = WEB_ROOT / "translations"


def _nav_items(user: HasRole | None) -> list[tuple[str, str, str]]:
    """(endpoint or path, label msgid, key) for the signed-in user, in the order shown; who sees which item
    is decided by the access rules (auth/access.py), not here."""
    from flask_babel import gettext as _

    items: list[tuple[str, str, str]] = []
    if user is None:
        return items
    if access.may_read_calendar(user):
        items.append((url_for("calendar.week"), _("Lịch"), "calendar"))
    if access.may_approve(user):
        items.append((url_for("approvals.index"), _("Duyệt lịch"), "approvals"))
    if access.may_book(user):
        items.append((url_for("booking.new"), _("Đặt lịch"), "booking"))
        items.append((url_for("calendar.availability"), _("Tình trạng điểm cầu"), "availability"))
    if access.may_operate(user):
        items.append(("/console", _("Bảng điều khiển"), "console"))
    if access.may_read_calendar(user):
        items.append((url_for("reports.index"), _("Báo cáo"), "reports"))
    if access.may_administer(user):
        items.append((url_for("admin.endpoints"), _("Quản trị"), "admin"))
    if access.may_read_calendar(user):
        items.append((url_for("subscribe.page"), _("Đăng ký lịch"), "subscribe"))
    return items


def init_app(app: Flask) -> None:
    compile_catalogues(TRANSLATIONS)
    app.config.setdefault("BABEL_DEFAULT_LOCALE", "vi")
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS))
    Babel(app, locale_selector=select_locale, timezone_selector=select_timezone)
    app.jinja_env.add_extension("jinja2.ext.i18n")  # {% trans %} blocks (Flask-Babel installs gettext)

    app.jinja_env.filters.update(
        date=fmt.fmt_date, time=fmt.fmt_time, datetime=fmt.fmt_datetime, weekday=fmt.fmt_weekday,
    )
    app.jinja_env.globals.update(fmt_range=fmt.fmt_range, role_label=role_label)

    @app.context_processor
    def _page_context() -> dict[str, Any]:
        user = optional_user()
        return {
            "current_user": user,
            "nav_items": _nav_items(user),
            "may_book": user is not None and access.may_book(user),
            "locale_code": select_locale(),
            "locale_names": LOCALE_NAMES,
            "zone_name": select_timezone(),
            "settings": get_settings(),
        }

    from confbridge.ui import (
        admin_views,
        approval_views,
        auth_views,
        blackout_views,
        booking_views,
        calendar_views,
        readiness_views,
        subscribe_views,
    )

    app.register_blueprint(auth_views.bp)
    app.register_blueprint(calendar_views.bp)
    app.register_blueprint(booking_views.bp)
    app.register_blueprint(admin_views.bp)
    app.register_blueprint(subscribe_views.bp)
    app.register_blueprint(readiness_views.bp)
    app.register_blueprint(blackout_views.bp)
    app.register_blueprint(approval_views.bp)

    @app.errorhandler(404)
    @app.errorhandler(405)
    def _page_not_found(exc: HTTPException) -> ResponseReturnValue:
        """Unknown pages get the same friendly page as the other errors; the API keeps its JSON body."""
        if request.path.startswith("/api/"):
            body = {"error": (exc.name or "error").lower().replace(" ", "_"), "message": exc.description}
            return jsonify(body), exc.code or 404
        from flask_babel import gettext as _

        message = _("Không có trang này.") if exc.code == 404 else _("Thao tác này không được hỗ trợ ở đây.")
        return render_template("error.html", error=DomainError(message), status=exc.code), exc.code or 404

    @app.get("/")
    def home() -> ResponseReturnValue:
        user = optional_user()
        if user is None:
            return redirect(url_for("auth.login"))
        has_console = any(rule.rule == "/console" for rule in app.url_map.iter_rules())
        if access.starts_at_console(user) and has_console:
            return redirect("/console")
        if access.starts_at_approvals(user):
            return redirect(url_for("approvals.index"))
        return redirect(url_for("calendar.week"))

