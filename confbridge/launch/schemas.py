"""Request validation for the conference REST API (field-level 422s, never a 500)."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from confbridge.api.validators import ROW_ID
from confbridge.launch.models import RunState
from confbridge.limits import MAX_EXTEND_MINUTES


class ConferenceQuerySchema(Schema):
    state = fields.String(load_default=None, validate=validate.OneOf([str(s) for s in RunState]))
    from_ = fields.AwareDateTime(load_default=None, data_key="from")
    to = fields.AwareDateTime(load_default=None)

    @validates_schema
    def _order(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("from_") and data.get("to") and data["to"] <= data["from_"]:
            raise ValidationError("must be after from", "to")


class ExtendSchema(Schema):
    minutes = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=MAX_EXTEND_MINUTES))


class MuteSchema(Schema):
    audio = fields.Boolean(load_default=True)
    video = fields.Boolean(load_default=False)


class HostPatchSchema(Schema):
    host_endpoint_id = fields.Integer(required=True, allow_none=True, strict=True, validate=ROW_ID,
                                      metadata={"description": "the endpoint in focus (null: none)"})


class MuteAllSchema(Schema):
    except_host = fields.Boolean(load_default=True, metadata={"description": "leave the host's microphone on"})


class LayoutSchema(Schema):
    layout = fields.String(required=True, validate=validate.Length(max=40),
                           metadata={"description": "voice-switched | host-large | grid"})
