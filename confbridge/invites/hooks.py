"""Booking changes → outbox rows, inside the booking's transaction.

=====================  ==========================================================================
change                 mails
=====================  ==========================================================================
created                REQUEST (whole calendar) to every attendee
updated / split        REQUEST (SEQUENCE bumped when significant) to every current attendee;
                       CANCEL to every attendee who was removed
occurrence_updated     REQUEST (series + the moved occurrence's RECURRENCE-ID VEVENT) to all
occurrence_cancelled   CANCEL with that occurrence's RECURRENCE-ID to all
cancelled              CANCEL (whole meeting) to all, including anyone removed by the same change
approved               the held REQUEST to all (an update if invitations went out before), and the
                       decision to the organiser (invites.decision)
rejected               CANCEL to all only if invitations went out before; the decision to the organiser
=====================  ==========================================================================

While a meeting waits for approval (booking.approval) and nothing was sent yet, every change is held.

An "updated" change sends the REQUEST to every current attendee, not only to the added ones: a title or
agenda change does not bump SEQUENCE but people still need to see it, and a REQUEST with an unchanged
SEQUENCE and a newer DTSTAMP is simply re-applied by calendars.  The new half of a split arrives as its
own "created" change (a new UID), so it is not handled here.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from confbridge import clock
from confbridge.booking.approval import PENDING
from confbridge.booking.models import Meeting, Occurrence
from confbridge.errors import FieldError, InvalidInput
from confbridge.invites import ics
from confbridge.invites.decision import enqueue_decision
from confbridge.invites.mail import MailContent
from confbridge.invites.models import OutboxMessage
from confbridge.invites.outbox import enqueue
from confbridge.settings import MailSettings, Settings, load_settings

if TYPE_CHECKING:
    from confbridge.booking.hooks import BookingChange

_settings: Settings | None = None


def install(settings: Settings | None = None) -> None:
    """Subscribe the invitation mailer to booking changes (idempotent).

    *settings* supplies the [mail] section; without it the settings are loaded on first use.
    """
    global _settings
    from confbridge.booking import hooks

    if settings is not None:
        _settings = settings
    hooks.subscribe(on_booking_change)


def uninstall() -> None:
    from confbridge.booking import hooks

    hooks.unsubscribe(on_booking_change)


def _mail_settings() -> MailSettings:
    global _settings
    if _settings is None:
        _settings = load_settings()
    return _settings.mail


def _key(email: str) -> str:
    return email.strip().lower()


def _send(
    session: Session, mail: MailSettings, meeting: Meeting, kind: str, method: str, ics_bytes: bytes,
    people: list[tuple[str, str]], sequence: int, occurrence: Occurrence | None = None,
) -> None:
    content = MailContent(kind=kind, method=method, ics=ics_bytes)
    for email, name in people:
        enqueue(session, mail, meeting, content, recipient=email, recipient_name=name, sequence=sequence,
                occurrence=occurrence)


def _request(session: Session, mail: MailSettings, meeting: Meeting, kind: str,
             people: list[tuple[str, str]], occurrence: Occurrence | None = None) -> None:
    if not people:
        return
    cal = ics.request_calendar(meeting, mail)
    _send(session, mail, meeting, kind, "REQUEST", ics.to_bytes(cal), people, ics.max_sequence(cal),
          occurrence)


def _cancel_whole(session: Session, mail: MailSettings, meeting: Meeting, kind: str,
                  people: list[tuple[str, str]]) -> None:
    # Each removed person gets a CANCEL naming only themselves: the others are not being cancelled.
    for person in people:
        cal = ics.cancel_calendar(meeting, mail, attendees=[person])
        _send(session, mail, meeting, kind, "CANCEL", ics.to_bytes(cal), [person], ics.max_sequence(cal))


def check_new_recipients(session: Session, mail: MailSettings, meeting: Meeting, new: int) -> None:
    """``[mail] recipients_per_user_per_day``: first invitations one organiser sends in 24 hours.

    Raised inside the booking's transaction, so a refused booking leaves nothing behind (422 on
    ``attendees``)."""
    cap = mail.recipients_per_user_per_day
    if not cap or not new:
        return
    since = clock.now() - timedelta(days=1)
    sent = session.scalar(
        select(func.count(OutboxMessage.id)).join(Meeting, Meeting.id == OutboxMessage.meeting_id)
        .where(Meeting.organiser_id == meeting.organiser_id, OutboxMessage.kind == "invitation",
               OutboxMessage.created_at >= since)
    ) or 0
    if sent + new > cap:
        raise InvalidInput.of([FieldError.of("attendees", "daily_cap", cap=cap, sent=sent)])


def _sent_before(session: Session, meeting: Meeting) -> bool:
    return session.scalar(select(OutboxMessage.id).where(
        OutboxMessage.meeting_id == meeting.id, OutboxMessage.method != "NOTICE").limit(1)) is not None


def _on_decision(session: Session, mail: MailSettings, change: BookingChange) -> None:
    """Approval decided (booking.decisions): the held invitations go out, or the cancellation of what
    was already sent; the organiser (and the booker) are told either way."""
    meeting = change.meeting
    sent = _sent_before(session, meeting)
    current = ics.attendees_of(meeting)
    if change.kind == "approved":
        _request(session, mail, meeting, "update" if sent else "invitation", current)
    elif sent and current:
        cal = ics.cancel_calendar(meeting, mail, attendees=current)
        _send(session, mail, meeting, "cancel", "CANCEL", ics.to_bytes(cal), current, ics.max_sequence(cal))
    enqueue_decision(session, mail, meeting, change.kind)


def on_booking_change(session: Session, change: BookingChange) -> None:
    mail = _mail_settings()
    meeting = change.meeting
    if change.kind in ("approved", "rejected"):
        _on_decision(session, mail, change)
        return
    if meeting.approval == PENDING and not _sent_before(session, meeting):
        return  # held until an approver decides (booking.approval)
    # Attendees, then the booked endpoints' contacts (optional attendees: see booking.contacts).
    current = ics.recipients_of(meeting)
    current_keys = {_key(e) for e, _ in current}
    attendee_keys = {_key(e) for e, _ in ics.attendees_of(meeting)}
    before = change.previous_attendees + change.previous_contacts
    removed = [(e, n) for e, n in before if _key(e) not in current_keys]

    if change.kind == "created":
        check_new_recipients(session, mail, meeting, len(attendee_keys))
        _request(session, mail, meeting, "invitation", current)
    elif change.kind in ("updated", "split"):
        previous_keys = {_key(e) for e, _ in before}
        # Those who already had it get the update, those just added their first invitation; both carry
        # the same (current) calendar.
        stay = [(e, n) for e, n in current if _key(e) in previous_keys]
        added = [(e, n) for e, n in current if _key(e) not in previous_keys]
        check_new_recipients(session, mail, meeting, len([p for p in added if _key(p[0]) in attendee_keys]))
        _request(session, mail, meeting, "update", stay)
        _request(session, mail, meeting, "invitation", added)
        _cancel_whole(session, mail, meeting, "removed", removed)
    elif change.kind == "occurrence_updated":
        _request(session, mail, meeting, "occurrence_update", current, change.occurrence)
    elif change.kind == "occurrence_cancelled" and change.occurrence is not None:
        if current:
            cal = ics.cancel_calendar(meeting, mail, occurrence=change.occurrence)
            _send(session, mail, meeting, "occurrence_cancel", "CANCEL", ics.to_bytes(cal), current,
                  ics.max_sequence(cal), change.occurrence)
    elif change.kind == "cancelled":
        everyone = current + removed
        if everyone:
            cal = ics.cancel_calendar(meeting, mail, attendees=everyone)
            _send(session, mail, meeting, "cancel", "CANCEL", ics.to_bytes(cal), everyone,
                  ics.max_sequence(cal))
