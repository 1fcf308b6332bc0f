"""iMIP e-mail (RFC 6047): the calendar object travels as a text/calendar alternative whose ``method``
parameter matches its METHOD property, next to a plain-text and an HTML body (Vietnamese first, then
English), and once more as an ``invite.ics`` attachment for clients that only look at attachments.

Structure::

    multipart/mixed
      multipart/alternative
        text/plain; charset=utf-8
        text/html; charset=utf-8
        text/calendar; method=REQUEST; charset=utf-8   (base64: keeps the CRLF lines byte-exact)
      application/ics; name=invite.ics                  (attachment)

Headers go through ``email.headerregistry`` under the SMTP policy, and every user-supplied value is
flattened to one line first, so a title or a name can never add a header.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.header import Header
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any
from zoneinfo import ZoneInfo

from confbridge import clock
from confbridge.booking.models import Meeting, Occurrence
from confbridge.invites.ics import description_of, location_of
from confbridge.settings import MailSettings
from confbridge.text import one_line, require_email

# What the mail says it is: kind -> (Vietnamese, English) subject prefix.
SUBJECT_PREFIX = {
    "invitation": ("Mời họp", "Invitation"),
    "update": ("Cập nhật lịch họp", "Updated"),
    "occurrence_update": ("Thay đổi một buổi họp", "Occurrence changed"),
    "occurrence_cancel": ("Hủy một buổi họp", "Occurrence cancelled"),
    "cancel": ("Hủy họp", "Cancelled"),
    "removed": ("Bạn không còn trong danh sách mời", "You were removed from"),
}


_NOT_NAME = re.compile(r"[^\w .'-]")


def header_text(value: str, limit: int) -> str:
    """User text for an unstructured header (Subject): one line, and no "=?" so a reader never decodes
    an RFC 2047 encoded-word the user typed."""
    return one_line(value, limit).replace("=?", "= ?")


def display_name(value: str) -> str:
    """A recipient's display name reduced to letters (any script), digits, spaces and . ' -.

    Python's header folding of a long display name holding ';' or quotes can produce a To: header that
    readers parse as a *different address* (found by the fuzz test); names need no punctuation anyway.
    """
    return " ".join(_NOT_NAME.sub(" ", one_line(value)).split())[:64]


class _SubjectSafePolicy(policy.EmailPolicy):
    """policy.SMTP, except that a non-ASCII Subject is folded by ``email.header.Header``.

    The modern folder (CPython 3.11–3.13) may put the space between two words *outside* the encoded-words
    at a fold; RFC 2047 readers drop whitespace between adjacent encoded-words, so "Giao ban trực tuyến"
    arrived as "trựctuyến". ``Header`` keeps every space inside an encoded-word."""

    def _fold(self, name: str, value: Any, refold_binary: bool = False) -> str:
        if name.lower() == "subject" and not str(value).isascii():
            encoded = Header(str(value), "utf-8", header_name=name).encode(linesep=self.linesep)
            return f"{name}: {encoded}{self.linesep}"
        return super()._fold(name, value, refold_binary)  # type: ignore[misc]


SMTP_POLICY = _SubjectSafePolicy(linesep="\r\n")


@dataclass(frozen=True)
class MailContent:
    kind: str  # a key of SUBJECT_PREFIX
    method: str  # REQUEST | CANCEL
    ics: bytes


def _fmt(instant: datetime, zone: ZoneInfo) -> str:
    local = instant.astimezone(zone)
    return f"{local:%H:%M %d/%m/%Y} ({zone.key})"


def subject_for(kind: str, meeting: Meeting) -> str:
    vi, en = SUBJECT_PREFIX[kind]
    title = header_text(meeting.title, 160)
    return f"[{vi} / {en}] {title}"


def _when(meeting: Meeting, occurrence: Occurrence | None) -> tuple[str, str]:
    zone = ZoneInfo(meeting.timezone)
    if occurrence is not None:
        text = f"{_fmt(occurrence.start, zone)} – {occurrence.end.astimezone(zone):%H:%M}"
        return text, text
    # A series' first occurrence; the repetition in words is in the details block ("Lặp lại: …"), once.
    first = f"{_fmt(meeting.start, zone)} – {meeting.end.astimezone(zone):%H:%M}"
    return first, first


def _lead(kind: str) -> tuple[str, str]:
    return {
        "invitation": ("Kính mời tham dự hội nghị truyền hình:", "You are invited to a video conference:"),
        "update": ("Lịch họp đã thay đổi:", "The meeting has changed:"),
        "occurrence_update": ("Một buổi của lịch họp định kỳ đã thay đổi:",
                              "One occurrence of the series has changed:"),
        "occurrence_cancel": ("Một buổi của lịch họp định kỳ đã bị hủy:",
                              "One occurrence of the series has been cancelled:"),
        "cancel": ("Hội nghị đã bị hủy:", "The meeting has been cancelled:"),
        "removed": ("Bạn không còn trong danh sách mời của hội nghị:",
                    "You are no longer invited to the meeting:"),
    }[kind]


def bodies(kind: str, meeting: Meeting, mail: MailSettings,
           occurrence: Occurrence | None = None) -> tuple[str, str]:
    """(plain text, HTML): Vietnamese block first, English block second; HTML fully escaped."""
    title = one_line(meeting.title, 200)
    where = location_of(meeting)
    when_vi, when_en = _when(meeting, occurrence)
    lead_vi, lead_en = _lead(kind)
    details = description_of(meeting, mail)
    plain = "\n".join([
        lead_vi, f"  {title}", f"  Thời gian: {when_vi}", f"  Địa điểm: {where}", "",
        "---", "",
        lead_en, f"  {title}", f"  When: {when_en}", f"  Where: {where}", "",
        details, "",
        "Tệp lịch đính kèm (invite.ics) / The calendar file is attached (invite.ics).",
    ])
    e = html.escape
    details_html = "<br>\n".join(e(line) for line in details.split("\n"))
    markup = (
        '<!DOCTYPE html>\n<html lang="vi"><head><meta charset="utf-8"><title>'
        f"{e(title)}</title></head><body>\n"
        f'<div lang="vi"><p>{e(lead_vi)}</p><p><strong>{e(title)}</strong><br>\n'
        f"Thời gian: {e(when_vi)}<br>\nĐịa điểm: {e(where)}</p></div>\n<hr>\n"
        f'<div lang="en"><p>{e(lead_en)}</p><p><strong>{e(title)}</strong><br>\n'
        f"When: {e(when_en)}<br>\nWhere: {e(where)}</p></div>\n"
        f"<p>{details_html}</p>\n</body></html>\n"
    )
    return plain, markup


def build_message(
    mail: MailSettings, meeting: Meeting, content: MailContent, *, recipient: str, recipient_name: str,
    occurrence: Occurrence | None = None, now: datetime | None = None,
) -> EmailMessage:
    """One iMIP message to one recipient.  ValueError if the recipient is not a plain address."""
    require_email(recipient)
    require_email(mail.sender)
    msg = EmailMessage(policy=SMTP_POLICY)
    sender_local, _, sender_domain = mail.sender.partition("@")
    msg["From"] = Address(display_name="Hội nghị truyền hình", username=sender_local, domain=sender_domain)
    local, _, domain = recipient.partition("@")
    msg["To"] = Address(display_name=display_name(recipient_name), username=local, domain=domain)
    msg["Subject"] = subject_for(content.kind, meeting)
    msg["Date"] = format_datetime(now or clock.now())
    msg["Message-ID"] = make_msgid(domain=sender_domain)
    msg["Auto-Submitted"] = "auto-generated"
    plain, markup = bodies(content.kind, meeting, mail, occurrence)
    msg.set_content(plain, subtype="plain", charset="utf-8", cte="quoted-printable")
    msg.add_alternative(markup, subtype="html", charset="utf-8", cte="quoted-printable")
    msg.add_alternative(
        content.ics.decode("utf-8"), subtype="calendar", charset="utf-8", cte="base64",
        params={"method": content.method},
    )
    msg.add_attachment(content.ics, maintype="application", subtype="ics", filename="invite.ics")
    # Outlook recognises meeting requests by this header as well as by the text/calendar part.  Set last:
    # add_attachment() moves every Content-* header of the top level into the wrapped alternative part.
    msg["Content-Class"] = "urn:content-classes:calendarmessage"
    return msg
