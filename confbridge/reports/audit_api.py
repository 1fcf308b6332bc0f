"""REST: /api/v1/audit — the audit log for admins (filters, paging, CSV).  Read-only: no route changes
or deletes an entry.  (Here, not in ``confbridge.audit``: that package stays at the bottom of the import
graph, imported by every package that records.)"""

from __future__ import annotations

from flask import jsonify, request
from flask.typing import ResponseReturnValue
from flask_smorest import Blueprint

from confbridge import clock
from confbridge.api.common import db, get_settings
from confbridge.audit import service
from confbridge.auth.models import Role
from confbridge.auth.web import roles_required
from confbridge.errors import FieldError, InvalidInput
from confbridge.reports.api import download
from confbridge.reports.labels import AUDIT_COLUMNS
from confbridge.reports.period import Period, parse_period

blp = Blueprint("api_audit", __name__, url_prefix="/api/v1/audit", description="The audit log (admins)")


def parse_query(args: dict[str, str]) -> tuple[service.AuditQuery, Period | None]:
    zone = get_settings().zone
    period = parse_period(args.get("from"), args.get("to"), zone) if (args.get("from") or args.get("to")) else None
    texts = {}
    for name, limit in (("actor", 120), ("action", 60), ("object_type", 40), ("object_id", 64)):
        value = (args.get(name) or "").strip()
        if len(value) > limit:
            raise InvalidInput.of([FieldError.of(name, "too_long_text", max_length=limit)])
        texts[name] = value or None
    query = service.AuditQuery(start=period.start if period else None, end=period.end if period else None,
                               **texts)
    return query, period


def page_args(args: dict[str, str]) -> tuple[int, int]:
    def number(name: str, default: int, high: int) -> int:
        raw = args.get(name) or str(default)
        if not raw.isdigit() or not 1 <= int(raw) <= high:
            raise InvalidInput.of([FieldError.of(name, "out_of_range", low=1, high=high)])
        return int(raw)

    return number("page", 1, 1_000_000), number("page_size", 100, service.MAX_PAGE_SIZE)


@blp.route("", methods=["GET"])
@roles_required(Role.ADMIN)
def list_audit() -> ResponseReturnValue:
    """Entries newest first. Filters: from, to (dates or instants), actor (username), action (exact, or a
    prefix ending in "."), object_type, object_id; page, page_size (≤ 500); ``format=csv`` for all
    matching entries."""
    args = request.args.to_dict()
    query, period = parse_query(args)
    fmt = args.get("format", "json")
    if fmt not in ("json", "csv"):
        raise InvalidInput.of([FieldError.of("format", "one_of", choices="json, csv")])
    session = db()
    if fmt == "csv":
        rows = [entry.as_dict() | {"at": entry.at} for entry in service.all_entries(session, query)]
        shown = period or Period(min((r["at"] for r in rows), default=clock.now()), clock.now())
        return download("csv", "audit", AUDIT_COLUMNS, rows, shown)
    page, size = page_args(args)
    entries, total = service.list_entries(session, query, page=page, page_size=size)
    return jsonify({"total": total, "page": page, "page_size": size,
                    "entries": [entry.as_dict() for entry in entries]})
