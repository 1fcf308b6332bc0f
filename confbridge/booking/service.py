"""Booking operations: create, change and cancel meetings and single occurrences.

Every operation runs in the caller's transaction: it validates, locks, checks conflicts and capacity,
writes the meeting, (re)materialises its occurrences and endpoint slots, records an audit entry and tells
the booking listeners (invitations, launch) — then the caller commits.  Nothing is half-written: any
error raises before the caller's commit.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import delete, insert, select, text
from sqlalchemy.orm import Session, contains_eager, lazyload

from confbridge import clock
from confbridge.audit.models import record, values_of
from confbridge.auth import access
from confbridge.auth.models import User
from confbridge.booking import approval, dial_in, holiday_policy, hooks, organisers, recurrence
from confbridge.booking.conflicts import (
    CapacityProblem,
    ConflictItem,
    Window,
    check_capacity,
    find_conflicts,
    refusal_summary,
)
from confbridge.booking.contacts import endpoint_contacts
from confbridge.booking.models import (
    Attendee,
    EndpointSlot,
    Meeting,
    MeetingStatus,
    Occurrence,
    OccurrenceStatus,
)
from confbridge.booking.validation import CheckedMeeting, MeetingInput, check_meeting
from confbridge.errors import Conflict, FieldError, Forbidden, InvalidInput, NotFound
from confbridge.i18n import N_, translate
from confbridge.settings import Settings

Scope = Literal["this", "following"]
EXTEND_REFUSED = N_("Không thể gia hạn: %(reasons)s")
BOOKING_LOCK_ID = 727_001  # pg_advisory_xact_lock key serialising booking writes on PostgreSQL


class BookingConflict(Conflict):
    """Refused: every conflicting (endpoint, meeting, occurrence) and capacity problem is named.

    The words are rendered in the reader's language when the refusal is shown (``text``/``as_dict``), from
    the conflicts themselves; *lead* is a catalogue message around them ("Cannot extend: …")."""

    def __init__(self, conflicts: list[ConflictItem], capacity: list[CapacityProblem], zone: Any,
                 lead: str | None = None) -> None:
        self.conflicts = conflicts
        self.capacity = capacity
        self.zone = zone
        self.lead = lead
        super().__init__(self.text("en"))

    def text(self, locale: str | None) -> str:
        reasons = refusal_summary(self.conflicts, self.capacity, self.zone, locale)
        return translate(locale, self.lead, reasons=reasons) if self.lead else reasons

    def as_dict(self, locale: str | None = "en") -> dict[str, Any]:
        return {"error": self.code, "message": self.text(locale),
                "conflicts": [c.as_dict(locale) for c in self.conflicts],
                "capacity": [p.as_dict(self.zone, locale) for p in self.capacity]}


# ---- permissions -------------------------------------------------------------------------------------
def can_edit(user: User, meeting: Meeting) -> bool:
    return access.may_edit_meeting(user, meeting)


def require_edit(user: User, meeting: Meeting) -> None:
    if not can_edit(user, meeting):
        raise Forbidden.said(N_("Chỉ người đặt lịch hoặc quản trị viên mới được thay đổi cuộc họp này."))


def require_booker(user: User) -> None:
    if not access.may_book(user):
        raise Forbidden.said(N_("Đặt lịch họp cần vai trò thư ký hoặc quản trị viên."))


# ---- helpers -----------------------------------------------------------------------------------------
def lock_bookings(session: Session) -> None:
    """Serialise booking writes (PostgreSQL); SQLite transactions already begin IMMEDIATE."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": BOOKING_LOCK_ID})


def get_meeting(session: Session, meeting_id: int) -> Meeting:
    meeting = session.get(Meeting, meeting_id)
    if meeting is None:
        raise NotFound.said(N_("Không có cuộc họp số %(id)d."), id=meeting_id)
    return meeting


def _windows(starts: list[datetime], duration: timedelta, setup: int) -> list[Window]:
    return [Window(s - timedelta(minutes=setup), s + duration) for s in starts]


def _check_free(
    session: Session, settings: Settings, checked: CheckedMeeting, windows: list[Window], *,
    exclude_meeting_ids: tuple[int, ...] = (), exclude_occurrence_ids: tuple[int, ...] = (),
) -> None:
    conflicts = find_conflicts(
        session, settings, [e.id for e in checked.endpoints], windows,
        exclude_meeting_ids=exclude_meeting_ids, exclude_occurrence_ids=exclude_occurrence_ids,
        bridge_name=checked.bridge_name,
    )
    capacity = check_capacity(
        session, settings, checked.bridge_name, windows, len(checked.endpoints),
        exclude_meeting_ids=exclude_meeting_ids, exclude_occurrence_ids=exclude_occurrence_ids,
    )
    if conflicts or capacity:
        raise BookingConflict(conflicts, capacity, checked.zone)


def _resolved_bridge(settings: Settings, name: str | None) -> str | None:
    bridge = settings.bridge(name)
    return bridge.name if bridge is not None else None


def _attendee_pairs(meeting: Meeting) -> list[tuple[str, str]]:
    return [(a.email, a.name) for a in meeting.attendees]


def _apply(meeting: Meeting, checked: CheckedMeeting) -> None:
    meeting.title = checked.title
    meeting.description = checked.description
    meeting.start = checked.start.astimezone(UTC)
    meeting.end = checked.end.astimezone(UTC)
    meeting.timezone = checked.zone.key
    meeting.setup_minutes = checked.setup_minutes
    meeting.pin = checked.pin
    meeting.rrule = checked.rrule
    meeting.exdates = sorted({e.astimezone(UTC).isoformat() for e in checked.exdates})
    meeting.host_endpoint_id = checked.host_endpoint_id
    meeting.bridge_name = checked.bridge_name
    meeting.join_muted = checked.join_muted
    meeting.endpoints = list(checked.endpoints)
    meeting.external_participants = [dict(x) for x in checked.external_participants]
    existing = {a.email.lower(): a for a in meeting.attendees}
    keep: list[Attendee] = []
    for email, name in checked.attendees:
        row = existing.get(email.lower())
        if row is None:
            row = Attendee(email=email, name=name)
        else:
            row.name = name
        keep.append(row)
    meeting.attendees = keep


def materialise(session: Session, settings: Settings, meeting: Meeting, now: datetime) -> None:
    """Bring the meeting's occurrences and endpoint slots in line with its definition.

    Occurrences that ended are history and stay as they are.  Individually moved occurrences keep their
    times; occurrences the definition no longer produces are cancelled (their launch is cancelled by the
    launch engine, which reads the status).  Slots exist only for planned, future-or-running occurrences.
    """
    zone = recurrence.ZoneInfo(meeting.timezone)
    exdates = [datetime.fromisoformat(e) for e in meeting.exdates]
    expected = recurrence.expand(meeting.start, zone, meeting.rrule, exdates)
    expected_set = set(expected)
    duration = meeting.duration
    existing = {o.original_start: o for o in meeting.occurrences}
    bridge = _resolved_bridge(settings, meeting.bridge_name)
    active = meeting.status == MeetingStatus.PLANNED
    endpoint_ids = meeting.endpoint_ids

    for original, occ in existing.items():
        if occ.end <= now:
            continue  # history
        if original not in expected_set or not active:
            if occ.status != OccurrenceStatus.CANCELLED:
                occ.status = OccurrenceStatus.CANCELLED
                occ.sequence += 1
    for original in expected:
        found = existing.get(original)
        if found is None:
            meeting.occurrences.append(Occurrence(
                original_start=original, start=original, end=original + duration,
                setup_minutes=meeting.setup_minutes, status=OccurrenceStatus.PLANNED,
            ))
            continue
        occ = found
        if occ.end <= now and occ.start <= now:
            continue
        if not occ.overridden:
            if (occ.start, occ.end, occ.setup_minutes) != (original, original + duration, meeting.setup_minutes):
                occ.sequence += 1
            occ.start, occ.end = original, original + duration
            occ.setup_minutes = meeting.setup_minutes
        if active and occ.status == OccurrenceStatus.CANCELLED and not occ.overridden:
            occ.status = OccurrenceStatus.PLANNED
    session.flush()
    _rebuild_slots(session, meeting, endpoint_ids, bridge, now)


def _rebuild_slots(
    session: Session, meeting: Meeting, endpoint_ids: list[int], bridge: str | None, now: datetime,
) -> None:
    live_ids = [o.id for o in meeting.occurrences if o.end > now]
    if live_ids:
        session.execute(delete(EndpointSlot).where(EndpointSlot.occurrence_id.in_(live_ids)))
    session.flush()
    for occ in meeting.occurrences:
        session.expire(occ, ["slots"])
    rows = [
        {
            "occurrence_id": occ.id, "meeting_id": meeting.id, "endpoint_id": ep,
            "bridge_name": bridge, "window_start": occ.window_start,
            "window_end": occ.end + timedelta(minutes=occ.extension_minutes),
        }
        for occ in meeting.occurrences
        if occ.end > now and occ.status == OccurrenceStatus.PLANNED
        for ep in endpoint_ids
    ]
    if rows:
        session.execute(insert(EndpointSlot), rows)


def _significant(meeting: Meeting, checked: CheckedMeeting) -> bool:
    return (
        meeting.start != checked.start.astimezone(UTC) or meeting.end != checked.end.astimezone(UTC)
        or meeting.timezone != checked.zone.key or meeting.rrule != checked.rrule
        or set(meeting.exdates) != {e.astimezone(UTC).isoformat() for e in checked.exdates}
        or meeting.endpoint_ids != sorted(e.id for e in checked.endpoints)
        or meeting.host_endpoint_id != checked.host_endpoint_id
        or meeting.setup_minutes != checked.setup_minutes or meeting.pin != checked.pin
    )


# ---- operations --------------------------------------------------------------------------------------
def create_meeting(session: Session, settings: Settings, actor: User, data: MeetingInput, *,
                   organizer: str | None = None, co_organizers: list[str] | None = None) -> Meeting:
    """Book; *organizer* books on that person's behalf (the actor is kept as ``booked_by``)."""
    require_booker(actor)
    now = clock.now()
    people = organisers.resolve(session, actor, organizer, co_organizers)
    checked = check_meeting(session, settings, data, now)  # expands the rule: before the lock
    on_holidays = holiday_policy.check_choice(data.on_holidays)
    holiday_policy.skip_holidays(settings, checked, on_holidays)
    lock_bookings(session)
    windows = _windows(checked.starts, checked.duration, checked.setup_minutes)
    _check_free(session, settings, checked, windows)
    meeting = Meeting(
        uid=f"{uuid.uuid4()}@confbridge", organiser=people.organiser, status=MeetingStatus.PLANNED,
        sequence=0, created_at=now, updated_at=now, booked_by=actor,
    )
    meeting.on_holidays = on_holidays
    meeting.co_organisers = people.co_organisers
    _apply(meeting, checked)
    approval.decide_on_booking(meeting, actor, now)
    session.add(meeting)
    session.flush()
    materialise(session, settings, meeting, now)
    dial_in.assign(session, settings.booking, meeting, now)
    record(session, actor.id, "meeting.create", "meeting", meeting.id, title=meeting.title,
           start=meeting.start.isoformat(), rrule=meeting.rrule, endpoints=meeting.endpoint_ids,
           organiser=people.organiser.username, co_organisers=[u.username for u in people.co_organisers],
           approval=meeting.approval)
    hooks.notify(session, hooks.BookingChange("created", meeting, actor.id))
    return meeting


def _input_from(meeting: Meeting, changes: dict[str, Any]) -> MeetingInput:
    """The meeting's current definition with *changes* applied (PATCH semantics)."""
    exdates = [datetime.fromisoformat(e) for e in meeting.exdates]
    base: dict[str, Any] = {
        "title": meeting.title, "description": meeting.description, "start": meeting.start,
        "end": meeting.end, "timezone": meeting.timezone, "endpoint_ids": meeting.endpoint_ids,
        "host_endpoint_id": meeting.host_endpoint_id, "attendees": _attendee_pairs(meeting),
        "rrule": meeting.rrule, "exdates": exdates, "setup_minutes": meeting.setup_minutes,
        "pin": meeting.pin, "bridge_name": meeting.bridge_name, "join_muted": meeting.join_muted,
        "external_participants": [dict(x) for x in meeting.external_participants or []],
    }
    unknown = set(changes) - set(base)
    if unknown:
        raise InvalidInput.of([FieldError.of(k, "unknown_field") for k in sorted(unknown)])
    base.update(changes)
    return MeetingInput(**base)


def update_meeting(
    session: Session, settings: Settings, actor: User, meeting: Meeting, changes: dict[str, Any],
) -> Meeting:
    """Change the whole series (PATCH semantics: only the given fields)."""
    require_edit(actor, meeting)
    if meeting.status == MeetingStatus.CANCELLED:
        raise Conflict.said(N_("Cuộc họp này đã hủy, không thể thay đổi."))
    now = clock.now()
    changes = dict(changes)
    on_holidays = holiday_policy.check_choice(changes.pop("on_holidays", None) or meeting.on_holidays)
    if on_holidays != meeting.on_holidays and "exdates" not in changes:
        changes["exdates"] = holiday_policy.exdates_without_holidays(settings, meeting)
    people = None
    if "organizer" in changes or "co_organizers" in changes:
        changes = dict(changes)
        people = organisers.resolve(
            session, actor, changes.pop("organizer", None),
            changes.pop("co_organizers", [u.username for u in meeting.co_organisers]), current=meeting.organiser)
    checked = check_meeting(session, settings, _input_from(meeting, changes), now, allow_past=True)
    holiday_policy.skip_holidays(settings, checked, on_holidays)
    meeting.on_holidays = on_holidays
    lock_bookings(session)  # after the expansion above: the lock is never held while a rule expands
    starts = set(checked.starts)
    overridden = [o for o in meeting.occurrences if o.overridden and o.end > now
                  and o.status == OccurrenceStatus.PLANNED and o.original_start in starts]
    moved = {o.original_start for o in overridden}
    future = [s for s in checked.starts if s + checked.duration > now and s not in moved]
    windows = _windows(future, checked.duration, checked.setup_minutes)
    windows += [Window(o.window_start, o.end) for o in overridden]
    _check_free(session, settings, checked, windows, exclude_meeting_ids=(meeting.id,))
    previous = _attendee_pairs(meeting)
    previous_contacts = endpoint_contacts(meeting)
    significant = _significant(meeting, checked)
    before = values_of(meeting, changes)
    previous_endpoints = meeting.endpoint_ids
    _apply(meeting, checked)
    if people is not None:
        meeting.organiser, meeting.co_organisers = people.organiser, people.co_organisers
    approval.decide_on_booking(meeting, actor, now, previous_endpoints)
    if significant:
        meeting.sequence += 1
    meeting.updated_at = now
    session.flush()
    materialise(session, settings, meeting, now)
    dial_in.assign(session, settings.booking, meeting, now)
    record(session, actor.id, "meeting.update", "meeting", meeting.id, changes=sorted(changes),
           before=before, after=values_of(meeting, changes), sequence=meeting.sequence)
    hooks.notify(session, hooks.BookingChange("updated", meeting, actor.id, previous, None, significant,
                                              previous_contacts=previous_contacts))
    return meeting


def cancel_meeting(session: Session, settings: Settings, actor: User, meeting: Meeting) -> Meeting:
    require_edit(actor, meeting)
    if meeting.status == MeetingStatus.CANCELLED:
        return meeting
    now = clock.now()
    lock_bookings(session)
    meeting.status = MeetingStatus.CANCELLED
    meeting.sequence += 1
    meeting.updated_at = now
    session.flush()
    materialise(session, settings, meeting, now)
    record(session, actor.id, "meeting.cancel", "meeting", meeting.id, title=meeting.title)
    hooks.notify(session, hooks.BookingChange("cancelled", meeting, actor.id, _attendee_pairs(meeting)))
    return meeting


def get_occurrence(meeting: Meeting, original_start: datetime) -> Occurrence:
    target = original_start.astimezone(UTC)
    for occ in meeting.occurrences:
        if occ.original_start == target:
            return occ
    raise NotFound.said(N_("Cuộc họp số %(id)s không có buổi bắt đầu lúc %(start)s."),
        id=meeting.id, start=target.isoformat())


@dataclass
class OccurrenceChange:
    start: datetime | None = None
    end: datetime | None = None


def update_occurrence(
    session: Session, settings: Settings, actor: User, meeting: Meeting, original_start: datetime,
    change: OccurrenceChange, scope: Scope = "this",
) -> Meeting:
    """Move one occurrence, or ("following") this and every later one by splitting the series."""
    require_edit(actor, meeting)
    if meeting.status == MeetingStatus.CANCELLED:
        raise Conflict.said(N_("Cuộc họp này đã hủy, không thể thay đổi."))
    occ = get_occurrence(meeting, original_start)
    now = clock.now()
    if scope == "following":
        return _split(session, settings, actor, meeting, occ, change, now)
    if occ.status == OccurrenceStatus.CANCELLED:
        raise Conflict.said(N_("Buổi họp này đã hủy."))
    if occ.end <= now:
        raise Conflict.said(N_("Buổi họp này đã kết thúc, không thể thay đổi."))
    new_start = change.start or occ.start
    new_end = change.end or (new_start + (occ.end - occ.start))
    lock_bookings(session)
    checked = check_meeting(session, settings, _input_from(meeting, {
        "start": new_start, "end": new_end, "rrule": None, "exdates": [],
    }), now)
    window = Window(new_start - timedelta(minutes=occ.setup_minutes), new_end)
    _check_free(session, settings, checked, [window], exclude_occurrence_ids=(occ.id,))
    occ.start, occ.end = new_start.astimezone(UTC), new_end.astimezone(UTC)
    occ.overridden = True
    occ.sequence += 1
    meeting.updated_at = now
    session.flush()
    _rebuild_slots(session, meeting, meeting.endpoint_ids, _resolved_bridge(settings, meeting.bridge_name), now)
    dial_in.assign(session, settings.booking, meeting, now)
    record(session, actor.id, "occurrence.update", "meeting", meeting.id,
           occurrence=occ.original_start.isoformat(), start=occ.start.isoformat(), end=occ.end.isoformat())
    hooks.notify(session, hooks.BookingChange("occurrence_updated", meeting, actor.id,
                                              _attendee_pairs(meeting), occ))
    return meeting


def cancel_occurrence(
    session: Session, settings: Settings, actor: User, meeting: Meeting, original_start: datetime,
    scope: Scope = "this",
) -> Meeting:
    require_edit(actor, meeting)
    occ = get_occurrence(meeting, original_start)
    now = clock.now()
    lock_bookings(session)
    if scope == "following":
        return _truncate(session, settings, actor, meeting, occ, now)
    if occ.status == OccurrenceStatus.CANCELLED:
        return meeting
    occ.status = OccurrenceStatus.CANCELLED
    occ.sequence += 1
    if meeting.rrule:
        meeting.exdates = sorted({*meeting.exdates, occ.original_start.isoformat()})
    else:
        meeting.status = MeetingStatus.CANCELLED
        meeting.sequence += 1
    meeting.updated_at = now
    session.flush()
    _rebuild_slots(session, meeting, meeting.endpoint_ids, _resolved_bridge(settings, meeting.bridge_name), now)
    record(session, actor.id, "occurrence.cancel", "meeting", meeting.id,
           occurrence=occ.original_start.isoformat())
    kind: hooks.ChangeKind = "occurrence_cancelled" if meeting.rrule else "cancelled"
    hooks.notify(session, hooks.BookingChange(kind, meeting, actor.id, _attendee_pairs(meeting), occ))
    return meeting


def _until_before(instant: datetime) -> str:
    return (instant - timedelta(seconds=1)).astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _rule_without_end(rule: str) -> str:
    return ";".join(p for p in rule.split(";") if not p.startswith(("COUNT=", "UNTIL=")))


def _truncate(
    session: Session, settings: Settings, actor: User, meeting: Meeting, occ: Occurrence, now: datetime,
) -> Meeting:
    """End the series just before *occ* (cancel "this and following")."""
    if not meeting.rrule or occ.original_start == meeting.start:
        return cancel_meeting(session, settings, actor, meeting)
    meeting.rrule = _rule_without_end(meeting.rrule) + ";UNTIL=" + _until_before(occ.original_start)
    meeting.sequence += 1
    meeting.updated_at = now
    session.flush()
    materialise(session, settings, meeting, now)
    record(session, actor.id, "meeting.truncate", "meeting", meeting.id, before=occ.original_start.isoformat())
    hooks.notify(session, hooks.BookingChange("updated", meeting, actor.id, _attendee_pairs(meeting)))
    return meeting


def _split(
    session: Session, settings: Settings, actor: User, meeting: Meeting, occ: Occurrence,
    change: OccurrenceChange, now: datetime,
) -> Meeting:
    """Change "this and following": the old series ends before *occ*, a new series takes over."""
    if not meeting.rrule or occ.original_start == meeting.start:
        changes: dict[str, Any] = {}
        if change.start:
            changes["start"] = change.start
            changes["end"] = change.end or change.start + meeting.duration
        elif change.end:
            changes["end"] = change.end
        return update_meeting(session, settings, actor, meeting, changes)
    remaining = [o for o in meeting.occurrences if o.original_start >= occ.original_start]
    new_start = change.start or occ.original_start
    new_end = change.end or (new_start + meeting.duration)
    rule = _rule_without_end(meeting.rrule)
    last = max(o.original_start for o in remaining)
    shift = new_start - occ.original_start
    rule += ";UNTIL=" + (last + shift + timedelta(seconds=1)).astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    data = _input_from(meeting, {"start": new_start, "end": new_end, "rrule": rule, "exdates": [
        datetime.fromisoformat(e) + shift for e in meeting.exdates
        if datetime.fromisoformat(e) >= occ.original_start
    ]})
    # Cut the old series first so that its future slots no longer block the new one.
    meeting.rrule = _rule_without_end(meeting.rrule) + ";UNTIL=" + _until_before(occ.original_start)
    meeting.sequence += 1
    meeting.updated_at = now
    session.flush()
    materialise(session, settings, meeting, now)
    new_meeting = create_meeting_from(session, settings, actor, data, parent=meeting)
    record(session, actor.id, "meeting.split", "meeting", meeting.id, at=occ.original_start.isoformat(),
           new_meeting=new_meeting.id)
    hooks.notify(session, hooks.BookingChange("split", meeting, actor.id, _attendee_pairs(meeting),
                                              occ, True, new_meeting))
    return new_meeting


def create_meeting_from(
    session: Session, settings: Settings, actor: User, data: MeetingInput, *, parent: Meeting,
) -> Meeting:
    """A new series continuing *parent* (same organiser); used by "this and following"."""
    now = clock.now()
    checked = check_meeting(session, settings, data, now)
    holiday_policy.skip_holidays(settings, checked, parent.on_holidays)
    windows = _windows(checked.starts, checked.duration, checked.setup_minutes)
    _check_free(session, settings, checked, windows)
    meeting = Meeting(
        uid=f"{uuid.uuid4()}@confbridge", organiser_id=parent.organiser_id, status=MeetingStatus.PLANNED,
        sequence=0, parent_id=parent.id, created_at=now, updated_at=now,
        booked_by_id=parent.booked_by_id, approval=parent.approval, approval_by_id=parent.approval_by_id,
        approval_at=parent.approval_at,
    )
    meeting.on_holidays = parent.on_holidays
    meeting.co_organisers = list(parent.co_organisers)
    _apply(meeting, checked)
    session.add(meeting)
    session.flush()
    materialise(session, settings, meeting, now)
    dial_in.assign(session, settings.booking, meeting, now)
    record(session, actor.id, "meeting.create", "meeting", meeting.id, title=meeting.title, parent=parent.id)
    hooks.notify(session, hooks.BookingChange("created", meeting, actor.id))
    return meeting


def extend_occurrence(session: Session, settings: Settings, occ: Occurrence, minutes: int, *,
                      bridge_name: str | None, endpoint_ids: list[int]) -> datetime:
    """Hold *endpoint_ids* and the bridge *minutes* longer for a running occurrence; returns its new end.

    Refused (409, the conflicting bookings or the bridge's capacity named) when an endpoint or the
    bridge is booked right after: an extension is a booking like any other."""
    lock_bookings(session)
    current_end = occ.effective_end
    new_end = current_end + timedelta(minutes=minutes)
    window = Window(current_end, new_end)
    conflicts = find_conflicts(session, settings, endpoint_ids, [window], exclude_occurrence_ids=(occ.id,),
                               bridge_name=bridge_name)
    capacity = check_capacity(session, settings, bridge_name, [window], len(endpoint_ids),
                              exclude_occurrence_ids=(occ.id,))
    if conflicts or capacity:
        raise BookingConflict(conflicts, capacity, settings.zone, lead=EXTEND_REFUSED)
    occ.extension_minutes += minutes
    for slot in session.scalars(select(EndpointSlot).where(EndpointSlot.occurrence_id == occ.id)):
        slot.window_end = new_end
    return new_end


def check_booking(
    session: Session, settings: Settings, data: MeetingInput, *, exclude_meeting_id: int | None = None,
) -> tuple[list[ConflictItem], list[CapacityProblem], datetime | None]:
    """Dry run for forms: conflicts, capacity problems and the next free start for all endpoints."""
    from confbridge.booking.conflicts import next_free_slot

    now = clock.now()
    checked = check_meeting(session, settings, data, now)
    holiday_policy.skip_holidays(settings, checked, holiday_policy.check_choice(data.on_holidays))
    windows = _windows(checked.starts, checked.duration, checked.setup_minutes)
    excluded = (exclude_meeting_id,) if exclude_meeting_id else ()
    conflicts = find_conflicts(session, settings, [e.id for e in checked.endpoints], windows,
                               exclude_meeting_ids=excluded, bridge_name=checked.bridge_name)
    capacity = check_capacity(session, settings, checked.bridge_name, windows, len(checked.endpoints),
                              exclude_meeting_ids=excluded)
    suggestion = None
    if conflicts or capacity:
        suggestion = next_free_slot(
            session, settings, [e.id for e in checked.endpoints], after=max(checked.start, now),
            duration=checked.duration, setup=timedelta(minutes=checked.setup_minutes), zone=checked.zone,
            exclude_meeting_ids=excluded, bridge_name=checked.bridge_name,
        )
    return conflicts, capacity, suggestion


def list_occurrences(
    session: Session, start: datetime, end: datetime, *, endpoint_id: int | None = None,
    include_cancelled: bool = True, site_id: int | None = None, meeting_details: bool = False,
) -> list[Occurrence]:
    """Occurrences overlapping ``[start, end)`` with their meeting, its endpoints and organiser.

    The meeting's attendees, co-organisers and approval people are loaded only with *meeting_details*
    (the meetings list of the API shows them): a calendar week of 200 meetings spent a third of its
    time building attendee objects nobody reads (they still load on access, one query per meeting)."""
    meeting = contains_eager(Occurrence.meeting)  # from the join: no query per meeting (N+1)
    if not meeting_details:
        meeting = meeting.options(lazyload(Meeting.attendees), lazyload(Meeting.co_organisers),
                                  lazyload(Meeting.booked_by), lazyload(Meeting.approval_by))
    query = (
        select(Occurrence).join(Meeting)
        .options(meeting)
        .options(lazyload(Occurrence.slots))  # a list never reads the slots: not one object per endpoint
        .where(Occurrence.start < end, Occurrence.end > start)
        .order_by(Occurrence.start, Occurrence.id)
    )
    if not include_cancelled:
        query = query.where(Occurrence.status == OccurrenceStatus.PLANNED)
    if endpoint_id is not None or site_id is not None:
        from confbridge.booking.models import meeting_endpoints
        from confbridge.directory.models import Endpoint

        sub = select(meeting_endpoints.c.meeting_id).join(Endpoint, Endpoint.id == meeting_endpoints.c.endpoint_id)
        if endpoint_id is not None:
            sub = sub.where(Endpoint.id == endpoint_id)
        if site_id is not None:
            sub = sub.where(Endpoint.site_id == site_id)
        query = query.where(Occurrence.meeting_id.in_(sub))
    return list(session.scalars(query))
