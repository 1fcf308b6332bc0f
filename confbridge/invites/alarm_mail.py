"""Alarm e-mail with escalation (``[alerts]``), through the durable outbox.

One job, run every few seconds by the active scheduler (:func:`mail_alarms`), reads what must be said
from the tables — never from memory — so a restart or a second scheduler neither loses nor repeats a
mail:

- an alarm at or above ``min_severity`` is mailed to ``email`` once (stage ``raised``);
- if it is still open and nobody acknowledged it ``escalate_after_minutes`` after it was raised, it is
  mailed to ``escalate_email`` once (stage ``escalated``);
- when an alarm that was mailed is acknowledged (who, when) or cleared, everyone told is told that too
  (stages ``acknowledged`` and ``cleared``).

Each stage is an :class:`~confbridge.invites.alarm_mail_models.AlarmMail` row inserted in its own
savepoint; the unique (alarm, stage) constraint makes a concurrent second writer fail and send nothing.
The messages are bilingual (Vietnamese first, then English) because the addresses are mailboxes of a
duty desk, not users with a language; every text an alarm carries (endpoint and meeting names, reasons)
is one line in headers and HTML-escaped in the HTML body.
"""

from __future__ import annotations

import html
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from confbridge import clock
from confbridge.alarms.models import Alarm
from confbridge.auth.models import User
from confbridge.db import unit_of_work
from confbridge.i18n import DEFAULT_LOCALE, N_, bilingual, translate
from confbridge.invites.alarm_mail_models import AlarmMail
from confbridge.invites.mail import SENDER_NAME, SMTP_POLICY, header_text
from confbridge.invites.models import OutboxMessage, OutboxStatus
from confbridge.settings import ALARM_SEVERITIES, Settings
from confbridge.text import multi_line, one_line, require_email

log = logging.getLogger(__name__)
# Alarms raised longer ago than this (plus the escalation delay) are not mailed when first seen: the
# first run after an upgrade or a long outage does not flood the duty desk with history.
RAISE_LOOKBACK = timedelta(hours=1)
# An open, unacknowledged alarm is escalated if it was raised within this span.
ESCALATE_LOOKBACK = timedelta(hours=24)

SUBJECT = {
    "raised": N_("Cảnh báo hội nghị truyền hình"),
    "escalated": N_("Cảnh báo chưa ai xử lý"),
    "acknowledged": N_("Đã tiếp nhận cảnh báo"),
    "cleared": N_("Cảnh báo đã hết"),
}
LEAD = {
    "raised": N_("Hệ thống hội nghị truyền hình báo lỗi mức %(severity)s:"),
    "escalated": N_("Cảnh báo mức %(severity)s chưa được ai tiếp nhận sau %(minutes)s phút:"),
    "acknowledged": N_("%(who)s đã tiếp nhận cảnh báo lúc %(at)s:"),
    "cleared": N_("Cảnh báo đã hết lúc %(at)s:"),
}
RAISED_AT = N_("Thời điểm: %(at)s")
OPEN_CONSOLE = N_("Tiếp nhận trên trang Cảnh báo: %(url)s")
SEVERITY = {
    "critical": N_("nghiêm trọng"), "major": N_("cao"), "minor": N_("thấp"), "info": N_("thông tin"),
}


@dataclass
class AlarmMailReport:
    queued: dict[str, list[int]] = field(default_factory=dict)  # stage -> alarm ids

    def add(self, stage: str, alarm_id: int) -> None:
        self.queued.setdefault(stage, []).append(alarm_id)


def severities_from(minimum: str) -> list[str]:
    """The severities at or above *minimum*."""
    return list(ALARM_SEVERITIES[ALARM_SEVERITIES.index(minimum):])


def _fmt(instant: datetime, zone: ZoneInfo) -> str:
    return f"{instant.astimezone(zone):%H:%M:%S %d/%m/%Y} ({zone.key})"


def _subject(stage: str, alarm: Alarm) -> str:
    return f"[{bilingual(SUBJECT[stage])}] {header_text(alarm.text(DEFAULT_LOCALE), 200)}"


def _lead(locale: str, stage: str, alarm: Alarm, settings: Settings, who: str) -> str:
    zone = settings.zone
    severity = translate(locale, SEVERITY.get(alarm.severity, SEVERITY["major"]))
    when = alarm.acknowledged_at if stage == "acknowledged" else alarm.cleared_at
    return translate(locale, LEAD[stage], severity=severity, minutes=settings.alerts.escalate_after_minutes,
                     who=who, at=_fmt(when, zone) if when else "")


def bodies(stage: str, alarm: Alarm, settings: Settings, who: str = "") -> tuple[str, str]:
    """(plain text, HTML) for *stage* of *alarm*: Vietnamese block, then English; HTML escaped."""
    zone = settings.zone
    blocks_plain, blocks_html = [], []
    for locale in (DEFAULT_LOCALE, "en"):
        lead = _lead(locale, stage, alarm, settings, who)
        text = multi_line(alarm.text(locale), 2000)
        raised = translate(locale, RAISED_AT, at=_fmt(alarm.raised_at, zone))
        lines = [lead, f"  {text}", f"  {raised}"]
        link = translate(locale, OPEN_CONSOLE, url=settings.live.public_url or "/alarms")
        if stage in ("raised", "escalated"):
            lines.append(f"  {link}")
        blocks_plain.append("\n".join(lines))
        e = html.escape
        blocks_html.append(
            f'<div lang="{locale}"><p>{e(lead)}</p><p><strong>{e(text)}</strong><br>\n{e(raised)}'
            + (f"<br>\n{e(link)}" if stage in ("raised", "escalated") else "") + "</p></div>")
    plain = "\n\n---\n\n".join(blocks_plain) + "\n"
    title = html.escape(_subject(stage, alarm))
    markup = ('<!DOCTYPE html>\n<html lang="vi"><head><meta charset="utf-8"><title>'
              f"{title}</title></head><body>\n" + "\n<hr>\n".join(blocks_html) + "\n</body></html>\n")
    return plain, markup


def build_alarm_message(settings: Settings, alarm: Alarm, stage: str, recipient: str, now: datetime,
                        who: str = "") -> EmailMessage:
    """One alarm e-mail to one address (ValueError if either address is not plain)."""
    require_email(recipient)
    require_email(settings.mail.sender)
    msg = EmailMessage(policy=SMTP_POLICY)
    sender_local, _, sender_domain = settings.mail.sender.partition("@")
    msg["From"] = Address(display_name=translate(DEFAULT_LOCALE, SENDER_NAME), username=sender_local,
                          domain=sender_domain)
    local, _, domain = recipient.partition("@")
    msg["To"] = Address(username=local, domain=domain)
    msg["Subject"] = _subject(stage, alarm)
    msg["Date"] = format_datetime(now)
    msg["Message-ID"] = make_msgid(domain=sender_domain)
    msg["Auto-Submitted"] = "auto-generated"
    msg["X-Priority"] = "1" if alarm.severity == "critical" or stage == "escalated" else "3"
    plain, markup = bodies(stage, alarm, settings, who)
    msg.set_content(plain, subtype="plain", charset="utf-8", cte="quoted-printable")
    msg.add_alternative(markup, subtype="html", charset="utf-8", cte="quoted-printable")
    return msg


def _queue(session: Session, settings: Settings, alarm: Alarm, stage: str, recipients: list[str],
           now: datetime, report: AlarmMailReport, who: str = "") -> None:
    """Record the stage (once: a duplicate insert rolls back its savepoint) and queue one mail per
    recipient in the same transaction."""
    recipients = list(dict.fromkeys(recipients))
    if not recipients:
        return
    try:
        with session.begin_nested():
            session.add(AlarmMail(alarm_id=alarm.id, stage=stage, recipients=recipients, created_at=now))
            session.flush()
    except IntegrityError:
        return  # another scheduler recorded it first: it sends
    for recipient in recipients:
        try:
            msg = build_alarm_message(settings, alarm, stage, recipient, now, who)
        except ValueError as exc:
            log.warning("alarm %s: %s mail not queued: %s", alarm.id, stage, exc)
            continue
        session.add(OutboxMessage(
            meeting_id=None, occurrence_start=None, recipient=recipient, recipient_name="",
            method="ALARM", kind=f"alarm_{stage}", sequence=0, subject=str(msg["Subject"])[:300],
            message_id=str(msg["Message-ID"]), raw=msg.as_bytes(), status=OutboxStatus.QUEUED, attempts=0,
            next_attempt_at=now, created_at=now,
        ))
    report.add(stage, alarm.id)


def _without(stage: str) -> ColumnElement[bool]:
    return ~exists().where(and_(AlarmMail.alarm_id == Alarm.id, AlarmMail.stage == stage))


def queue_alarm_mails(session: Session, settings: Settings, now: datetime | None = None) -> AlarmMailReport:
    """Queue every alarm e-mail due at *now* in *session* (the caller commits)."""
    now = now or clock.now()
    alerts = settings.alerts
    report = AlarmMailReport()
    if not alerts.email and not alerts.escalate_email:
        return report
    severe = Alarm.severity.in_(severities_from(alerts.min_severity))
    escalate_after = timedelta(minutes=alerts.escalate_after_minutes)
    if alerts.email:
        fresh = session.scalars(select(Alarm).where(
            severe, Alarm.raised_at >= now - RAISE_LOOKBACK - escalate_after, _without("raised"),
        ).order_by(Alarm.id)).all()
        for alarm in fresh:
            _queue(session, settings, alarm, "raised", list(alerts.email), now, report)
    if alerts.escalate_email:
        overdue = session.scalars(select(Alarm).where(
            severe, Alarm.cleared_at.is_(None), Alarm.acknowledged_at.is_(None),
            Alarm.raised_at <= now - escalate_after, Alarm.raised_at >= now - ESCALATE_LOOKBACK,
            _without("escalated"),
        ).order_by(Alarm.id)).all()
        for alarm in overdue:
            _queue(session, settings, alarm, "escalated", list(alerts.escalate_email), now, report)
    _follow_ups(session, settings, now, report)
    return report


def _follow_ups(session: Session, settings: Settings, now: datetime, report: AlarmMailReport) -> None:
    """Tell everyone already mailed about an alarm that it was acknowledged, or cleared."""
    told = session.execute(
        select(Alarm, AlarmMail.recipients).join(AlarmMail, AlarmMail.alarm_id == Alarm.id)
        .where(AlarmMail.stage.in_(("raised", "escalated")), Alarm.raised_at >= now - ESCALATE_LOOKBACK,
               (Alarm.acknowledged_at.is_not(None)) | (Alarm.cleared_at.is_not(None)))
        .order_by(Alarm.id)
    ).all()
    recipients: dict[int, list[str]] = {}
    alarms: dict[int, Alarm] = {}
    for alarm, addresses in told:
        alarms[alarm.id] = alarm
        recipients.setdefault(alarm.id, []).extend(addresses or [])
    if not alarms:
        return
    done = {(a, s) for a, s in session.execute(
        select(AlarmMail.alarm_id, AlarmMail.stage).where(
            AlarmMail.alarm_id.in_(alarms), AlarmMail.stage.in_(("acknowledged", "cleared"))))}
    for alarm_id, alarm in alarms.items():
        if alarm.acknowledged_at is not None and (alarm_id, "acknowledged") not in done:
            who = session.get(User, alarm.acknowledged_by) if alarm.acknowledged_by else None
            name = one_line((who.display_name or who.username if who else None) or "?", 120)
            _queue(session, settings, alarm, "acknowledged", recipients[alarm_id], now, report, name)
        if alarm.cleared_at is not None and (alarm_id, "cleared") not in done:
            _queue(session, settings, alarm, "cleared", recipients[alarm_id], now, report)


def mail_alarms(session_factory: sessionmaker[Session], settings: Settings) -> AlarmMailReport:
    """The scheduler job: one unit of work queuing what is due now."""
    with unit_of_work(session_factory) as session:
        report = queue_alarm_mails(session, settings, clock.now())
    for stage, ids in report.queued.items():
        log.info("alarm mail: %s for alarm(s) %s", stage, ",".join(map(str, ids)))
    return report
