"""REST: pre-flight test calls of an occurrence, and the readiness board of upcoming conferences.

``POST /api/v1/meetings/{id}/occurrences/{start}/preflight`` (technicians, admins) asks the scheduler for a
test call now (202 with the pending pre-flight; an open one is returned as is, 200).
``GET`` the same path returns the latest results (404 when none ran yet).
``GET /api/v1/preflight/board`` lists upcoming occurrences with their readiness ("18/20 ready").
"""

from __future__ import annotations

from typing import Any

from flask import jsonify, request
from flask.typing import ResponseReturnValue
from flask_smorest import Blueprint

from confbridge.api.common import db, get_settings
from confbridge.auth import access
from confbridge.auth.web import current_user, roles_required
from confbridge.booking.api import _parse_occurrence  # the one parser of {start} in occurrence routes
from confbridge.errors import FieldError, InvalidInput, NotFound
from confbridge.i18n import N_
from confbridge.launch import preflight_service as service

blp = Blueprint("api_preflight", __name__, url_prefix="/api/v1",
                description="Pre-flight test calls before a conference (readiness of each endpoint)")


@blp.route("/meetings/<int:meeting_id>/occurrences/<occurrence_start>/preflight", methods=["POST"])
@roles_required(*access.OPERATORS)
def request_preflight(meeting_id: int, occurrence_start: str) -> ResponseReturnValue:
    """Run a pre-flight test call now: every booked endpoint not in another conference is dialled."""
    session = db()
    pf, created = service.request_preflight(session, get_settings(), current_user(), meeting_id,
                                            _parse_occurrence(occurrence_start))
    return jsonify(pf.as_dict()), 202 if created else 200


@blp.route("/meetings/<int:meeting_id>/occurrences/<occurrence_start>/preflight", methods=["GET"])
@roles_required(*access.ANY_ROLE)
def get_preflight(meeting_id: int, occurrence_start: str) -> ResponseReturnValue:
    """The latest pre-flight: per endpoint ``ready`` | ``failed`` | ``skipped`` with reason and time."""
    pf = service.latest(db(), current_user(), meeting_id, _parse_occurrence(occurrence_start))
    if pf is None:
        raise NotFound.said(N_("Chưa có lần gọi thử nào cho buổi họp này."))
    return jsonify(pf.as_dict())


@blp.route("/preflight/board", methods=["GET"])
@roles_required(*access.ANY_ROLE)
def readiness_board() -> ResponseReturnValue:
    """Upcoming occurrences (``hours`` ahead, default 24) with their latest pre-flight's readiness."""
    raw = request.args.get("hours", "24")
    if not raw.isdigit() or not 1 <= int(raw) <= 168:
        raise InvalidInput.of([FieldError.of("hours", "out_of_range", low=1, high=168)])
    rows: list[dict[str, Any]] = []
    for occ, pf in service.board(db(), current_user(), hours=int(raw)):
        rows.append({"meeting_id": occ.meeting_id, "title": occ.meeting.title,
                     "occurrence_start": occ.original_start.isoformat(), "start": occ.start.isoformat(),
                     "preflight": pf.as_dict() if pf is not None else None})
    return jsonify(rows)
