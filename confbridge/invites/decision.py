"""The approval decision e-mailed to the meeting's organiser (and to whoever booked it for them).

A plain message (no calendar: the invitations themselves carry that), written in the recipient's own
language (``User.locale``), queued in the durable outbox in the decision's transaction like every mail.
"""

from __future__ import annotations

import html
import logging
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from confbridge import clock
from confbridge.auth.models import User
from confbridge.booking.models import Meeting
from confbridge.i18n import N_, normalise_locale, translate
from confbridge.invites.mail import SENDER_NAME, SMTP_POLICY, display_name, header_text
from confbridge.invites.models import OutboxMessage, OutboxStatus
from confbridge.settings import MailSettings
from confbridge.text import one_line, require_email

log = logging.getLogger(__name__)

SUBJECT = {
    "approved": N_("Lịch họp đã được phê duyệt"),
    "rejected": N_("Lịch họp bị từ chối"),
}
LEAD = {
    "approved": N_("Lịch họp «%(title)s» đã được %(who)s phê duyệt; giấy mời đã được gửi tới người tham dự."),
    "rejected": N_("Lịch họp «%(title)s» đã bị %(who)s từ chối. Các điểm cầu đã được giải phóng."),
}
WHEN = N_("Thời gian: %(when)s")
REASON = N_("Lý do: %(reason)s")


def recipients(meeting: Meeting) -> list[User]:
    """The organiser and, when someone else booked it, the booker (each once, with an address)."""
    people = [meeting.organiser] + ([meeting.booked_by] if meeting.booked_by is not None else [])
    out: list[User] = []
    for user in people:
        if user.email and user.id not in {u.id for u in out}:
            out.append(user)
    return out


def _body(kind: str, meeting: Meeting, approver: User | None, locale: str) -> tuple[str, str, str]:
    zone = ZoneInfo(meeting.timezone)
    title = one_line(meeting.title, 200)
    who = one_line(approver.display_name or approver.username, 200) if approver else "?"
    when = f"{meeting.start.astimezone(zone):%H:%M %d/%m/%Y} – {meeting.end.astimezone(zone):%H:%M} ({zone.key})"
    lines = [translate(locale, LEAD[kind], title=title, who=who), translate(locale, WHEN, when=when)]
    if kind == "rejected" and meeting.approval_reason:
        lines.append(translate(locale, REASON, reason=meeting.approval_reason))
    subject = f"[{translate(locale, SUBJECT[kind])}] {header_text(meeting.title, 160)}"
    e = html.escape
    markup = (f'<!DOCTYPE html>\n<html lang="{locale}"><head><meta charset="utf-8"><title>{e(title)}</title>'
              "</head><body>\n" + "".join(f"<p>{e(line)}</p>\n" for line in lines) + "</body></html>\n")
    return subject, "\n".join(lines) + "\n", markup


def enqueue_decision(session: Session, mail: MailSettings, meeting: Meeting, kind: str) -> list[OutboxMessage]:
    """Queue the ``approved`` / ``rejected`` notice to each recipient in the caller's unit of work."""
    now = clock.now()
    rows: list[OutboxMessage] = []
    for user in recipients(meeting):
        locale = normalise_locale(user.locale)
        subject, plain, markup = _body(kind, meeting, meeting.approval_by, locale)
        assert user.email is not None
        try:
            require_email(user.email)
            require_email(mail.sender)
        except ValueError as exc:
            log.warning("meeting %s: decision notice not queued: %s", meeting.id, exc)
            continue
        msg = EmailMessage(policy=SMTP_POLICY)
        local, _, domain = mail.sender.partition("@")
        msg["From"] = Address(display_name=translate(locale, SENDER_NAME), username=local, domain=domain)
        to_local, _, to_domain = user.email.partition("@")
        msg["To"] = Address(display_name=display_name(user.display_name), username=to_local, domain=to_domain)
        msg["Subject"] = subject
        msg["Date"] = format_datetime(now)
        msg["Message-ID"] = make_msgid(domain=domain)
        msg["Auto-Submitted"] = "auto-generated"
        msg["Content-Language"] = locale
        msg.set_content(plain, subtype="plain", charset="utf-8", cte="quoted-printable")
        msg.add_alternative(markup, subtype="html", charset="utf-8", cte="quoted-printable")
        row = OutboxMessage(
            meeting_id=meeting.id, occurrence_start=None, recipient=user.email,
            recipient_name=one_line(user.display_name, 200), method="NOTICE", kind=kind,
            sequence=meeting.sequence, subject=subject[:300], message_id=str(msg["Message-ID"]),
            raw=msg.as_bytes(), status=OutboxStatus.QUEUED, attempts=0, next_attempt_at=now, created_at=now,
        )
        session.add(row)
        rows.append(row)
    return rows
