"""Page: /admin/audit — the audit log for admins, with the REST API's filters, paging and CSV.

(The audit log's reading edge lives with the reports: ``confbridge.audit`` stays at the bottom of the
import graph, imported by every package that records.)"""

from __future__ import annotations

from flask import Blueprint, Flask, render_template, request
from flask.typing import ResponseReturnValue

from confbridge.api.common import db
from confbridge.audit import service
from confbridge.errors import InvalidInput
from confbridge.reports.audit_api import page_args, parse_query
from confbridge.ui.roles import page_roles

bp = Blueprint("audit", __name__, url_prefix="/admin/audit")
FILTERS = ("from", "to", "actor", "action", "object_type", "object_id")
PAGE_SIZE = 50


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)


@bp.get("")
@page_roles("admin")
def page() -> ResponseReturnValue:
    args = {k: v for k, v in request.args.to_dict().items() if k in (*FILTERS, "page")}
    values = {k: args.get(k, "") for k in FILTERS}
    try:
        query, _period = parse_query(args)
        page_no, _size = page_args({"page": args.get("page", "1")})
    except InvalidInput as exc:
        return render_template("admin/audit.html", entries=[], total=0, errors=exc.fields, values=values,
                               page=1, pages=1, actions=service.actions(db()), filters={},
                               active_nav="admin", section="audit"), 422
    entries, total = service.list_entries(db(), query, page=page_no, page_size=PAGE_SIZE)
    filters = {k: v for k, v in values.items() if v}
    return render_template("admin/audit.html", entries=entries, total=total, errors={}, values=values,
                           page=page_no, pages=max(1, -(-total // PAGE_SIZE)), actions=service.actions(db()),
                           filters=filters, active_nav="admin", section="audit")
