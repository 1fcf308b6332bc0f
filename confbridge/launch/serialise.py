"""Conference runs as JSON.

The convention of every package: JSON shapes are ``x_dict(...)`` functions in the package's
``serialise.py``; views call them, services return domain objects.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from confbridge.booking.models import Meeting
from confbridge.launch.models import ConferenceRun


def run_dict(session: Session, run: ConferenceRun) -> dict[str, Any]:
    meeting = session.get(Meeting, run.meeting_id) if run.meeting_id else None

    def iso(value: datetime | None) -> str | None:
        return value.isoformat() if value else None

    return {
        "id": run.id, "meeting_id": run.meeting_id, "occurrence_id": run.occurrence_id,
        "title": meeting.title if meeting else None, "bridge": run.bridge_name,
        "conference_name": run.conference_name, "state": run.state,
        "planned_start": iso(run.planned_start), "planned_end": iso(run.planned_end),
        "first_call_at": iso(run.first_call_at), "lateness_ms": run.lateness_ms, "late": run.late,
        "last_reason": run.last_reason, "started_at": iso(run.started_at), "live_at": iso(run.live_at),
        "ended_at": iso(run.ended_at), "host_endpoint_id": run.host_endpoint_id, "layout": run.layout,
        "join_muted": bool(meeting.join_muted) if meeting else False,
        "participants": [leg.as_dict() for leg in run.legs],
    }
