"""Request and response shapes of the booking API (marshmallow; also feed the OpenAPI document)."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from confbridge.api.validators import DB_INT_MAX, ROW_ID


class AttendeeSchema(Schema):
    email = fields.String(required=True, validate=validate.Length(max=254))
    name = fields.String(load_default="", validate=validate.Length(max=200))


class ExternalParticipantSchema(Schema):
    name = fields.String(required=True)
    address = fields.String(required=True)
    protocol = fields.String(load_default="sip", validate=validate.OneOf(["sip", "h323"]))
    uplink = fields.Boolean(load_default=False)


class MeetingCreateSchema(Schema):
    title = fields.String(required=True)
    description = fields.String(load_default="")
    start = fields.AwareDateTime(required=True, metadata={"description": "RFC 3339 with offset"})
    end = fields.AwareDateTime(required=True)
    timezone = fields.String(load_default=None, allow_none=True, metadata={"description": "IANA zone"})
    endpoint_ids = fields.List(fields.Integer(strict=True, validate=ROW_ID), required=True)
    host_endpoint_id = fields.Integer(load_default=None, allow_none=True, strict=True, validate=ROW_ID)
    attendees = fields.List(fields.Nested(AttendeeSchema), load_default=list)
    external_participants = fields.List(fields.Nested(ExternalParticipantSchema), load_default=list)
    rrule = fields.String(load_default=None, allow_none=True, metadata={"description": "RFC 5545 RRULE"})
    exdates = fields.List(fields.AwareDateTime(), load_default=list)
    setup_minutes = fields.Integer(load_default=None, allow_none=True, strict=True)
    pin = fields.String(load_default=None, allow_none=True)
    bridge_name = fields.String(load_default=None, allow_none=True)
    join_muted = fields.Boolean(load_default=False, metadata={
        "description": "everyone but the host joins with the microphone muted on the bridge"})
    on_holidays = fields.String(load_default="skip", validate=validate.OneOf(["skip", "keep"]), metadata={
        "description": "a series' occurrences on a public holiday: skip (EXDATE, default) or keep"})
    organizer = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=64), metadata={
        "description": "username of the organiser when booking on someone's behalf (default: the caller)"})
    co_organizers = fields.List(fields.String(validate=validate.Length(max=64)), load_default=list, metadata={
        "description": "usernames who manage the meeting with the organiser"})


class MeetingCheckSchema(MeetingCreateSchema):
    exclude_meeting_id = fields.Integer(load_default=None, allow_none=True, validate=ROW_ID,
                                        metadata={"description": "ignore this meeting's own slots (editing)"})


class MeetingPatchSchema(Schema):
    title = fields.String()
    description = fields.String()
    start = fields.AwareDateTime()
    end = fields.AwareDateTime()
    timezone = fields.String()
    endpoint_ids = fields.List(fields.Integer(strict=True, validate=ROW_ID))
    host_endpoint_id = fields.Integer(allow_none=True, strict=True, validate=ROW_ID)
    attendees = fields.List(fields.Nested(AttendeeSchema))
    external_participants = fields.List(fields.Nested(ExternalParticipantSchema))
    rrule = fields.String(allow_none=True)
    exdates = fields.List(fields.AwareDateTime())
    setup_minutes = fields.Integer(strict=True)
    pin = fields.String(allow_none=True)
    bridge_name = fields.String(allow_none=True)
    join_muted = fields.Boolean()
    on_holidays = fields.String(validate=validate.OneOf(["skip", "keep"]))
    organizer = fields.String(validate=validate.Length(max=64))
    co_organizers = fields.List(fields.String(validate=validate.Length(max=64)))


class OccurrencePatchSchema(Schema):
    start = fields.AwareDateTime()
    end = fields.AwareDateTime()
    scope = fields.String(load_default="this", validate=validate.OneOf(["this", "following"]))

    @validates_schema
    def _something(self, data: dict[str, Any], **_: Any) -> None:
        if "start" not in data and "end" not in data:
            raise ValidationError("give start and/or end", "start")


class ScopeQuerySchema(Schema):
    scope = fields.String(load_default="this", validate=validate.OneOf(["this", "following"]))


class _TimeRangeSchema(Schema):
    """``from``/``to`` query parameters: aware instants, in order, at most ``max_days`` apart."""

    max_days = 400
    from_ = fields.AwareDateTime(required=True, data_key="from")
    to = fields.AwareDateTime(required=True)

    @validates_schema
    def _range(self, data: dict[str, Any], **_: Any) -> None:
        if "from_" in data and "to" in data:
            if data["to"] <= data["from_"]:
                raise ValidationError("must be after from", "to")
            if (data["to"] - data["from_"]).days > self.max_days:
                raise ValidationError(f"at most {self.max_days} days", "to")


class RangeQuerySchema(_TimeRangeSchema):
    endpoint_id = fields.Integer(load_default=None, validate=ROW_ID)
    site_id = fields.Integer(load_default=None, validate=ROW_ID)
    include_cancelled = fields.Boolean(load_default=True)


class AvailabilityQuerySchema(_TimeRangeSchema):
    max_days = 62
    endpoint_ids = fields.String(required=True, metadata={"description": "comma-separated ids"})

    @validates_schema
    def _ids(self, data: dict[str, Any], **_: Any) -> None:
        raw = data.get("endpoint_ids", "")
        try:
            ids = [int(x) for x in raw.split(",") if x.strip()]
        except ValueError:
            raise ValidationError("comma-separated endpoint ids", "endpoint_ids") from None
        if any(not 1 <= i <= DB_INT_MAX for i in ids):
            raise ValidationError("endpoint ids are positive integers", "endpoint_ids")
        if not ids or len(ids) > 500:
            raise ValidationError("between 1 and 500 endpoint ids", "endpoint_ids")
        data["ids"] = ids


class OccurrenceSchema(Schema):
    meeting_id = fields.Integer()
    occurrence_start = fields.String(metadata={"description": "RECURRENCE-ID (UTC)"})
    start = fields.String()
    end = fields.String()
    window_start = fields.String()
    setup_minutes = fields.Integer()
    status = fields.String()
    title = fields.String()
    endpoint_ids = fields.List(fields.Integer())
    overridden = fields.Boolean()
    organiser = fields.String()


class DialInSchema(Schema):
    number = fields.String(metadata={"description": "the MCU numericId to dial"})
    uri = fields.String(allow_none=True, metadata={"description": "sip:<number>@<booking.dial_in_domain>"})


class SkippedHolidaySchema(Schema):
    date = fields.String(metadata={"description": "YYYY-MM-DD in the meeting's zone"})
    name = fields.String(metadata={"description": "the holiday, in the reader's language when known"})


class BookingWarningSchema(Schema):
    code = fields.String(metadata={"description": "public_holiday"})
    date = fields.String()
    name = fields.String()
    message = fields.String(metadata={"description": "in the reader's language (Accept-Language)"})


class MeetingSchema(Schema):
    id = fields.Integer()
    uid = fields.String()
    sequence = fields.Integer()
    status = fields.String()
    title = fields.String()
    description = fields.String()
    start = fields.String()
    end = fields.String()
    timezone = fields.String()
    endpoint_ids = fields.List(fields.Integer())
    host_endpoint_id = fields.Integer(allow_none=True)
    attendees = fields.List(fields.Nested(AttendeeSchema))
    external_participants = fields.List(fields.Nested(ExternalParticipantSchema))
    rrule = fields.String(allow_none=True)
    exdates = fields.List(fields.String())
    setup_minutes = fields.Integer()
    pin = fields.String(allow_none=True)
    bridge_name = fields.String(allow_none=True)
    join_muted = fields.Boolean()
    organiser = fields.String()
    parent_id = fields.Integer(allow_none=True)
    dial_in = fields.Nested(DialInSchema, allow_none=True)
    external_participants = fields.List(fields.Nested(ExternalParticipantSchema))
    occurrences = fields.List(fields.Nested(OccurrenceSchema))
    on_holidays = fields.String()
    skipped_holidays = fields.List(fields.Nested(SkippedHolidaySchema))
    warnings = fields.List(fields.Nested(BookingWarningSchema))
    organizer = fields.String(metadata={"description": "the organiser's username"})
    booked_by = fields.String(allow_none=True, metadata={"description": "who made the booking"})
    co_organizers = fields.List(fields.String())
    approval = fields.Nested(lambda: ApprovalSchema(), allow_none=True)


class ApprovalSchema(Schema):
    state = fields.String(metadata={"enum": ["pending", "approved", "rejected"]})
    by = fields.String(allow_none=True)
    at = fields.String(allow_none=True)
    reason = fields.String(allow_none=True)


class MeetingListQuerySchema(Schema):
    """``GET /meetings``: a period (``from``/``to``) or ``status=pending`` (what waits for approval)."""

    from_ = fields.AwareDateTime(load_default=None, data_key="from")
    to = fields.AwareDateTime(load_default=None)
    endpoint_id = fields.Integer(load_default=None, validate=ROW_ID)
    status = fields.String(load_default=None, validate=validate.OneOf(["pending"]))

    @validates_schema
    def _range(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("status") is None:
            for key, name in (("from_", "from"), ("to", "to")):
                if data.get(key) is None:
                    raise ValidationError("Missing data for required field.", name)
        if data.get("from_") is not None and data.get("to") is not None:
            if data["to"] <= data["from_"]:
                raise ValidationError("must be after from", "to")
            if (data["to"] - data["from_"]).days > _TimeRangeSchema.max_days:
                raise ValidationError(f"at most {_TimeRangeSchema.max_days} days", "to")


class RejectSchema(Schema):
    reason = fields.String(required=True, metadata={"description": "why (sent to the organiser)"})
