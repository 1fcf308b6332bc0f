"""The durable outbox: queued with the booking, nothing lost while SMTP is down, retries with capped
exponential backoff, permanent failures reported with an alarm, the offline folder transport."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from email import message_from_bytes, policy
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from confbridge import clock
from confbridge.alarms.models import Alarm
from confbridge.booking import service
from confbridge.booking.validation import MeetingInput
from confbridge.db import unit_of_work
from confbridge.invites.outbox import backoff, deliver_due
from confbridge.invites.worker import start_outbox_worker
from confbridge.settings import Settings
from tests.conftest import both_databases
from tests.fixtures.smtp import SMTPServer
from tests.integration.invites.conftest import ALICE, BINH, Booker
from tests.services import free_port

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
START = datetime(2026, 12, 7, 7, 30, tzinfo=HCM)
END = START + timedelta(hours=1)


def _smtp(settings: Settings, port: int, **more: object) -> Settings:
    return settings.with_overrides(**{"mail.host": "127.0.0.1", "mail.port": port, **more})


@both_databases
def test_smtp_down_then_up_loses_nothing(
    booker: Booker, settings: Settings, session_factory: sessionmaker[Session],
    frozen_clock: clock.FrozenClock, smtp_factory: object,
) -> None:
    port = free_port()  # nothing listens here yet: the server is "down"
    mail = _smtp(settings, port, **{"mail.retry_base_seconds": 60, "mail.retry_max_seconds": 300})
    mid = booker.create(START, END)
    booker.update(mid, title="Giao ban tuần (đổi giờ)")
    queued = booker.outbox(mid)
    assert len(queued) == 4 and {m.status for m in queued} == {"queued"}

    # Three rounds against a dead server: every message stays, attempts count up, backoff doubles to a cap.
    expected_delays = [60, 120, 240]
    for delay in expected_delays:
        report = deliver_due(session_factory, mail)
        assert len(report.retrying) == 4 and not report.sent and not report.failed
        rows = booker.outbox(mid)
        assert {r.status for r in rows} == {"queued"}
        assert all("unreachable" in (r.last_error or "") for r in rows)
        assert {r.next_attempt_at - clock.now() for r in rows} == {timedelta(seconds=delay)}
        # not due yet: nothing is attempted
        assert deliver_due(session_factory, mail).attempted == 0
        frozen_clock.advance(seconds=delay)
    assert backoff(mail.mail, 10) == timedelta(seconds=300)

    server: SMTPServer = smtp_factory(port)  # type: ignore[operator]
    report = deliver_due(session_factory, mail)
    assert len(report.sent) == 4
    assert sorted(r for m in server.messages for r in m.rcpt_tos) == sorted([ALICE[0], ALICE[0], BINH[0],
                                                                             BINH[0]])
    rows = booker.outbox(mid)
    assert {r.status for r in rows} == {"sent"} and all(r.attempts == 4 for r in rows)
    assert all(r.sent_at == clock.now() for r in rows)


def test_permanent_refusal_fails_with_reason_and_alarm(
    booker: Booker, settings: Settings, session_factory: sessionmaker[Session],
    frozen_clock: clock.FrozenClock, smtp_server: SMTPServer,
) -> None:
    smtp_server.sink.refuse[BINH[0]] = "550 5.1.1 mailbox unavailable"
    mid = booker.create(START, END)
    report = deliver_due(session_factory, _smtp(settings, smtp_server.port))
    assert len(report.sent) == 1 and len(report.failed) == 1
    by_rcpt = {m.recipient: m for m in booker.outbox(mid)}
    assert by_rcpt[ALICE[0]].status == "sent"
    failed = by_rcpt[BINH[0]]
    assert failed.status == "failed" and "550" in (failed.last_error or "")
    with session_factory() as s:
        (alarm,) = s.scalars(select(Alarm).where(Alarm.kind == "mail_failed"))
        assert alarm.meeting_id == mid and BINH[0] in alarm.message


def test_gives_up_after_max_attempts_with_alarm(
    booker: Booker, settings: Settings, session_factory: sessionmaker[Session],
    frozen_clock: clock.FrozenClock,
) -> None:
    mail = _smtp(settings, free_port(), **{"mail.max_attempts": 3, "mail.retry_base_seconds": 1})
    mid = booker.create(START, END, attendees=[ALICE])
    outcomes = []
    for _ in range(3):
        report = deliver_due(session_factory, mail)
        outcomes.append((len(report.retrying), len(report.failed)))
        frozen_clock.advance(hours=1)
    assert outcomes == [(1, 0), (1, 0), (0, 1)]
    (row,) = booker.outbox(mid)
    assert row.status == "failed" and row.attempts == 3 and "unreachable" in (row.last_error or "")
    assert deliver_due(session_factory, mail).attempted == 0  # failed rows are not retried
    with session_factory() as s:
        assert s.scalar(select(Alarm).where(Alarm.kind == "mail_failed", Alarm.meeting_id == mid))


def test_rolled_back_booking_queues_nothing(
    booker: Booker, session_factory: sessionmaker[Session], settings: Settings, frozen_clock: object,
) -> None:
    """The outbox rows live in the booking's transaction: if it rolls back after the hooks ran (a later
    step of the same request failed), no mail is left behind."""
    from confbridge.auth.models import User
    from confbridge.invites.models import OutboxMessage

    class LaterStepFailed(Exception):
        pass

    with pytest.raises(LaterStepFailed), unit_of_work(session_factory) as s:
        actor = s.get(User, booker.actor_id)
        assert actor is not None
        service.create_meeting(s, settings, actor, MeetingInput(
            title="Họp", start=START, end=END, endpoint_ids=booker.endpoint_ids, attendees=[ALICE],
        ))
        s.flush()
        assert s.scalar(select(OutboxMessage.id)) is not None  # queued inside the transaction
        raise LaterStepFailed
    assert booker.outbox() == []
    assert deliver_due(session_factory, settings).attempted == 0


def test_folder_transport_writes_eml_files(
    booker: Booker, settings: Settings, session_factory: sessionmaker[Session], frozen_clock: object,
) -> None:
    """The embedded default (no SMTP host) writes each message as an .eml file that mail tools open."""
    mid = booker.create(START, END)
    report = deliver_due(session_factory, settings)
    assert len(report.sent) == 2
    files = sorted(settings.path(settings.mail.outbox_dir).glob("*.eml"))
    assert len(files) == 2
    recipients = set()
    for path in files:
        msg = message_from_bytes(path.read_bytes(), policy=policy.default)
        recipients.add(msg["To"].addresses[0].addr_spec)
        assert any(p.get_content_type() == "text/calendar" for p in msg.walk())
    assert recipients == {ALICE[0], BINH[0]}
    assert {r.status for r in booker.outbox(mid)} == {"sent"}


def test_worker_thread_delivers_and_stops(
    booker: Booker, settings: Settings, session_factory: sessionmaker[Session], smtp_server: SMTPServer,
) -> None:
    """The background worker sends what bookings queued, without anyone calling it (bounded wait)."""
    mail = _smtp(settings, smtp_server.port, **{"mail.poll_seconds": 0.05})
    booker.create(START, END)
    thread, stop = start_outbox_worker(mail, session_factory=session_factory)
    try:
        done = threading.Event()
        for _ in range(200):
            if len(smtp_server.messages) == 2:
                done.set()
                break
            stop.wait(0.05)
        assert done.is_set(), "worker did not deliver within 10 s"
    finally:
        stop.set()
        thread.join(10)
    assert not thread.is_alive()
