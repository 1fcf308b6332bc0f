"""What the booking pages show besides the form: endpoint choices with their availability, conflicts in
words, the preview of occurrences, the invitation preview.  Reads only; the booking service decides."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import groupby
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import get_locale
from sqlalchemy.orm import Session

from confbridge.booking import recurrence
from confbridge.booking.conflicts import CapacityProblem, ConflictItem, busy_intervals, refusal_lines
from confbridge.booking.models import Attendee, Meeting, Occurrence
from confbridge.booking.validation import MeetingInput
from confbridge.directory.models import Endpoint
from confbridge.directory.service import list_endpoints
from confbridge.invites.mail import bodies, subject_for
from confbridge.settings import Settings

log = logging.getLogger(__name__)
PREVIEW_COUNT = 8


@dataclass
class EndpointChoice:
    endpoint: Endpoint
    busy_with: str | None  # "Giao ban tuần 07:15–09:00" when taken in the requested slot


def endpoint_groups(
    session: Session, settings: Settings, window: tuple[datetime, datetime] | None, zone: ZoneInfo,
    exclude_meeting_id: int | None = None,
) -> list[tuple[str, list[EndpointChoice]]]:
    """Enabled endpoints grouped by site, each marked busy/free for *window* (setup included)."""
    endpoints = list_endpoints(session, include_disabled=False)
    busy: dict[int, list[Any]] = {}
    if window is not None:
        busy = busy_intervals(session, settings, [e.id for e in endpoints], window[0], window[1])
    groups = []
    for site, items in groupby(endpoints, key=lambda e: e.site.name):
        choices = []
        for ep in items:
            label = None
            for b in busy.get(ep.id, []):
                if b.meeting_id == exclude_meeting_id:
                    continue
                ws, end = b.window_start.astimezone(zone), b.end.astimezone(zone)
                label = f"{b.meeting_title} {ws:%H:%M}–{end:%H:%M}"
                break
            choices.append(EndpointChoice(ep, label))
        groups.append((site, choices))
    return groups


def conflict_lines(conflicts: list[ConflictItem], capacity: list[CapacityProblem], zone: ZoneInfo,
                   limit: int = 12) -> tuple[list[str], int]:
    """Conflicts in the viewer's words and *zone* (the first *limit*) and how many more there are."""
    return refusal_lines(conflicts, capacity, zone, str(get_locale() or "vi"), limit=limit, own_zone=False)


def preview_starts(start: datetime, zone: ZoneInfo, rule: str | None, exdates: list[datetime],
                   count: int = PREVIEW_COUNT) -> tuple[list[datetime], list[datetime]]:
    """The first occurrence starts of the series, and the skipped ones among that span."""
    normalised = recurrence.normalise_rrule(rule, zone) if rule else None
    all_starts = recurrence.expand(start, zone, normalised, [], limit=count + len(exdates) + 1)
    skipped = {e.astimezone(UTC) for e in exdates}
    kept = [s for s in all_starts if s not in skipped][:count]
    horizon = kept[-1] if kept else start
    return kept, sorted(s for s in all_starts if s in skipped and s <= horizon)


def invitation_preview(meeting: Meeting, settings: Settings, kind: str = "invitation",
                       occurrence: Occurrence | None = None) -> tuple[str, str] | None:
    """(subject, plain text) of the e-mail the attendees receive."""
    try:
        plain, _html = bodies(kind, meeting, settings.mail, occurrence)
        return subject_for(kind, meeting), plain
    except Exception:  # a preview must never break the page
        log.exception("invitation preview failed for meeting %s", meeting.id)
        return None


def draft_invitation(session: Session, settings: Settings, data: MeetingInput) -> tuple[str, str] | None:
    """The invitation the attendees would receive for a booking not saved yet.

    A transient ``Meeting`` (never added to the session: no relationship leads back to it from a
    persistent row) is filled from the form and handed to the invitations module's own text builder.
    """
    endpoints = [e for e in (session.get(Endpoint, i) for i in data.endpoint_ids) if e is not None]
    host = session.get(Endpoint, data.host_endpoint_id) if data.host_endpoint_id else None
    draft = Meeting(
        title=data.title.strip(), description=data.description or "", start=data.start.astimezone(UTC),
        end=data.end.astimezone(UTC), timezone=data.timezone or settings.timezone, rrule=data.rrule,
        exdates=sorted({e.astimezone(UTC).isoformat() for e in data.exdates}),
        setup_minutes=data.setup_minutes or 0, pin=data.pin, sequence=0,
        host_endpoint_id=host.id if host else None,
    )
    draft.host_endpoint = host
    draft.endpoints = endpoints
    draft.attendees = [Attendee(email=email, name=name) for email, name in data.attendees]
    try:
        return invitation_preview(draft, settings)
    finally:
        if draft in session:  # defensive: a draft must never be flushed
            session.expunge(draft)


def occurrence_key(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def parse_occurrence_key(key: str) -> datetime:
    return datetime.strptime(key, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)


def first_window(start: datetime, duration: timedelta, setup: int) -> tuple[datetime, datetime]:
    return start - timedelta(minutes=setup), start + duration
