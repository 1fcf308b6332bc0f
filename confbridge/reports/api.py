"""REST: /api/v1/reports — call detail records, use, punctuality and reliability (JSON, CSV, XLSX).

Admins and technicians read every conference; secretaries the conferences of their own meetings.
"""

from __future__ import annotations

import base64
from datetime import datetime
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
DEFAULT_PAGE = 1000  # conference runs per page of call detail records
MAX_PAGE = 5000


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


def encode_position(run: service.RunRow) -> str:
    """The opaque ``next`` of a page: where it ended."""
    raw = f"{run.planned_start.isoformat()}|{run.id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _after() -> service.Position | None:
    token = (request.args.get("after") or "").strip()
    if not token:
        return None
    try:
        stamp, run_id = base64.urlsafe_b64decode(token[:200] + "=" * (-len(token) % 4)).decode().split("|")
        at = datetime.fromisoformat(stamp)
        if at.tzinfo is None or not run_id.isdigit():
            raise ValueError(token)
    except ValueError:  # binascii.Error and UnicodeDecodeError are ValueErrors too
        raise InvalidInput.of([FieldError.of("after", "bad_cursor")]) from None
    return service.Position(at, int(run_id))


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
    ``limit`` (1–5000, default 1000) runs per page; ``after``: the previous page's ``next`` (null on the last).
    ``format=csv|xlsx``: one row per leg, the whole period in one file."""
    fmt, period = _format(), _period()
    site = (request.args.get("site") or "").strip()[:200] or None
    filters = service.Filters(endpoint_id=_int_arg("endpoint_id"), site=site)
    if fmt == "json":
        # Paged by keyset: a national month is hundreds of thousands of legs; each page answers quickly.
        asked = _int_arg("limit")
        limit = DEFAULT_PAGE if asked is None else asked
        if not 1 <= limit <= MAX_PAGE:
            raise InvalidInput.of([FieldError.of("limit", "out_of_range", low=1, high=MAX_PAGE)])
        runs = service.fetch(db(), current_user(), period, filters, after=_after(), limit=limit + 1)
        more = len(runs) > limit
        runs = runs[:limit]
        return jsonify({"period": {"from": period.start.isoformat(), "to": period.end.isoformat()},
                        "conferences": [run.as_dict() for run in runs],
                        "next": encode_position(runs[-1]) if more else None})
    runs = service.fetch(db(), current_user(), period, filters)
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
