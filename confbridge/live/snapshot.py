"""What one user may see, and the snapshot of it read from the database.

Technicians and admins see everything.  A secretary sees the meetings she organises: their conferences
(runs) and participants, the endpoints booked in them, and the alarms attached to them.  The visible set
is computed when the connection authenticates and on every resync; a conference of hers that starts
later is recognised by the ``meeting_id`` its ``conference.state`` event carries.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from confbridge.alarms.models import Alarm
from confbridge.auth import access
from confbridge.auth.models import User
from confbridge.booking.models import Meeting, meeting_endpoints
from confbridge.directory.models import Endpoint, Site
from confbridge.events import Event
from confbridge.i18n import DEFAULT_LOCALE, normalise_locale
from confbridge.launch.models import ACTIVE_STATES, ConferenceRun, RunState, TimelineEntry
from confbridge.monitor.models import EndpointStatus

RECENT_ENDED = timedelta(minutes=15)
TIMELINE_ENTRIES = 30
MAX_ALARMS = 300


@dataclass
class Viewer:
    user_id: int
    role: str
    meeting_ids: set[int] = field(default_factory=set)
    conference_ids: set[int] = field(default_factory=set)
    endpoint_ids: set[int] = field(default_factory=set)
    locale: str = DEFAULT_LOCALE  # the user's interface language: alarms and the timeline are shown in it

    @property
    def id(self) -> int:
        return self.user_id

    @property
    def sees_all(self) -> bool:
        return access.sees_everything(self)

    def can_see(self, event: Event) -> bool:
        if self.sees_all:
            return True
        p = event.payload
        if event.type == "endpoint.status":
            return p.get("endpoint_id") in self.endpoint_ids
        if event.type == "participant.state":
            return p.get("conference_id") in self.conference_ids
        if event.type == "conference.state":
            if p.get("meeting_id") in self.meeting_ids:
                # A new run of her meeting: its participants become visible from now on.
                if isinstance(p.get("conference_id"), int):
                    self.conference_ids.add(p["conference_id"])
                return True
            return False
        if event.type == "alarm":
            alarm = p.get("alarm") or {}
            return alarm.get("meeting_id") in self.meeting_ids
        return False

    def redact(self, event: Event) -> Event:
        """*event* as this viewer may read it: a secretary's endpoint event names no conference she
        may not see (the endpoint is hers; the other meeting using it is not)."""
        if self.sees_all or event.type != "endpoint.status":
            return event
        conference_id = event.payload.get("conference_id")
        if conference_id is None or conference_id in self.conference_ids:
            return event
        return Event(event.type, {k: v for k, v in event.payload.items() if k != "conference_id"})


def load_viewer(session: Session, user_id: int, role: str) -> Viewer:
    user = session.get(User, user_id)
    viewer = Viewer(user_id, role, locale=normalise_locale(user.locale if user is not None else None))
    if viewer.sees_all:
        return viewer
    organiser_id = access.followed_organiser(viewer)
    viewer.meeting_ids = set(session.scalars(select(Meeting.id).where(Meeting.organiser_id == organiser_id)))
    if viewer.meeting_ids:
        viewer.conference_ids = set(session.scalars(
            select(ConferenceRun.id).where(ConferenceRun.meeting_id.in_(viewer.meeting_ids))))
        viewer.endpoint_ids = set(session.scalars(
            select(meeting_endpoints.c.endpoint_id).where(
                meeting_endpoints.c.meeting_id.in_(viewer.meeting_ids))))
    return viewer


def _endpoints(session: Session, viewer: Viewer) -> list[dict[str, Any]]:
    # Plain columns, not ORM objects: a snapshot of 10,000 endpoints is built for every connecting client.
    query = (
        select(Endpoint.id, Endpoint.name, Site.name, Endpoint.kind, EndpointStatus.status,
               EndpointStatus.since, EndpointStatus.packet_loss, EndpointStatus.conference_id)
        .join(Site, Site.id == Endpoint.site_id)
        .outerjoin(EndpointStatus, EndpointStatus.endpoint_id == Endpoint.id)
        .where(Endpoint.enabled.is_(True))
    )
    if not viewer.sees_all:
        query = query.where(Endpoint.id.in_(viewer.endpoint_ids or {-1}))
    out = []
    for ep_id, name, site, kind, status, since, loss, conference_id in session.execute(
            query.order_by(Endpoint.site_id, Endpoint.name)):
        item: dict[str, Any] = {"id": ep_id, "name": name, "site": site, "status": status or "unknown"}
        # Optional fields only when set: the snapshot is sent to every connecting client.
        if kind:
            item["kind"] = kind
        if since is not None:
            item["since"] = since.isoformat()
        if loss and loss != "none":
            item["packet_loss"] = loss
        if conference_id is not None and (viewer.sees_all or conference_id in viewer.conference_ids):
            item["conference_id"] = conference_id
        out.append(item)
    return out


def conference_dict(run: ConferenceRun, title: str, names: dict[int, str],
                    timeline: list[TimelineEntry], locale: str | None = None) -> dict[str, Any]:
    legs = [leg for leg in run.legs if leg.wanted]
    connected = [leg for leg in legs if leg.state == "connected"]
    all_connected_after = None
    if legs and len(connected) == len(legs) and run.started_at is not None:
        last = max(leg.connected_at for leg in connected if leg.connected_at is not None) \
            if all(leg.connected_at for leg in connected) else None
        if last is not None:
            all_connected_after = max(0, round((last - run.started_at).total_seconds()))
    return {
        "id": run.id, "meeting_id": run.meeting_id, "title": title, "state": run.state,
        "conference_name": run.conference_name, "bridge": run.bridge_name,
        "planned_start": run.planned_start.isoformat(), "planned_end": run.planned_end.isoformat(),
        "started_at": run.started_at.isoformat() if run.started_at else None,
        "live_at": run.live_at.isoformat() if run.live_at else None, "late": run.late,
        "invited": len(legs), "connected": len(connected), "all_connected_after_s": all_connected_after,
        "host_endpoint_id": run.host_endpoint_id, "layout": run.layout,
        "participants": [{**leg.as_dict(), "name": names.get(leg.endpoint_id or 0, leg.display_name)}
                         for leg in run.legs],
        "timeline": [entry.as_dict(locale) for entry in timeline],
    }


def _conferences(
    session: Session, viewer: Viewer, now: datetime, imminent: timedelta,
) -> list[dict[str, Any]]:
    query = select(ConferenceRun).where(or_(
        ConferenceRun.state.in_([str(s) for s in ACTIVE_STATES]),
        (ConferenceRun.state == RunState.SCHEDULED) & (ConferenceRun.planned_start <= now + imminent),
        ConferenceRun.ended_at >= now - RECENT_ENDED,
    ))
    if not viewer.sees_all:
        query = query.where(ConferenceRun.meeting_id.in_(viewer.meeting_ids or {-1}))
    runs = list(session.scalars(query.order_by(ConferenceRun.planned_start)))
    meeting_ids = {r.meeting_id for r in runs if r.meeting_id is not None}
    titles: dict[int, str] = {}
    if meeting_ids:
        titles = dict(session.execute(
            select(Meeting.id, Meeting.title).where(Meeting.id.in_(meeting_ids))).tuples().all())
    endpoint_ids = {leg.endpoint_id for run in runs for leg in run.legs if leg.endpoint_id is not None}
    names: dict[int, str] = dict(session.execute(
        select(Endpoint.id, Endpoint.name).where(Endpoint.id.in_(endpoint_ids))).tuples().all()) if runs else {}
    out = []
    for run in runs:
        timeline = list(session.scalars(
            select(TimelineEntry).where(TimelineEntry.run_id == run.id)
            .order_by(TimelineEntry.at.desc(), TimelineEntry.id.desc()).limit(TIMELINE_ENTRIES)))
        timeline.reverse()
        title = titles.get(run.meeting_id or -1, run.conference_name)
        out.append(conference_dict(run, title, names, timeline, viewer.locale))
    return out


def _alarms(session: Session, viewer: Viewer) -> list[dict[str, Any]]:
    query = select(Alarm).where(Alarm.cleared_at.is_(None))
    if not viewer.sees_all:
        query = query.where(Alarm.meeting_id.in_(viewer.meeting_ids or {-1}))
    rows = session.scalars(query.order_by(Alarm.raised_at.desc(), Alarm.id.desc()).limit(MAX_ALARMS))
    return [a.as_dict(viewer.locale) for a in rows]


def build_snapshot(session: Session, viewer: Viewer, now: datetime, imminent_minutes: int) -> dict[str, Any]:
    """The snapshot body (without ``seq``): endpoints, conferences and open alarms *viewer* may see."""
    return {
        "type": "snapshot",
        "now": now.isoformat(),
        "endpoints": _endpoints(session, viewer),
        "conferences": _conferences(session, viewer, now, timedelta(minutes=imminent_minutes)),
        "alarms": _alarms(session, viewer),
    }
