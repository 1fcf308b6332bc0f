"""Reminder e-mails to the endpoints' contacts (issue 14): ``[mail] contact_reminder_minutes`` before the
setup time of each occurrence, the room's technician is told the meeting, the setup time, the dial-in
and the helpdesk.

The job runs on the active scheduler beside the outbox (``confbridge.scheduler.process``).  It only
*queues*: each reminder is an outbox row (delivered, retried and reported exactly like invitations),
written in the same transaction as a :class:`ContactReminder` row whose unique key (occurrence,
recipient) makes it idempotent — once per occurrence and contact, across scheduler restarts and with two
schedulers (the second insert fails, its transaction rolls back, nothing is queued twice).  A reminder
whose moment passed while no scheduler ran is still sent until the setup time, never after.
"""

from __future__ import annotations

import html
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from confbridge import clock
from confbridge.booking.contacts import endpoint_contacts
from confbridge.booking.models import Meeting, Occurrence, OccurrenceStatus
from confbridge.db import unit_of_work
from confbridge.i18n import DEFAULT_LOCALE, LOCALES, N_, bilingual, translate
from confbridge.invites.ics import sequence_of
from confbridge.invites.mail import SENDER_NAME, SMTP_POLICY, display_name, header_text
from confbridge.invites.models import OutboxMessage, OutboxStatus
from confbridge.invites.reminder_models import ContactReminder
from confbridge.limits import MAX_SETUP_MINUTES
from confbridge.settings import MailSettings, Settings
from confbridge.text import one_line, valid_email

log = logging.getLogger(__name__)
KIND, METHOD = "contact_reminder", "REMINDER"
POLL_SECONDS = 30.0  # how often the leader looks for due reminders
SUBJECT = N_("Nhắc lịch điểm cầu")
LEAD = N_("Điểm cầu do anh/chị phụ trách tham gia hội nghị truyền hình sau đây; "
          "xin chuẩn bị phòng họp trước giờ kiểm tra kỹ thuật.")
MEETING = N_("Cuộc họp: %(title)s")
SETUP_AT = N_("Giờ kiểm tra kỹ thuật (kết nối điểm cầu): %(when)s")
STARTS_AT = N_("Giờ bắt đầu: %(when)s")
ROOMS = N_("Điểm cầu: %(names)s")
DIAL_IN = N_("Quay số vào hội nghị: %(number)s")
HELPDESK = N_("Hỗ trợ kỹ thuật: %(helpdesk)s")
# Statuses for which no reminder is sent ("pending": awaiting approval, issue 14 point 4).
NO_REMINDER_STATUSES = frozenset({"cancelled", "pending", "rejected"})


def reminders_allowed(meeting: Meeting) -> bool:
    """The one rule of who is reminded: never for a cancelled meeting or one still awaiting approval."""
    return str(getattr(meeting, "status", "planned")) not in NO_REMINDER_STATUSES


@dataclass(frozen=True)
class _Lines:
    locale: str
    lines: list[str]


def _body_lines(locale: str, meeting: Meeting, occ: Occurrence, rooms: list[str], mail: MailSettings) -> list[str]:
    zone = ZoneInfo(meeting.timezone)
    setup = occ.window_start.astimezone(zone)
    start = occ.start.astimezone(zone)
    lines = [
        translate(locale, LEAD),
        translate(locale, MEETING, title=one_line(meeting.title, 200)),
        translate(locale, SETUP_AT, when=f"{setup:%H:%M %d/%m/%Y} ({zone.key})"),
        translate(locale, STARTS_AT, when=f"{start:%H:%M} – {occ.end.astimezone(zone):%H:%M %d/%m/%Y}"),
        translate(locale, ROOMS, names=", ".join(one_line(r, 200) for r in rooms)),
    ]
    numbers = [one_line(x) for x in (meeting.dial_in_number, meeting.dial_in_uri, mail.dial_in) if x]
    if numbers:
        lines.append(translate(locale, DIAL_IN, number=" — ".join(numbers)))
    if mail.helpdesk:
        lines.append(translate(locale, HELPDESK, helpdesk=one_line(mail.helpdesk)))
    return lines


def build_reminder(mail: MailSettings, meeting: Meeting, occ: Occurrence, *, recipient: str, name: str,
                   rooms: list[str], now: datetime) -> EmailMessage:
    """Plain text and HTML (every user text escaped), Vietnamese first then English; no calendar part."""
    blocks = [_Lines(locale, _body_lines(locale, meeting, occ, rooms, mail)) for locale in LOCALES]
    msg = EmailMessage(policy=SMTP_POLICY)
    sender_local, _, sender_domain = mail.sender.partition("@")
    msg["From"] = Address(display_name=translate(DEFAULT_LOCALE, SENDER_NAME), username=sender_local,
                          domain=sender_domain)
    local, _, domain = recipient.partition("@")
    msg["To"] = Address(display_name=display_name(name), username=local, domain=domain)
    msg["Subject"] = subject_of(meeting, occ)
    msg["Date"] = format_datetime(now)
    msg["Message-ID"] = make_msgid(domain=sender_domain)
    msg["Auto-Submitted"] = "auto-generated"
    plain = "\n\n---\n\n".join("\n".join(b.lines) for b in blocks) + "\n"
    e = html.escape
    markup = (
        '<!DOCTYPE html>\n<html lang="vi"><head><meta charset="utf-8"><title>'
        f"{e(one_line(meeting.title, 200))}</title></head><body>\n"
        + "<hr>\n".join(
            f'<div lang="{b.locale}"><p>{e(b.lines[0])}</p><p>'
            + "<br>\n".join(e(line) for line in b.lines[1:]) + "</p></div>\n"
            for b in blocks)
        + "</body></html>\n"
    )
    msg.set_content(plain, subtype="plain", charset="utf-8", cte="quoted-printable")
    msg.add_alternative(markup, subtype="html", charset="utf-8", cte="quoted-printable")
    return msg


def subject_of(meeting: Meeting, occ: Occurrence) -> str:
    setup = occ.window_start.astimezone(ZoneInfo(meeting.timezone))
    return f"[{bilingual(SUBJECT)}] {setup:%H:%M %d/%m} {header_text(meeting.title, 160)}"


def _due(session: Session, lead: timedelta, now: datetime) -> list[Occurrence]:
    """Planned occurrences whose reminder moment (setup time − lead) has come and setup time has not."""
    latest_start = now + lead + timedelta(minutes=MAX_SETUP_MINUTES)
    rows = session.scalars(
        select(Occurrence).join(Meeting)
        .where(Occurrence.status == OccurrenceStatus.PLANNED, Occurrence.start > now,
               Occurrence.start <= latest_start)
        .order_by(Occurrence.start, Occurrence.id)
    )
    return [o for o in rows if o.window_start - lead <= now < o.window_start and reminders_allowed(o.meeting)]


def _rooms_of(meeting: Meeting, email: str) -> list[str]:
    key = email.lower()
    return [e.name for e in meeting.endpoints if (e.contact_email or "").strip().lower() == key]


def queue_in(session: Session, settings: Settings, now: datetime) -> int:
    """Queue every due reminder in *session* (the caller commits); returns how many were queued."""
    mail = settings.mail
    minutes = mail.contact_reminder_minutes
    if minutes <= 0 or not valid_email(mail.sender):
        return 0
    queued = 0
    for occ in _due(session, timedelta(minutes=minutes), now):
        meeting = occ.meeting
        done = set(session.scalars(select(ContactReminder.recipient)
                                   .where(ContactReminder.occurrence_id == occ.id)))
        for email, name in endpoint_contacts(meeting) + _attendee_contacts(meeting):
            key = email.lower()
            if key in done:
                continue
            done.add(key)
            msg = build_reminder(mail, meeting, occ, recipient=email, name=name,
                                 rooms=_rooms_of(meeting, email), now=now)
            row = OutboxMessage(
                meeting_id=meeting.id, occurrence_start=occ.original_start, recipient=email,
                recipient_name=one_line(name, 200), method=METHOD, kind=KIND, sequence=sequence_of(meeting),
                subject=subject_of(meeting, occ)[:300], message_id=str(msg["Message-ID"]), raw=msg.as_bytes(),
                status=OutboxStatus.QUEUED, attempts=0, next_attempt_at=now, created_at=now,
            )
            session.add(row)
            session.flush()
            session.add(ContactReminder(occurrence_id=occ.id, recipient=key, outbox_id=row.id, created_at=now))
            queued += 1
    session.flush()
    return queued


def _attendee_contacts(meeting: Meeting) -> list[tuple[str, str]]:
    """Contacts who are also attendees of the meeting are still reminded as the room's technician."""
    attendees = {a.email.strip().lower(): a.name for a in meeting.attendees}
    out: list[tuple[str, str]] = []
    seen: set[str] = set()
    for endpoint in meeting.endpoints:
        email = (endpoint.contact_email or "").strip()
        if valid_email(email) and email.lower() in attendees and email.lower() not in seen:
            seen.add(email.lower())
            out.append((email, endpoint.contact_name or attendees[email.lower()]))
    return out


def queue_due_reminders(session_factory: sessionmaker[Session], settings: Settings,
                        now: datetime | None = None) -> int:
    """One round of the reminder job (its own unit of work); 0 when another scheduler won the race."""
    now = now or clock.now()
    try:
        with unit_of_work(session_factory) as session:
            count = queue_in(session, settings, now)
    except IntegrityError:
        log.info("contact reminders: queued by another process meanwhile; nothing added")
        return 0
    if count:
        log.info("contact reminders: %d queued", count)
    return count
