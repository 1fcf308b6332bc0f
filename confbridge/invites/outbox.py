"""The durable outbox: queue in the booking's transaction, deliver later from a worker.

``enqueue`` adds a finished message to the caller's session, so it commits or rolls back with the
booking change that caused it; a web request never talks to SMTP.  ``deliver_due`` (called by the worker
or ``confbridge mail send-pending``) claims due messages in one short transaction, sends them with no
transaction open, then records each outcome:

- sent → ``sent`` with ``sent_at``;
- a temporary problem (server down, 4xx, timeout, missing password) → back to ``queued`` with
  ``last_error`` and ``next_attempt_at`` pushed out exponentially (capped), until ``mail.max_attempts``;
- a permanent refusal (5xx for this recipient) or too many attempts → ``failed`` with the reason and a
  ``mail_failed`` alarm for the meeting.

A claim is a lease: a row in ``sending`` whose ``next_attempt_at`` passed (its worker died) is claimed
again.  Delivery is therefore at-least-once; a crash between the SMTP "250 OK" and our commit can send a
mail twice, which calendars absorb (same UID and SEQUENCE), whereas losing it would not be absorbed.
"""

from __future__ import annotations

import logging
import os
import smtplib
import ssl
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from confbridge import clock
from confbridge.alarms.service import raise_alarm
from confbridge.booking.models import Meeting, Occurrence
from confbridge.db import unit_of_work
from confbridge.files import private_dir, write_private
from confbridge.invites.mail import MailContent, build_message, subject_for
from confbridge.invites.models import OutboxMessage, OutboxStatus
from confbridge.settings import MailSettings, Settings
from confbridge.text import one_line

log = logging.getLogger(__name__)
LEASE = timedelta(minutes=5)


# ---- queueing ------------------------------------------------------------------------------------------
def enqueue(
    session: Session, mail: MailSettings, meeting: Meeting, content: MailContent, *, recipient: str,
    recipient_name: str, sequence: int, occurrence: Occurrence | None = None,
) -> OutboxMessage | None:
    """Add one message to the caller's unit of work; None (logged) if the address is unusable."""
    now = clock.now()
    try:
        msg = build_message(mail, meeting, content, recipient=recipient, recipient_name=recipient_name,
                            occurrence=occurrence, now=now)
    except ValueError as exc:
        log.warning("meeting %s: invitation not queued: %s", meeting.id, exc)
        return None
    row = OutboxMessage(
        meeting_id=meeting.id, occurrence_start=occurrence.original_start if occurrence else None,
        recipient=recipient, recipient_name=one_line(recipient_name, 200), method=content.method,
        kind=content.kind, sequence=sequence, subject=subject_for(content.kind, meeting)[:300],
        message_id=str(msg["Message-ID"]), raw=msg.as_bytes(), status=OutboxStatus.QUEUED, attempts=0,
        next_attempt_at=now, created_at=now,
    )
    session.add(row)
    return row


def messages_for(session: Session, meeting_id: int) -> list[OutboxMessage]:
    return list(session.scalars(
        select(OutboxMessage).where(OutboxMessage.meeting_id == meeting_id).order_by(OutboxMessage.id)
    ))


# ---- transports ----------------------------------------------------------------------------------------
class TemporaryFailure(Exception):
    """Worth retrying later."""


class Unreachable(TemporaryFailure):
    """The server itself cannot be used now (down, login refused, no password): stop this batch."""


class PermanentFailure(Exception):
    """The server refused this message for good (5xx)."""


class Transport:
    def send(self, sender: str, recipient: str, raw: bytes, name: str) -> None:
        raise NotImplementedError

    def close(self) -> None:
        return None


class FolderTransport(Transport):
    """The embedded default: each message becomes an .eml file (written atomically)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def send(self, sender: str, recipient: str, raw: bytes, name: str) -> None:
        try:
            private_dir(self.folder)
            write_private(self.folder / f"{name}.eml", raw)  # 0600: addresses and PINs
        except OSError as exc:
            raise TemporaryFailure(f"cannot write {self.folder}: {exc.strerror}") from None


class SMTPTransport(Transport):
    """One SMTP connection per batch, opened on first use; STARTTLS and login when configured."""

    def __init__(self, mail: MailSettings) -> None:
        self.mail = mail
        self._smtp: smtplib.SMTP | None = None

    def _password(self) -> str:
        name = self.mail.password_env
        if not name:
            return ""
        value = os.environ.get(name)
        if value is None:
            raise Unreachable(f"mail.password_env: environment variable {name} is not set")
        return value

    def _connect(self) -> smtplib.SMTP:
        if self._smtp is not None:
            return self._smtp
        mail = self.mail
        try:
            context = ssl.create_default_context(cafile=mail.ca_file)
            smtp: smtplib.SMTP
            if mail.tls_mode == "implicit":
                smtp = smtplib.SMTP_SSL(mail.host, mail.port, timeout=mail.timeout_seconds, context=context)
            else:
                smtp = smtplib.SMTP(mail.host, mail.port, timeout=mail.timeout_seconds)
            smtp.ehlo()
            if mail.tls_mode == "starttls":
                smtp.starttls(context=context)
                smtp.ehlo()
            if mail.username:
                smtp.login(mail.username, self._password())
        except smtplib.SMTPAuthenticationError as exc:
            raise Unreachable(f"SMTP login refused ({exc.smtp_code})") from None
        except (OSError, smtplib.SMTPException) as exc:
            raise Unreachable(f"SMTP {mail.host}:{mail.port} unreachable: {exc}") from None
        self._smtp = smtp
        return smtp

    def send(self, sender: str, recipient: str, raw: bytes, name: str) -> None:
        smtp = self._connect()
        try:
            smtp.sendmail(sender, [recipient], raw)
        except smtplib.SMTPRecipientsRefused as exc:
            code, text = next(iter(exc.recipients.values()))
            reason = f"recipient refused: {code} {_text(text)}"
            raise (PermanentFailure(reason) if code >= 500 else TemporaryFailure(reason)) from None
        except smtplib.SMTPResponseException as exc:
            reason = f"SMTP {exc.smtp_code} {_text(exc.smtp_error)}"
            raise (PermanentFailure(reason) if exc.smtp_code >= 500 else TemporaryFailure(reason)) from None
        except (OSError, smtplib.SMTPException) as exc:
            self.close()
            raise TemporaryFailure(f"SMTP connection lost: {exc}") from None

    def close(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (OSError, smtplib.SMTPException):
                pass
            self._smtp = None


def _text(value: bytes | str) -> str:
    return one_line(value.decode("utf-8", "replace") if isinstance(value, bytes) else value, 200)


def make_transport(settings: Settings) -> Transport:
    if settings.mail.host:
        return SMTPTransport(settings.mail)
    return FolderTransport(settings.path(settings.mail.outbox_dir))


# ---- delivery ------------------------------------------------------------------------------------------
@dataclass
class DeliveryReport:
    sent: list[int] = field(default_factory=list)
    retrying: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)

    @property
    def attempted(self) -> int:
        return len(self.sent) + len(self.retrying) + len(self.failed)


@dataclass(frozen=True)
class _Claim:
    id: int
    meeting_id: int | None
    recipient: str
    raw: bytes
    attempts: int
    method: str


def backoff(mail: MailSettings, attempts: int) -> timedelta:
    """Delay before the next try after *attempts* failed ones: base · 2^(n-1), capped."""
    seconds = mail.retry_base_seconds * (2 ** max(attempts - 1, 0))
    return timedelta(seconds=min(seconds, mail.retry_max_seconds))


def _claim(factory: sessionmaker[Session], now: datetime, limit: int) -> list[_Claim]:
    with unit_of_work(factory) as session:
        query = (
            select(OutboxMessage)
            .where(OutboxMessage.status.in_([OutboxStatus.QUEUED, OutboxStatus.SENDING]),
                   OutboxMessage.next_attempt_at <= now)
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
            .limit(limit)
        )
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)  # two workers never claim the same row
        claims = []
        for row in session.scalars(query):
            row.status = OutboxStatus.SENDING
            row.attempts += 1
            row.next_attempt_at = now + LEASE
            claims.append(_Claim(row.id, row.meeting_id, row.recipient, row.raw, row.attempts, row.method))
        return claims


def _record(
    factory: sessionmaker[Session], settings: Settings, claim: _Claim, now: datetime,
    error: Exception | None, report: DeliveryReport,
) -> None:
    mail = settings.mail
    with unit_of_work(factory) as session:
        row = session.get(OutboxMessage, claim.id)
        if row is None:  # the meeting was deleted meanwhile
            return
        if error is None:
            row.status = OutboxStatus.SENT
            row.sent_at = now
            row.last_error = None
            report.sent.append(row.id)
            return
        row.last_error = str(error)[:2000]
        if isinstance(error, PermanentFailure) or row.attempts >= mail.max_attempts:
            row.status = OutboxStatus.FAILED
            report.failed.append(row.id)
            raise_alarm(
                session, "mail_failed", f"mail_failed:meeting:{row.meeting_id}", "alarm.mail_failed",
                {"recipient": row.recipient, "error": row.last_error},
                severity="minor", meeting_id=row.meeting_id, outbox_id=row.id, recipient=row.recipient,
            )
            log.warning("outbox %s to %s failed for good after %s attempt(s): %s",
                        row.id, row.recipient, row.attempts, row.last_error)
        else:
            row.status = OutboxStatus.QUEUED
            row.next_attempt_at = now + backoff(mail, row.attempts)
            report.retrying.append(row.id)
            log.info("outbox %s to %s: attempt %s failed (%s); next try at %s",
                     row.id, row.recipient, row.attempts, row.last_error, row.next_attempt_at.isoformat())


def deliver_due(
    session_factory: sessionmaker[Session], settings: Settings, now: datetime | None = None, *,
    limit: int = 100, transport: Transport | None = None,
) -> DeliveryReport:
    """Send every message due at *now* (default ``clock.now()``); returns what happened to each."""
    now = now or clock.now()
    report = DeliveryReport()
    claims = _claim(session_factory, now, limit)
    if not claims:
        return report
    transport = transport or make_transport(settings)
    broken: Unreachable | None = None  # once the server is unreachable, don't try every message
    try:
        for claim in claims:
            error: Exception | None = broken
            if broken is None:
                try:
                    transport.send(settings.mail.sender, claim.recipient, claim.raw,
                                   f"{claim.id:08d}-{claim.method.lower()}")
                except Unreachable as exc:
                    error = broken = exc
                except (TemporaryFailure, PermanentFailure) as exc:
                    error = exc
            _record(session_factory, settings, claim, now, error, report)
    finally:
        transport.close()
    return report


def parse_raw(raw: bytes) -> EmailMessage:
    """A stored message as an EmailMessage (tests, the CLI)."""
    from email import message_from_bytes, policy

    msg = message_from_bytes(raw, policy=policy.default)
    assert isinstance(msg, EmailMessage)
    return msg
