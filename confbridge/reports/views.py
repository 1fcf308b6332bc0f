"""Pages: /reports — a period at a glance (meetings per day, use by site, failures by reason, availability
by endpoint) as charts with their numbers, and the CSV/XLSX downloads.  Admins and technicians see
every conference; secretaries their own meetings."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Blueprint, Flask, Response, abort, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from confbridge.api.common import db, get_settings
from confbridge.auth.web import current_user
from confbridge.errors import InvalidInput
from confbridge.reports import charts, service
from confbridge.reports.api import download
from confbridge.reports.labels import CDR_COLUMNS, REASONS, USAGE_COLUMNS, word
from confbridge.reports.period import Period, parse_period
from confbridge.reports.rows import cdr_rows
from confbridge.ui.i18n import select_locale
from confbridge.ui.roles import ANY_ROLE, page_roles

bp = Blueprint("reports", __name__, url_prefix="/reports")
CHARTS = ("per_day", "usage_site", "failures", "availability")
EXPORTS = ("conferences", "usage-endpoint", "usage-site", "usage-bridge", "usage-organizer")
TOP = 15  # bars per chart


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)


def _period() -> Period:
    return parse_period(request.args.get("from"), request.args.get("to"), get_settings().zone)


def _chart_points(name: str, period: Period) -> tuple[str, list[tuple[str, float]], dict[str, bool]]:
    """(title, points, options) of one chart; the page's tables show the same points."""
    session, settings, user, locale = db(), get_settings(), current_user(), select_locale()
    if name == "per_day":
        runs = service.fetch(session, user, period)
        days = service.meetings_per_day(runs, period, settings)
        return _("Số cuộc họp mỗi ngày"), [(day[8:10] + "/" + day[5:7], n) for day, n in days], {}
    if name == "usage_site":
        rows = service.usage(session, settings, user, period, "site")[:TOP]
        return (_("Giờ kết nối theo đơn vị (điểm cầu × giờ)"),
                [(str(r["name"]), float(r["connected_hours"])) for r in rows], {"horizontal": True})
    if name == "failures":
        rel = service.reliability(session, settings, user, period)
        return (_("Cuộc gọi không kết nối được, theo lý do"),
                [(word(locale, REASONS, reason), n) for reason, n in rel["failures_by_reason"].items()],
                {"horizontal": True})
    avail = service.endpoint_availability(session, period)[:TOP]
    return (_("Điểm cầu sẵn sàng thấp nhất (phần trăm thời gian không mất kết nối)"),
            [(str(r["endpoint"]), round(100 * (r["availability"] or 0), 1)) for r in avail],
            {"horizontal": True, "percent": True})


@bp.get("")
@page_roles(*ANY_ROLE)
def index() -> ResponseReturnValue:
    settings = get_settings()
    values = {"from": request.args.get("from", ""), "to": request.args.get("to", "")}
    try:
        period = _period()
    except InvalidInput as exc:
        return render_template("reports/index.html", errors=exc.fields, values=values, period=None,
                               active_nav="reports"), 422
    session, user = db(), current_user()
    rel = service.reliability(session, settings, user, period)
    charts_data = {name: _chart_points(name, period) for name in CHARTS}
    zone = settings.zone
    shown = {"from": period.start.astimezone(zone).date().isoformat(),
             "to": (period.end.astimezone(zone) - timedelta(days=1)).date().isoformat()}
    if not any(values.values()):
        values = shown
    return render_template("reports/index.html", errors={}, values=values, shown=shown, period=period,
                           rel=rel, charts=charts_data, active_nav="reports",
                           query={"from": shown["from"], "to": shown["to"]})


@bp.get("/charts/<name>.svg")
@page_roles(*ANY_ROLE)
def chart(name: str) -> ResponseReturnValue:
    if name not in CHARTS:
        abort(404)
    title, points, options = _chart_points(name, _period())
    response = Response(charts.bars(title, points, **options), mimetype=charts.SVG_TYPE)
    response.headers["Content-Security-Policy"] = charts.SVG_CSP
    response.headers["Cache-Control"] = "private, max-age=60"
    return response


@bp.get("/export/<report>.<fmt>")
@page_roles(*ANY_ROLE)
def export_file(report: str, fmt: str) -> ResponseReturnValue:
    if report not in EXPORTS or fmt not in ("csv", "xlsx"):
        abort(404)
    period, locale = _period(), select_locale()
    session, settings, user = db(), get_settings(), current_user()
    if report == "conferences":
        rows: list[dict[str, Any]] = cdr_rows(service.fetch(session, user, period), locale)
        return download(fmt, "cdr", CDR_COLUMNS, rows, period, locale)
    by = report.split("-", 1)[1]
    return download(fmt, report, USAGE_COLUMNS, service.usage(session, settings, user, period, by), period, locale)
