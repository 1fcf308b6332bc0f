"""Alarm e-mail with escalation ([alerts]) at a real SMTP server (aiosmtpd), with a stepped clock.

An alarm at or above ``min_severity`` is mailed once to ``email``; unacknowledged after
``escalate_after_minutes`` it goes once to ``escalate_email``; acknowledging in time stops the
escalation; acknowledgement and clearing are recorded and told to everyone mailed.  Running the job
again — a restart, a second scheduler — sends nothing twice.  Untrusted names stay one line in the
subject and are escaped in the HTML body.
"""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from confbridge import clock
from confbridge.alarms.service import acknowledge, clear_alarm, raise_alarm
from confbridge.db import unit_of_work
from confbridge.invites.alarm_mail import mail_alarms
from confbridge.invites.alarm_mail_models import AlarmMail
from confbridge.invites.outbox import deliver_due
from confbridge.settings import Settings
from tests.conftest import both_databases
from tests.fixtures.smtp import Received, SMTPServer

DUTY, BOSS = "truc-ban@stttt.example", "pho-giam-doc@stttt.example"
NASTY_ENDPOINT = "UBND huyện <script>alert(1)</script>\r\nBcc: spy@evil.example"


@pytest.fixture
def alert_settings(settings: Settings, smtp_server: SMTPServer) -> Settings:
    return settings.with_overrides(**{
        "mail.host": "127.0.0.1", "mail.port": smtp_server.port, "mail.sender": "confbridge@stttt.example",
        "alerts.email": [DUTY], "alerts.escalate_email": [BOSS], "alerts.escalate_after_minutes": 10,
    })


def _raise(factory: sessionmaker[Session], key: str, *, severity: str = "major",
           endpoint: str = "UBND huyện Phú Quốc") -> int:
    with unit_of_work(factory) as s:
        alarm = raise_alarm(s, "dial_failed", key, "alarm.dial_failed",
                            {"endpoint": endpoint, "meeting": "Giao ban sáng thứ Hai", "attempts": 3,
                             "reason": {"code": "reason.busy"}}, severity=severity)
        return alarm.id


def _run(factory: sessionmaker[Session], settings: Settings) -> None:
    mail_alarms(factory, settings)
    deliver_due(factory, settings)


def _subjects(messages: list[Received]) -> list[str]:
    return [str(m.message["Subject"]) for m in messages]


@both_databases
def test_mailed_once_then_escalated_once_when_nobody_acknowledges(
    alert_settings: Settings, session_factory: sessionmaker[Session], frozen_clock: clock.FrozenClock,
    smtp_server: SMTPServer,
) -> None:
    alarm_id = _raise(session_factory, "dial_failed:run=1:endpoint=1", endpoint=NASTY_ENDPOINT)
    _raise(session_factory, "minor:1", severity="minor")  # below min_severity: never mailed
    _run(session_factory, alert_settings)
    (first,) = smtp_server.sink.to(DUTY)
    assert smtp_server.sink.to(BOSS) == []
    subject = str(first.message["Subject"])
    assert subject.startswith("[Cảnh báo hội nghị truyền hình / Video-conference alarm] Không gọi được UBND huyện")
    assert "\n" not in subject and first.message["Bcc"] is None and "spy@evil.example" not in first.rcpt_tos
    html_part = first.message.get_body(("html",))
    plain_part = first.message.get_body(("plain",))
    assert html_part is not None and plain_part is not None
    markup, plain = html_part.get_content(), plain_part.get_content()
    assert "<script>" not in markup and "&lt;script&gt;alert(1)&lt;/script&gt;" in markup
    assert "sau 3 lần: máy bận" in plain  # Vietnamese first…
    assert "after 3 attempts: busy" in plain  # …then English

    # nine minutes later, again and again (restarts, a second scheduler): nothing new is sent
    frozen_clock.advance(minutes=9)
    for _ in range(3):
        _run(session_factory, alert_settings)
    assert len(smtp_server.messages) == 1

    frozen_clock.advance(minutes=1, seconds=1)
    _run(session_factory, alert_settings)
    (escalated,) = smtp_server.sink.to(BOSS)
    assert str(escalated.message["Subject"]).startswith("[Cảnh báo chưa ai xử lý / Alarm not acknowledged]")
    assert "sau 10 phút" in escalated.message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    frozen_clock.advance(minutes=30)
    _run(session_factory, alert_settings)
    assert len(smtp_server.sink.to(BOSS)) == 1 and len(smtp_server.sink.to(DUTY)) == 1

    # clearing is recorded and told to both lists
    with unit_of_work(session_factory) as s:
        clear_alarm(s, "dial_failed:run=1:endpoint=1")
    _run(session_factory, alert_settings)
    assert _subjects(smtp_server.sink.to(BOSS))[-1].startswith("[Cảnh báo đã hết / Alarm cleared]")
    assert _subjects(smtp_server.sink.to(DUTY))[-1].startswith("[Cảnh báo đã hết / Alarm cleared]")
    with session_factory() as s:
        stages = sorted(s.scalars(select(AlarmMail.stage).where(AlarmMail.alarm_id == alarm_id)))
    assert stages == ["cleared", "escalated", "raised"]


@both_databases
def test_acknowledged_in_time_is_not_escalated(
    alert_settings: Settings, session_factory: sessionmaker[Session], frozen_clock: clock.FrozenClock,
    smtp_server: SMTPServer, make_user: Any,
) -> None:
    tech = make_user("technician", "kythuat")
    alarm_id = _raise(session_factory, "dial_failed:run=2:endpoint=1", severity="critical")
    _run(session_factory, alert_settings)
    assert len(smtp_server.sink.to(DUTY)) == 1
    frozen_clock.advance(minutes=4)
    with unit_of_work(session_factory) as s:
        acknowledge(s, alarm_id, tech.id)
    frozen_clock.advance(minutes=20)
    _run(session_factory, alert_settings)
    assert smtp_server.sink.to(BOSS) == []
    subjects = _subjects(smtp_server.sink.to(DUTY))
    assert len(subjects) == 2 and subjects[1].startswith("[Đã tiếp nhận cảnh báo / Alarm acknowledged]")
    body = smtp_server.sink.to(DUTY)[1].message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "kythuat đã tiếp nhận cảnh báo lúc" in body and "kythuat acknowledged the alarm at" in body


@both_databases
def test_two_schedulers_at_once_queue_each_mail_once(
    alert_settings: Settings, session_factory: sessionmaker[Session], frozen_clock: clock.FrozenClock,
    smtp_server: SMTPServer,
) -> None:
    for n in range(5):
        _raise(session_factory, f"dial_failed:run=3:endpoint={n}")
    errors: list[BaseException] = []

    def job() -> None:
        try:
            with clock.use_clock(frozen_clock):
                mail_alarms(session_factory, alert_settings)
        except BaseException as exc:  # a lost race may fail the whole unit of work; never duplicate
            errors.append(exc)

    threads = [threading.Thread(target=job) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    mail_alarms(session_factory, alert_settings)  # whatever a failed run left, the next tick queues
    deliver_due(session_factory, alert_settings)
    assert len(smtp_server.sink.to(DUTY)) == 5, errors


def test_nothing_is_mailed_without_addresses_and_old_alarms_are_not_replayed(
    settings: Settings, session_factory: sessionmaker[Session], frozen_clock: clock.FrozenClock,
    smtp_server: SMTPServer,
) -> None:
    quiet = settings.with_overrides(**{"mail.host": "127.0.0.1", "mail.port": smtp_server.port})
    _raise(session_factory, "old", severity="critical")
    _run(session_factory, quiet)
    assert smtp_server.messages == []
    # turned on two days later: the old alarm is history, not news
    frozen_clock.advance(timedelta(days=2))
    loud = quiet.with_overrides(**{"alerts.email": [DUTY], "alerts.escalate_email": [BOSS]})
    _run(session_factory, loud)
    assert smtp_server.messages == []
