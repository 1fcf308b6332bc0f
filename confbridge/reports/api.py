"""REST: /api/v1/reports — call detail records, use, punctuality and reliability (JSON, CSV, XLSX).

Admins and technicians read every conference; secretaries the conferences of their own meetings.
"""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request
from flask.typing import ResponseReturnValue
from flask_smorest import Blueprint

from confbridge.api.common import db, get_settings
from confbridge.auth.web import current_user, roles_required
from confbridge.errors import FieldError, InvalidInput
from confbridge.i18n import negotiate
from confbridge.reports import export, service
from confbridge.reports.labels import CDR_COLUMNS, USAGE_COLUMNS
from confbridge.reports.period import Period, parse_period
from confbridge.reports.rows import cdr_rows

blp = Blueprint("api_reports", __name__, url_prefix="/api/v1/reports",
                description="Reports: call detail records, use, punctuality and reliability")
FORMATS = ("json", "csv", "xlsx")


def _period() -> Period:
    return parse_period(request.args.get("from"), request.args.get("to"), get_settings().zone)


def _format() -> str:
    fmt = request.args.get("format", "json")
    if fmt not in FORMATS:
        raise InvalidInput.of([FieldError.of("format", "one_of", choices=", ".join(FORMATS))])
    return fmt


def _int_arg(name: str) -> int | None:
    raw = request.args.get(name)
    if raw in (None, ""):
        return None
    if not raw.isdigit() or len(raw) > 12:
        raise InvalidInput.of([FieldError.of(name, "not_integer")])
    return int(raw)


def download(fmt: str, name: str, columns: Any, rows: list[dict[str, Any]], period: Period,
             locale: str | None = None) -> Response:
    """The rows as a CSV or XLSX attachment named after the report and the period (words in *locale*,
    else the caller's Accept-Language)."""
    settings = get_settings()
    locale = locale or negotiate(request.headers.get("Accept-Language"))
    stem = f"{name}-{period.start.astimezone(settings.zone):%Y%m%d}-{period.end.astimezone(settings.zone):%Y%m%d}"
    if fmt == "csv":
        body, mimetype = export.to_csv(columns, rows, locale, settings.zone), export.CSV_TYPE
    else:
        body, mimetype = export.to_xlsx(columns, rows, locale, settings.zone, name), export.XLSX_TYPE
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{stem}.{fmt}"'
    return response


@blp.route("/conferences", methods=["GET"])
@roles_required(*service.READERS)
def conferences() -> ResponseReturnValue:
    """Call detail records: one row per conference run in [from, to) by planned start, with its legs.

    ``from``/``to``: dates (YYYY-MM-DD, ``to`` inclusive) or ISO instants with offset; default this month.
    ``endpoint_id``, ``site`` (id or name) keep runs with that endpoint/site and only those legs.
    ``format=csv|xlsx``: one row per leg."""
    fmt, period = _format(), _period()
    site = (request.args.get("site") or "").strip()[:200] or None
    runs = service.fetch(db(), current_user(), period,
                         service.Filters(endpoint_id=_int_arg("endpoint_id"), site=site))
    if fmt == "json":
        return jsonify({"period": {"from": period.start.isoformat(), "to": period.end.isoformat()},
                        "conferences": [run.as_dict() for run in runs]})
    locale = negotiate(request.headers.get("Accept-Language"))
    return download(fmt, "cdr", CDR_COLUMNS, cdr_rows(runs, locale), period)


@blp.route("/usage", methods=["GET"])
@roles_required(*service.READERS)
def usage() -> ResponseReturnValue:
    """Use by ``by=endpoint|site|bridge|organizer``: meetings, meeting/booked/connected hours, office share."""
    fmt, period = _format(), _period()
    by = request.args.get("by", "endpoint")
    rows = service.usage(db(), get_settings(), current_user(), period, by)
    if fmt == "json":
        return jsonify({"period": {"from": period.start.isoformat(), "to": period.end.isoformat()}, "by": by,
                        "rows": rows})
    return download(fmt, f"usage-{by}", USAGE_COLUMNS, rows, period)


@blp.route("/reliability", methods=["GET"])
@roles_required(*service.READERS)
def reliability() -> ResponseReturnValue:
    """Launches on time/late/missed, first-attempt connects, failures by reason and endpoint, time to
    all-connected (p50/p90), endpoint and bridge availability."""
    return jsonify(service.reliability(db(), get_settings(), current_user(), _period()))
