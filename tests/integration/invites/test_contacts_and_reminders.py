"""Issue 14 point 6: the contacts of the booked endpoints (each room's technician) get the invitation as
optional attendees (ROLE=OPT-PARTICIPANT) with its updates and cancellations, and a reminder e-mail
``[mail] contact_reminder_minutes`` before the setup time of each occurrence, through the outbox, at a
real SMTP server (aiosmtpd), with a stepped clock: once per occurrence and contact (also after a
"restart" and with two schedulers racing), never for a cancelled occurrence nor a pending meeting."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from confbridge import clock
from confbridge.booking.models import Meeting
from confbridge.db import make_engine, make_session_factory, unit_of_work
from confbridge.directory import service as directory
from confbridge.invites.outbox import deliver_due
from confbridge.invites.reminder_models import ContactReminder
from confbridge.invites.reminders import queue_due_reminders
from confbridge.settings import Settings
from tests.conftest import both_databases
from tests.fixtures.smtp import SMTPServer
from tests.integration.invites.conftest import ALICE, Booker, calendar_part

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
START = datetime(2026, 12, 7, 7, 30, tzinfo=HCM)  # Monday; setup 15 min → 07:15, reminder 06:15
END = START + timedelta(hours=1)
TECH_1 = ("kt.phuquoc@ubnd.example", "Phạm Kỹ Thuật")
TECH_2 = ("kt.tinh@ubnd.example", "Võ <b>Tỉnh</b>")


def _with_contacts(factory: sessionmaker[Session], endpoint_ids: list[int]) -> None:
    with unit_of_work(factory) as s:
        directory.update_endpoint(s, directory.get_endpoint(s, endpoint_ids[0]), {
            "contact_name": TECH_2[1], "contact_email": TECH_2[0], "contact_phone": "+84 297 3862 000"}, None)
        directory.update_endpoint(s, directory.get_endpoint(s, endpoint_ids[1]), {
            "contact_name": TECH_1[1], "contact_email": TECH_1[0]}, None)


def _smtp(settings: Settings, server: SMTPServer) -> Settings:
    return settings.with_overrides(**{"mail.host": server.host, "mail.port": server.port,
                                      "mail.helpdesk": "0297 3862 111 (Sở TT&TT)",
                                      "booking.dial_in_range": "7000-7999"})


def _attendee_roles(raw: bytes) -> dict[str, str]:
    cal = Calendar.from_ical(raw)
    [event] = [e for e in cal.walk("VEVENT")]
    attendees = event.get("attendee")
    attendees = attendees if isinstance(attendees, list) else [attendees]
    return {str(a).removeprefix("mailto:"): str(a.params["ROLE"]) for a in attendees}


@both_databases
def test_contacts_are_optional_attendees_of_invitations_updates_and_cancellations(
    booker: Booker, settings: Settings, session_factory: sessionmaker[Session], smtp_server: SMTPServer,
) -> None:
    _with_contacts(session_factory, booker.endpoint_ids)
    mail = _smtp(settings, smtp_server)
    mid = booker.create(START, END, rrule="FREQ=WEEKLY;COUNT=2")
    deliver_due(session_factory, mail)
    [invitation] = smtp_server.sink.to(TECH_1[0])
    raw, method = calendar_part(invitation.message)
    assert method == "REQUEST"
    roles = _attendee_roles(raw)
    assert roles[TECH_1[0]] == roles[TECH_2[0]] == "OPT-PARTICIPANT"
    assert roles[ALICE[0]] == "REQ-PARTICIPANT"
    # Dropping the district room: its technician is told the meeting is off for them; the other gets the update.
    booker.update(mid, endpoint_ids=[booker.endpoint_ids[0], booker.endpoint_ids[2]])
    deliver_due(session_factory, mail)
    removed = smtp_server.sink.to(TECH_1[0])[-1]
    assert calendar_part(removed.message)[1] == "CANCEL"
    update_mail = smtp_server.sink.to(TECH_2[0])[-1]
    assert calendar_part(update_mail.message)[1] == "REQUEST"
    assert TECH_1[0] not in _attendee_roles(calendar_part(update_mail.message)[0])
    booker.cancel(mid)
    deliver_due(session_factory, mail)
    assert calendar_part(smtp_server.sink.to(TECH_2[0])[-1].message)[1] == "CANCEL"


def _reminders(server: SMTPServer, address: str) -> list[str]:
    return [str(m.message["Subject"]) for m in server.sink.to(address) if "Nhắc lịch" in str(m.message["Subject"])]


@both_databases
def test_the_reminder_is_sent_once_before_the_setup_time_and_never_for_a_cancelled_occurrence(
    booker: Booker, settings: Settings, session_factory: sessionmaker[Session], smtp_server: SMTPServer,
    frozen_clock: clock.FrozenClock,
) -> None:
    _with_contacts(session_factory, booker.endpoint_ids)
    mail = _smtp(settings, smtp_server)
    mid = booker.create(START, END, rrule="FREQ=WEEKLY;COUNT=2", setup_minutes=15,
                        title="Giao ban <script>x</script>")
    second = START + timedelta(days=7)
    booker.cancel_occurrence(mid, second.astimezone(UTC))
    deliver_due(session_factory, mail)
    invitations = len(smtp_server.messages)

    setup = START - timedelta(minutes=15)
    frozen_clock.set(setup - timedelta(minutes=61))
    assert queue_due_reminders(session_factory, mail) == 0  # not yet
    frozen_clock.set(setup - timedelta(minutes=60))
    assert queue_due_reminders(session_factory, mail) == 2  # both technicians
    assert queue_due_reminders(session_factory, mail) == 0  # once
    # A "restarted" scheduler (its own engine) finds them queued already.
    other_engine = make_engine(settings.database.url)
    try:
        assert queue_due_reminders(make_session_factory(other_engine), mail) == 0
    finally:
        other_engine.dispose()
    report = deliver_due(session_factory, mail)
    assert len(report.sent) == 2
    assert len(smtp_server.messages) == invitations + 2
    [reminder] = [m for m in smtp_server.sink.to(TECH_1[0]) if "Nhắc lịch" in str(m.message["Subject"])]
    msg = reminder.message
    assert msg.get_content_type() == "multipart/alternative"  # a reminder, not a calendar object
    plain = msg.get_body(("plain",)).get_content()
    markup = msg.get_body(("html",)).get_content()
    assert "07:15 07/12/2026" in plain and "Điểm cầu huyện Phú Quốc" in plain
    assert "Technical check (endpoints connected): 07:15 07/12/2026" in plain
    with session_factory() as s:
        number = s.get(Meeting, mid).dial_in_number  # type: ignore[union-attr]
    assert number and number in plain
    assert "0297 3862 111" in plain
    assert "<script>" not in markup and "&lt;script&gt;" in markup
    tech2 = [m for m in smtp_server.sink.to(TECH_2[0]) if "Nhắc lịch" in str(m.message["Subject"])]
    assert len(tech2) == 1 and "&lt;b&gt;" not in tech2[0].message.get_body(("html",)).get_content()

    # The cancelled second Monday: no reminder at any point of its window.
    for minutes in (60, 30, 1):
        frozen_clock.set(second - timedelta(minutes=15 + minutes))
        assert queue_due_reminders(session_factory, mail) == 0
    # Past the setup time of the first, nothing more either.
    frozen_clock.set(setup + timedelta(minutes=1))
    assert queue_due_reminders(session_factory, mail) == 0
    assert len(_reminders(smtp_server, TECH_1[0])) == 1


@both_databases
def test_no_reminder_for_a_pending_meeting_nor_when_switched_off(
    booker: Booker, settings: Settings, session_factory: sessionmaker[Session], smtp_server: SMTPServer,
    frozen_clock: clock.FrozenClock,
) -> None:
    _with_contacts(session_factory, booker.endpoint_ids)
    mail = _smtp(settings, smtp_server)
    mid = booker.create(START, END, setup_minutes=15)
    frozen_clock.set(START - timedelta(minutes=15 + 30))
    assert queue_due_reminders(session_factory, mail.with_overrides(**{"mail.contact_reminder_minutes": 0})) == 0
    with unit_of_work(session_factory) as s:  # awaiting approval (issue 14 point 4, another branch)
        s.execute(update(Meeting).where(Meeting.id == mid).values(status="pending"))
    assert queue_due_reminders(session_factory, mail) == 0
    with unit_of_work(session_factory) as s:
        s.execute(update(Meeting).where(Meeting.id == mid).values(status="planned"))
    assert queue_due_reminders(session_factory, mail) == 2


@both_databases
def test_two_schedulers_racing_queue_each_reminder_once(
    booker: Booker, settings: Settings, session_factory: sessionmaker[Session], frozen_clock: clock.FrozenClock,
) -> None:
    _with_contacts(session_factory, booker.endpoint_ids)
    booker.create(START, END, setup_minutes=15)
    frozen_clock.set(START - timedelta(minutes=15 + 10))
    engines = [make_engine(settings.database.url) for _ in range(2)]
    results: list[int] = []
    barrier = threading.Barrier(2)

    def run(factory: sessionmaker[Session]) -> None:
        barrier.wait()
        results.append(queue_due_reminders(factory, settings))

    try:
        threads = [threading.Thread(target=run, args=(make_session_factory(e),)) for e in engines]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
    finally:
        for e in engines:
            e.dispose()
    assert sorted(results) in ([0, 2], [1, 1]) or sum(results) == 2
    with session_factory() as s:
        assert len(list(s.scalars(select(ContactReminder)))) == 2
