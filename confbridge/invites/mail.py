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
from confbridge.i18n import DEFAULT_LOCALE, N_, bilingual, translate
from confbridge.invites.ics import description_of, location_of
from confbridge.settings import MailSettings
from confbridge.text import one_line, require_email

# What the mail says it is: kind -> subject prefix (shown in Vietnamese and English).
SUBJECT_PREFIX = {
    "invitation": N_("Mời họp"),
    "update": N_("Cập nhật lịch họp"),
    "occurrence_update": N_("Thay đổi một buổi họp"),
    "occurrence_cancel": N_("Hủy một buổi họp"),
    "cancel": N_("Hủy họp"),
    "removed": N_("Bạn không còn trong danh sách mời"),
}
# The first line of the body, per kind.
LEAD = {
    "invitation": N_("Kính mời tham dự hội nghị truyền hình:"),
    "update": N_("Lịch họp đã thay đổi:"),
    "occurrence_update": N_("Một buổi của lịch họp định kỳ đã thay đổi:"),
    "occurrence_cancel": N_("Một buổi của lịch họp định kỳ đã bị hủy:"),
    "cancel": N_("Hội nghị đã bị hủy:"),
    "removed": N_("Bạn không còn trong danh sách mời của hội nghị:"),
}
WHEN, WHERE = N_("Thời gian: %(when)s"), N_("Địa điểm: %(where)s")
ATTACHED = N_("Tệp lịch đính kèm (invite.ics)")
SENDER_NAME = N_("Hội nghị truyền hình")


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
    title = header_text(meeting.title, 160)
    return f"[{bilingual(SUBJECT_PREFIX[kind])}] {title}"


def _when(meeting: Meeting, occurrence: Occurrence | None) -> tuple[str, str]:
    zone = ZoneInfo(meeting.timezone)
    if occurrence is not None:
        text = f"{_fmt(occurrence.start, zone)} – {occurrence.end.astimezone(zone):%H:%M}"
        return text, text
    # A series' first occurrence; the repetition in words is in the details block ("Lặp lại: …"), once.
    first = f"{_fmt(meeting.start, zone)} – {meeting.end.astimezone(zone):%H:%M}"
    return first, first


def bodies(kind: str, meeting: Meeting, mail: MailSettings,
           occurrence: Occurrence | None = None) -> tuple[str, str]:
    """(plain text, HTML): Vietnamese block first, English block second; HTML fully escaped."""
    title = one_line(meeting.title, 200)
    where = location_of(meeting)
    when_vi, when_en = _when(meeting, occurrence)
    vi, en = DEFAULT_LOCALE, "en"
    lead_vi, lead_en = translate(vi, LEAD[kind]), translate(en, LEAD[kind])
    when_line_vi, when_line_en = translate(vi, WHEN, when=when_vi), translate(en, WHEN, when=when_en)
    where_line_vi, where_line_en = translate(vi, WHERE, where=where), translate(en, WHERE, where=where)
    details = description_of(meeting, mail)
    plain = "\n".join([
        lead_vi, f"  {title}", f"  {when_line_vi}", f"  {where_line_vi}", "",
        "---", "",
        lead_en, f"  {title}", f"  {when_line_en}", f"  {where_line_en}", "",
        details, "",
        f"{bilingual(ATTACHED)}.",
    ])
    e = html.escape
    details_html = "<br>\n".join(e(line) for line in details.split("\n"))
    markup = (
        '<!DOCTYPE html>\n<html lang="vi"><head><meta charset="utf-8"><title>'
        f"{e(title)}</title></head><body>\n"
        f'<div lang="vi"><p>{e(lead_vi)}</p><p><strong>{e(title)}</strong><br>\n'
        f"{e(when_line_vi)}<br>\n{e(where_line_vi)}</p></div>\n<hr>\n"
        f'<div lang="en"><p>{e(lead_en)}</p><p><strong>{e(title)}</strong><br>\n'
        f"{e(when_line_en)}<br>\n{e(where_line_en)}</p></div>\n"
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
    msg["From"] = Address(display_name=translate(DEFAULT_LOCALE, SENDER_NAME), username=sender_local,
                          domain=sender_domain)
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
