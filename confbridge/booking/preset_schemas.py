"""Request and response shapes for endpoint groups, meeting templates, and the booking request that
may name them (``group_ids``, ``template_id``).  Kept apart from ``booking.schemas`` so that the
booking request grows by subclassing, not by editing its fields."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from confbridge.api.validators import ROW_ID
from confbridge.booking.schemas import AttendeeSchema, MeetingCheckSchema, MeetingCreateSchema

_IDS = {"description": "row ids"}


class _FromPresets(Schema):
    """What a template may give is optional here; the booking service says what is still missing."""

    title = fields.String()
    end = fields.AwareDateTime(metadata={"description": "RFC 3339 with offset; default: start + the "
                                                        "template's duration_minutes"})
    endpoint_ids = fields.List(fields.Integer(strict=True, validate=ROW_ID))
    description = fields.String()
    host_endpoint_id = fields.Integer(allow_none=True, strict=True, validate=ROW_ID)
    attendees = fields.List(fields.Nested(AttendeeSchema))
    rrule = fields.String(allow_none=True, metadata={"description": "RFC 5545 RRULE"})
    setup_minutes = fields.Integer(allow_none=True, strict=True)
    group_ids = fields.List(fields.Integer(strict=True, validate=ROW_ID), metadata={
        "description": "endpoint groups whose endpoints are booked besides endpoint_ids (the union)"})
    template_id = fields.Integer(strict=True, validate=ROW_ID, metadata={
        "description": "a meeting template: its values fill every field the request leaves out"})


class BookingRequestSchema(_FromPresets, MeetingCreateSchema):
    """POST /meetings: a meeting, optionally from groups and a template."""


class BookingCheckRequestSchema(_FromPresets, MeetingCheckSchema):
    """POST /meetings/check: the same body as POST /meetings (and ``exclude_meeting_id``)."""


class _TemplateFields(Schema):
    title = fields.String(validate=validate.Length(max=200))
    duration_minutes = fields.Integer(allow_none=True, strict=True)
    setup_minutes = fields.Integer(allow_none=True, strict=True)
    endpoint_ids = fields.List(fields.Integer(strict=True, validate=ROW_ID))
    group_ids = fields.List(fields.Integer(strict=True, validate=ROW_ID))
    host_endpoint_id = fields.Integer(allow_none=True, strict=True, validate=ROW_ID)
    attendees = fields.List(fields.Nested(AttendeeSchema))
    rrule = fields.String(allow_none=True, metadata={"description": "RFC 5545 RRULE (COUNT, or UNTIL)"})
    description = fields.String()


class TemplateSchema(_TemplateFields):
    id = fields.Integer(dump_only=True)
    name = fields.String(required=True, validate=validate.Length(max=200))


class TemplatePatchSchema(_TemplateFields):
    name = fields.String(validate=validate.Length(max=200))
