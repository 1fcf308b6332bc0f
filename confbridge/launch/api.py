"""REST: /api/v1/conferences — the launch engine's runs, participants, timeline and operator actions.

Reading: technicians and admins see every conference; secretaries see those of their own meetings.
Acting (host in focus, mute/unmute one or all, layout, disconnect/redial, extend/end): technicians and
admins only.
"""

from __future__ import annotations

from typing import Any, cast

from flask import jsonify, request
from flask.typing import ResponseReturnValue
from flask_smorest import Blueprint

from confbridge.api.common import db, get_settings
from confbridge.auth.models import Role
from confbridge.auth.web import current_user, roles_required
from confbridge.errors import FieldError, InvalidInput
from confbridge.i18n import negotiate
from confbridge.launch import control, service
from confbridge.launch.schemas import (
    ConferenceQuerySchema,
    ExtendSchema,
    HostPatchSchema,
    LayoutSchema,
    MuteAllSchema,
    MuteSchema,
)
from confbridge.launch.serialise import run_dict

blp = Blueprint("api_conferences", __name__, url_prefix="/api/v1/conferences",
                description="Conferences launched on the bridges (runs, participants, timeline)")
READERS = (Role.ADMIN, Role.TECHNICIAN, Role.SECRETARY)
OPERATORS = (Role.ADMIN, Role.TECHNICIAN)


@blp.route("", methods=["GET"])
@roles_required(*READERS)
@blp.arguments(ConferenceQuerySchema, location="query")
def list_conferences(query: dict[str, Any]) -> ResponseReturnValue:
    """Conferences by state and planned window ([from, to) overlaps [planned start, planned end))."""
    session = db()
    runs = service.list_runs(session, current_user(), state=query["state"], start=query["from_"],
                             end=query["to"])
    return jsonify([run_dict(session, r) for r in runs])


@blp.route("/<int:run_id>", methods=["GET"])
@roles_required(*READERS)
def get_conference(run_id: int) -> ResponseReturnValue:
    """One conference with its participants (endpoint_id, state, attempts, reason, audio/video muted)."""
    session = db()
    return jsonify(run_dict(session, service.get_run(session, current_user(), run_id)))


@blp.route("/<int:run_id>", methods=["PATCH"])
@roles_required(*OPERATORS)
@blp.arguments(HostPatchSchema)
def patch_conference(data: dict[str, Any], run_id: int) -> ResponseReturnValue:
    """Move the focus live: ``{"host_endpoint_id": N}`` is marked important on the bridge."""
    session = db()
    run = control.set_host(session, get_settings(), current_user(), run_id, data["host_endpoint_id"])
    return jsonify(run_dict(session, run))


@blp.route("/<int:run_id>/mute-all", methods=["POST"])
@roles_required(*OPERATORS)
@blp.arguments(MuteAllSchema)
def mute_all(data: dict[str, Any], run_id: int) -> ResponseReturnValue:
    """Mute every participant's microphone on the bridge (``{"except_host": true}``: the host stays on)."""
    session = db()
    run = control.mute_all(session, get_settings(), current_user(), run_id, mute=True,
                           except_host=data["except_host"])
    return jsonify(run_dict(session, run))


@blp.route("/<int:run_id>/unmute-all", methods=["POST"])
@roles_required(*OPERATORS)
def unmute_all(run_id: int) -> ResponseReturnValue:
    """Turn every participant's microphone back on."""
    session = db()
    run = control.mute_all(session, get_settings(), current_user(), run_id, mute=False)
    return jsonify(run_dict(session, run))


@blp.route("/<int:run_id>/layout", methods=["POST"])
@roles_required(*OPERATORS)
@blp.arguments(LayoutSchema)
def set_layout(data: dict[str, Any], run_id: int) -> ResponseReturnValue:
    """``{"layout": "voice-switched" | "host-large" | "grid"}``; 422 names a layout the bridge lacks."""
    session = db()
    run = control.apply_layout(session, get_settings(), current_user(), run_id, data["layout"])
    return jsonify(run_dict(session, run))


@blp.route("/<int:run_id>/timeline", methods=["GET"])
@roles_required(*READERS)
def get_timeline(run_id: int) -> ResponseReturnValue:
    """The flight recorder: every state change, bridge call (with outcome) and operator action.

    ``message`` is in the caller's language (``Accept-Language``); ``code`` and ``params`` carry it too."""
    entries = service.get_timeline(db(), current_user(), run_id)
    locale = negotiate(request.headers.get("Accept-Language"))
    return jsonify([e.as_dict(locale) for e in entries])


@blp.route("/<int:run_id>/participants/<int:endpoint_id>/<string:action>", methods=["POST"])
@roles_required(*OPERATORS)
def participant_action(run_id: int, endpoint_id: int, action: str) -> ResponseReturnValue:
    """mute | unmute (body ``{"audio": true, "video": false}``, optional) | disconnect | redial."""
    mute = None
    if action in ("mute", "unmute") and request.get_data():
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            raise InvalidInput.of([FieldError.of("body", "not_object")])
        errors = MuteSchema().validate(body)
        if errors:
            raise InvalidInput.of([FieldError.of(k, "not_boolean" if k in MuteSchema().fields else "unknown_field")
                                   for k in sorted(errors)])
        data = MuteSchema().load(body)
        mute = service.MuteChange(audio=data["audio"], video=data["video"])
    session = db()
    leg = service.participant_action(session, get_settings(), current_user(), run_id, endpoint_id,
                                     cast(service.Action, action), mute=mute)  # the service checks it
    return jsonify(leg.as_dict())


@blp.route("/<int:run_id>/extend", methods=["POST"])
@roles_required(*OPERATORS)
@blp.arguments(ExtendSchema)
def extend_conference(data: dict[str, Any], run_id: int) -> ResponseReturnValue:
    """Extend a live conference by N minutes; 409 names the endpoint or bridge needed elsewhere."""
    session = db()
    run = service.extend(session, get_settings(), current_user(), run_id, data["minutes"])
    return jsonify(run_dict(session, run))


@blp.route("/<int:run_id>/end", methods=["POST"])
@roles_required(*OPERATORS)
def end_conference(run_id: int) -> ResponseReturnValue:
    """End now: the scheduler hangs everyone up and destroys the conference within a second."""
    session = db()
    run = service.end_now(session, current_user(), run_id)
    return jsonify(run_dict(session, run)), 202
