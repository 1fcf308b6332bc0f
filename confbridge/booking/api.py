"""REST: /api/v1/meetings, /api/v1/occurrences, /api/v1/availability."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import jsonify, request
from flask.typing import ResponseReturnValue
from flask_smorest import Blueprint
from sqlalchemy.exc import IntegrityError

from confbridge.api.common import db, get_settings
from confbridge.auth import access
from confbridge.auth.access import may_see_confidential
from confbridge.auth.web import current_user, roles_required
from confbridge.booking import decisions, holiday_policy, presets, service
from confbridge.booking.conflicts import busy_intervals
from confbridge.booking.preset_schemas import BookingCheckRequestSchema, BookingRequestSchema
from confbridge.booking.schemas import (
    AvailabilityQuerySchema,
    MeetingListQuerySchema,
    MeetingPatchSchema,
    MeetingSchema,
    OccurrencePatchSchema,
    OccurrenceSchema,
    RangeQuerySchema,
    RejectSchema,
    ScopeQuerySchema,
)
from confbridge.booking.serialise import meeting_dict, occurrence_dict
from confbridge.booking.validation import MeetingInput
from confbridge.errors import Conflict, FieldError, InvalidInput
from confbridge.i18n import N_, negotiate

blp = Blueprint("api_meetings", __name__, url_prefix="/api/v1", description="Meetings and occurrences")
ANY_ROLE = access.ANY_ROLE


def _input(data: dict[str, Any]) -> MeetingInput:
    data = {k: v for k, v in data.items() if k not in ("organizer", "co_organizers")}
    data["attendees"] = [(a["email"], a.get("name", "")) for a in data.get("attendees", [])]
    return MeetingInput(**data)


def _changes(data: dict[str, Any]) -> dict[str, Any]:
    if "attendees" in data:
        data = {**data, "attendees": [(a["email"], a.get("name", "")) for a in data["attendees"]]}
    return data


def _flush_booking() -> None:
    """Flush now (the request boundary commits): the PostgreSQL exclusion constraint, checked on
    insert, is the last guard against a racing double booking and must answer 409, not 500."""
    try:
        db().flush()
    except IntegrityError as exc:
        db().rollback()
        if "ex_endpoint_slots_no_overlap" in str(exc.orig):
            raise Conflict.said(N_("Một điểm cầu vừa được người khác đặt cùng lúc; hãy thử lại."),
                extra={"conflicts": []}) from None
        raise


def _with_holidays(meeting: Any, out: dict[str, Any]) -> dict[str, Any]:
    """``skipped_holidays`` and ``warnings`` (public holidays) in the caller's language."""
    locale = negotiate(request.headers.get("Accept-Language"))
    return {**out, **holiday_policy.holiday_notes(get_settings(), meeting, locale)}


def _parse_occurrence(value: str) -> datetime:
    try:
        instant = datetime.fromisoformat(value.replace(" ", "+"))
    except ValueError:
        raise InvalidInput.of([FieldError.of("occurrence_start", "not_datetime")]) from None
    if instant.tzinfo is None:
        raise InvalidInput.of([FieldError.of("occurrence_start", "needs_offset")])
    return instant


@blp.route("/meetings", methods=["POST"])
@roles_required(*access.BOOKERS)
@blp.arguments(BookingRequestSchema)
@blp.response(201, MeetingSchema)
def create_meeting(data: dict[str, Any]) -> Any:
    """Book a meeting (one-off or series). 409 names every conflict."""
    data = presets.fill_request(db(), current_user(), data)  # group_ids, template_id
    meeting = service.create_meeting(db(), get_settings(), current_user(), _input(data),
                                     organizer=data.get("organizer"), co_organizers=data.get("co_organizers"))
    _flush_booking()
    return _with_holidays(meeting, meeting_dict(meeting, confidential=may_see_confidential(current_user(), meeting)))


@blp.route("/meetings/check", methods=["POST"])
@roles_required(*access.BOOKERS)
@blp.arguments(BookingCheckRequestSchema)
def check_meeting(data: dict[str, Any]) -> ResponseReturnValue:
    """Dry run: conflicts and capacity problems of a prospective booking, and the next free start."""
    data = presets.fill_request(db(), current_user(), data)  # group_ids, template_id
    exclude = data.pop("exclude_meeting_id", None)
    conflicts, capacity, suggestion = service.check_booking(db(), get_settings(), _input(data),
                                                            exclude_meeting_id=exclude)
    locale = negotiate(request.headers.get("Accept-Language"))
    return jsonify({
        "ok": not conflicts and not capacity,
        "conflicts": [c.as_dict(locale) for c in conflicts],
        "capacity": [p.as_dict(get_settings().zone, locale) for p in capacity],
        "next_free_start": suggestion.isoformat() if suggestion else None,
    })


@blp.route("/meetings", methods=["GET"])
@roles_required(*ANY_ROLE)
@blp.arguments(MeetingListQuerySchema, location="query")
def list_meetings(query: dict[str, Any]) -> ResponseReturnValue:
    """Meetings with an occurrence in [from, to); `status=pending`: the meetings waiting for approval
    (the period optional)."""
    seen: dict[int, Any] = {}
    if query["status"] == "pending":
        for m in decisions.list_pending(db()):
            if query["endpoint_id"] is None or query["endpoint_id"] in m.endpoint_ids:
                if query["from_"] is None or any(
                        o.start < query["to"] and o.end > query["from_"] for o in m.occurrences):
                    seen[m.id] = m
    else:
        occurrences = service.list_occurrences(db(), query["from_"], query["to"], endpoint_id=query["endpoint_id"],
                                               meeting_details=True)
        for occ in occurrences:
            seen.setdefault(occ.meeting_id, occ.meeting)
    viewer = current_user()
    return jsonify([meeting_dict(m, confidential=may_see_confidential(viewer, m)) for m in seen.values()])


@blp.route("/meetings/<int:meeting_id>", methods=["GET"])
@roles_required(*ANY_ROLE)
@blp.response(200, MeetingSchema)
def get_meeting(meeting_id: int) -> Any:
    meeting = service.get_meeting(db(), meeting_id)
    return meeting_dict(meeting, with_occurrences=True, confidential=may_see_confidential(current_user(), meeting))


@blp.route("/meetings/<int:meeting_id>", methods=["PATCH"])
@roles_required(*access.BOOKERS)
@blp.arguments(MeetingPatchSchema)
@blp.response(200, MeetingSchema)
def patch_meeting(data: dict[str, Any], meeting_id: int) -> Any:
    """Change the whole series."""
    session = db()
    meeting = service.update_meeting(session, get_settings(), current_user(),
                                     service.get_meeting(session, meeting_id), _changes(data))
    _flush_booking()
    return _with_holidays(meeting, meeting_dict(meeting, confidential=may_see_confidential(current_user(), meeting)))


@blp.route("/meetings/<int:meeting_id>", methods=["DELETE"])
@roles_required(*access.BOOKERS)
@blp.response(200, MeetingSchema)
def delete_meeting(meeting_id: int) -> Any:
    """Cancel the meeting (the record is kept, status `cancelled`)."""
    session = db()
    meeting = service.cancel_meeting(session, get_settings(), current_user(), service.get_meeting(session, meeting_id))
    return meeting_dict(meeting, confidential=may_see_confidential(current_user(), meeting))


@blp.route("/meetings/<int:meeting_id>/occurrences/<occurrence_start>", methods=["PATCH"])
@roles_required(*access.BOOKERS)
@blp.arguments(OccurrencePatchSchema)
@blp.response(200, MeetingSchema)
def patch_occurrence(data: dict[str, Any], meeting_id: int, occurrence_start: str) -> Any:
    """Move one occurrence (`scope=this`) or this and every following one (`scope=following`)."""
    session = db()
    meeting = service.update_occurrence(
        session, get_settings(), current_user(), service.get_meeting(session, meeting_id),
        _parse_occurrence(occurrence_start),
        service.OccurrenceChange(start=data.get("start"), end=data.get("end")), data["scope"],
    )
    _flush_booking()
    return meeting_dict(meeting, confidential=may_see_confidential(current_user(), meeting))


@blp.route("/meetings/<int:meeting_id>/occurrences/<occurrence_start>", methods=["DELETE"])
@roles_required(*access.BOOKERS)
@blp.arguments(ScopeQuerySchema, location="query")
@blp.response(200, MeetingSchema)
def delete_occurrence(query: dict[str, Any], meeting_id: int, occurrence_start: str) -> Any:
    """Cancel one occurrence (`scope=this`) or this and every following one (`scope=following`)."""
    session = db()
    meeting = service.cancel_occurrence(
        session, get_settings(), current_user(), service.get_meeting(session, meeting_id),
        _parse_occurrence(occurrence_start), query["scope"],
    )
    return meeting_dict(meeting, confidential=may_see_confidential(current_user(), meeting))


@blp.route("/meetings/<int:meeting_id>/approve", methods=["POST"])
@roles_required(*access.APPROVERS)
@blp.response(200, MeetingSchema)
def approve_meeting(meeting_id: int) -> Any:
    """Approve a pending meeting (administrators, approvers): the held invitations go out."""
    session = db()
    meeting = decisions.approve(session, get_settings(), current_user(), service.get_meeting(session, meeting_id))
    return meeting_dict(meeting, confidential=may_see_confidential(current_user(), meeting))


@blp.route("/meetings/<int:meeting_id>/reject", methods=["POST"])
@roles_required(*access.APPROVERS)
@blp.arguments(RejectSchema)
@blp.response(200, MeetingSchema)
def reject_meeting(data: dict[str, Any], meeting_id: int) -> Any:
    """Reject a pending meeting with a reason (e-mailed to the organiser); its endpoints are freed."""
    session = db()
    meeting = decisions.reject(session, get_settings(), current_user(), service.get_meeting(session, meeting_id),
                               data["reason"])
    return meeting_dict(meeting, confidential=may_see_confidential(current_user(), meeting))


@blp.route("/occurrences", methods=["GET"])
@roles_required(*ANY_ROLE)
@blp.arguments(RangeQuerySchema, location="query")
@blp.response(200, OccurrenceSchema(many=True))
def list_occurrences(query: dict[str, Any]) -> Any:
    """Expanded occurrences overlapping [from, to), optionally on one endpoint or site."""
    occurrences = service.list_occurrences(
        db(), query["from_"], query["to"], endpoint_id=query["endpoint_id"], site_id=query["site_id"],
        include_cancelled=query["include_cancelled"],
    )
    return [occurrence_dict(o) for o in occurrences]


@blp.route("/availability", methods=["GET"])
@roles_required(*ANY_ROLE)
@blp.arguments(AvailabilityQuerySchema, location="query")
def availability(query: dict[str, Any]) -> ResponseReturnValue:
    """Busy intervals (setup window included) per endpoint in [from, to)."""
    busy = busy_intervals(db(), get_settings(), query["ids"], query["from_"], query["to"])
    return jsonify({
        "from": query["from_"].isoformat(), "to": query["to"].isoformat(),
        "endpoints": [
            {"endpoint_id": eid, "busy": [
                {"window_start": b.window_start.isoformat(), "start": b.start.isoformat(),
                 "end": b.end.isoformat(), "meeting_id": b.meeting_id, "title": b.meeting_title,
                 "occurrence_start": b.occurrence_start.isoformat()}
                for b in items
            ]}
            for eid, items in busy.items()
        ],
    })
