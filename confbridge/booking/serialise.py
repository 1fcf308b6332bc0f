"""Domain objects → JSON-ready dicts for the API (and pages' JavaScript).

The convention of every package: JSON shapes are ``x_dict(...)`` functions in the package's
``serialise.py``; views call them, services return domain objects.
"""

from __future__ import annotations

from typing import Any

from confbridge.booking.approval import status_of
from confbridge.booking.models import Meeting, Occurrence


def occurrence_dict(occ: Occurrence, *, with_meeting: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {
        "meeting_id": occ.meeting_id,
        "occurrence_start": occ.original_start.isoformat(),
        "start": occ.start.isoformat(),
        "end": occ.end.isoformat(),
        "window_start": occ.window_start.isoformat(),
        "setup_minutes": occ.setup_minutes,
        "status": occ.status,
        "overridden": occ.overridden,
    }
    if with_meeting:
        out["title"] = occ.meeting.title
        out["endpoint_ids"] = occ.meeting.endpoint_ids
        out["organiser"] = occ.meeting.organiser.username
        if occ.meeting.status == "cancelled":
            out["status"] = "cancelled"
        elif status_of(occ.meeting) == "pending":
            out["status"] = "pending"
    return out


def meeting_dict(meeting: Meeting, *, with_occurrences: bool = False, confidential: bool = False) -> dict[str, Any]:
    """The meeting; ``pin``, ``attendees`` and ``dial_in`` only with *confidential* (see ``auth.access``)."""
    out: dict[str, Any] = {
        "id": meeting.id, "uid": meeting.uid, "sequence": meeting.sequence, "status": meeting.status,
        "title": meeting.title, "description": meeting.description,
        "start": meeting.start.isoformat(), "end": meeting.end.isoformat(), "timezone": meeting.timezone,
        "endpoint_ids": meeting.endpoint_ids, "host_endpoint_id": meeting.host_endpoint_id,
        "attendees": [{"email": a.email, "name": a.name} for a in meeting.attendees],
        "rrule": meeting.rrule, "exdates": list(meeting.exdates), "setup_minutes": meeting.setup_minutes,
        "pin": meeting.pin, "bridge_name": meeting.bridge_name,
        "join_muted": meeting.join_muted, "organiser": meeting.organiser.username,
        "parent_id": meeting.parent_id, "dial_in": meeting.dial_in,
        "external_participants": [dict(x) for x in meeting.external_participants or []],
        "on_holidays": meeting.on_holidays,
    }
    out.update(organisers_dict(meeting))
    if not confidential:
        del out["pin"], out["attendees"], out["dial_in"]
    if with_occurrences:
        out["occurrences"] = [occurrence_dict(o, with_meeting=False) for o in meeting.occurrences]
    return out


def organisers_dict(meeting: Meeting) -> dict[str, Any]:
    """Who the meeting belongs to and its approval (``status`` reads ``pending`` / ``rejected``)."""
    approval = None
    if meeting.approval:
        approval = {
            "state": meeting.approval,
            "by": meeting.approval_by.username if meeting.approval_by is not None else None,
            "at": meeting.approval_at.isoformat() if meeting.approval_at else None,
            "reason": meeting.approval_reason,
        }
    return {
        "status": status_of(meeting),
        "organizer": meeting.organiser.username,
        "booked_by": (meeting.booked_by or meeting.organiser).username,
        "co_organizers": [u.username for u in meeting.co_organisers],
        "approval": approval,
    }
