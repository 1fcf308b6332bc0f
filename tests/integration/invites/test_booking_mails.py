"""Booking, moving, changing one occurrence and cancelling each produce the right mails at a real SMTP
server (aiosmtpd on 127.0.0.1), with files both parsers accept, one UID and a rising SEQUENCE."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import vobject
from sqlalchemy.orm import Session, sessionmaker

from confbridge.invites.outbox import deliver_due
from confbridge.settings import Settings
from tests.fixtures.smtp import Received, SMTPServer
from tests.integration.invites.conftest import ALICE, BINH, CHI, Booker, attachment, calendar_part

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
START = datetime(2026, 12, 7, 7, 30, tzinfo=HCM)  # a Monday, one week after the frozen "now"
END = START + timedelta(hours=1, minutes=30)


def _smtp(settings: Settings, server: SMTPServer) -> Settings:
    return settings.with_overrides(**{"mail.host": "127.0.0.1", "mail.port": server.port})


def _deliver(factory: sessionmaker[Session], settings: Settings, server: SMTPServer) -> list[Received]:
    before = len(server.messages)
    report = deliver_due(factory, settings)
    assert not report.retrying and not report.failed
    return server.messages[before:]


def _check(mail: Received, method: str) -> icalendar.Calendar:
    """Both parsers accept the file; METHOD, the part's method and the attachment agree."""
    msg = mail.message
    ics_bytes, part_method = calendar_part(msg)
    assert part_method == method
    assert attachment(msg) == ics_bytes
    assert b"\r\n" in ics_bytes and b"\n" not in ics_bytes.replace(b"\r\n", b"")
    assert all(len(line) <= 75 for line in ics_bytes.split(b"\r\n"))
    cal = icalendar.Calendar.from_ical(ics_bytes)
    assert str(cal["METHOD"]) == method
    parsed = vobject.readOne(ics_bytes.decode("utf-8"))
    assert parsed.method.value == method
    assert len(parsed.vevent_list) == len(cal.walk("VEVENT"))
    return cal


def _events(cal: icalendar.Calendar) -> list[icalendar.Event]:
    return list(cal.walk("VEVENT"))


def _attendees(event: icalendar.Event) -> list[str]:
    value = event.get("ATTENDEE", [])
    return sorted(str(a) for a in (value if isinstance(value, list) else [value]))


def test_book_move_change_one_cancel_one_cancel_all(
    booker: Booker, settings: Settings, session_factory: sessionmaker[Session], smtp_server: SMTPServer,
    frozen_clock: object,
) -> None:
    mail_settings = _smtp(settings, smtp_server)
    mid = booker.create(START, END, rrule="FREQ=WEEKLY;COUNT=4")
    uid = booker.meeting(mid).uid
    seen_sequences: list[int] = []

    # 1. booked: a REQUEST to each attendee
    mails = _deliver(session_factory, mail_settings, smtp_server)
    assert sorted(r for m in mails for r in m.rcpt_tos) == sorted([ALICE[0], BINH[0]])
    for m in mails:
        cal = _check(m, "REQUEST")
        (event,) = _events(cal)
        assert str(event["UID"]) == uid
        assert event.decoded("DTSTART") == START
        assert str(event["DTSTART"].params["TZID"]) == "Asia/Ho_Chi_Minh"
        assert event["RRULE"].to_ical().decode() == "FREQ=WEEKLY;COUNT=4"
        assert {tz["TZID"] for tz in cal.walk("VTIMEZONE")} == {"Asia/Ho_Chi_Minh"}
        assert m.message["Subject"].startswith("[Mời họp / Invitation]")
    seen_sequences.append(int(_events(_check(mails[0], "REQUEST"))[0]["SEQUENCE"]))

    # 2. the series moves one hour later: a REQUEST with a higher SEQUENCE, same UID
    booker.update(mid, start=START + timedelta(hours=1), end=END + timedelta(hours=1))
    mails = _deliver(session_factory, mail_settings, smtp_server)
    assert len(mails) == 2
    (event,) = _events(_check(mails[0], "REQUEST"))
    assert str(event["UID"]) == uid
    assert event.decoded("DTSTART") == START + timedelta(hours=1)
    seen_sequences.append(int(event["SEQUENCE"]))

    # 3. the third Monday alone moves to Tuesday: series + a RECURRENCE-ID VEVENT
    third = (START + timedelta(weeks=2, hours=1)).astimezone(UTC)
    tuesday = third + timedelta(days=1)
    booker.move_occurrence(mid, third, tuesday, tuesday + timedelta(hours=1, minutes=30))
    mails = _deliver(session_factory, mail_settings, smtp_server)
    assert len(mails) == 2
    cal = _check(mails[0], "REQUEST")
    master, override = sorted(_events(cal), key=lambda e: "RECURRENCE-ID" in e)
    assert {str(e["UID"]) for e in (master, override)} == {uid}
    assert override.decoded("RECURRENCE-ID") == third
    assert override.decoded("DTSTART") == third + timedelta(days=1)
    seen_sequences.append(max(int(master["SEQUENCE"]), int(override["SEQUENCE"])))
    assert int(override["SEQUENCE"]) >= int(master["SEQUENCE"])

    # 4. the second Monday is cancelled: a CANCEL carrying that RECURRENCE-ID only
    second = (START + timedelta(weeks=1, hours=1)).astimezone(UTC)
    booker.cancel_occurrence(mid, second)
    mails = _deliver(session_factory, mail_settings, smtp_server)
    assert sorted(r for m in mails for r in m.rcpt_tos) == sorted([ALICE[0], BINH[0]])
    (event,) = _events(_check(mails[0], "CANCEL"))
    assert str(event["UID"]) == uid
    assert event.decoded("RECURRENCE-ID") == second
    assert str(event["STATUS"]) == "CANCELLED"
    seen_sequences.append(int(event["SEQUENCE"]))

    # 5. the whole meeting is cancelled: a CANCEL without RECURRENCE-ID
    booker.cancel(mid)
    mails = _deliver(session_factory, mail_settings, smtp_server)
    assert sorted(r for m in mails for r in m.rcpt_tos) == sorted([ALICE[0], BINH[0]])
    (event,) = _events(_check(mails[0], "CANCEL"))
    assert str(event["UID"]) == uid and "RECURRENCE-ID" not in event
    assert str(event["STATUS"]) == "CANCELLED"
    assert mails[0].message["Subject"].startswith("[Hủy họp / Cancelled]")
    seen_sequences.append(int(event["SEQUENCE"]))

    assert seen_sequences == sorted(seen_sequences) and len(set(seen_sequences)) == len(seen_sequences), (
        seen_sequences
    )
    assert all(m.status == "sent" for m in booker.outbox(mid))


def test_removed_attendee_gets_cancel_and_added_one_gets_request(
    booker: Booker, settings: Settings, session_factory: sessionmaker[Session], smtp_server: SMTPServer,
    frozen_clock: object,
) -> None:
    mail_settings = _smtp(settings, smtp_server)
    mid = booker.create(START, END)
    _deliver(session_factory, mail_settings, smtp_server)

    booker.update(mid, attendees=[ALICE, CHI])
    mails = _deliver(session_factory, mail_settings, smtp_server)
    by_rcpt = {m.rcpt_tos[0]: m for m in mails}
    assert set(by_rcpt) == {ALICE[0], BINH[0], CHI[0]}

    removed = _check(by_rcpt[BINH[0]], "CANCEL")
    (event,) = _events(removed)
    assert _attendees(event) == [f"mailto:{BINH[0]}"]
    assert str(event["STATUS"]) == "CANCELLED"

    added = _check(by_rcpt[CHI[0]], "REQUEST")
    (event,) = _events(added)
    assert _attendees(event) == sorted([f"mailto:{ALICE[0]}", f"mailto:{CHI[0]}"])
    assert by_rcpt[CHI[0]].message["Subject"].startswith("[Mời họp / Invitation]")
    assert by_rcpt[ALICE[0]].message["Subject"].startswith("[Cập nhật lịch họp / Updated]")


def test_request_content_for_a_one_off(
    booker: Booker, settings: Settings, session_factory: sessionmaker[Session], smtp_server: SMTPServer,
    frozen_clock: object,
) -> None:
    """Everything a participant needs is in the invitation: times, place, agenda, endpoints, PIN, help,
    RSVP attendees and a reminder; the e-mail has Vietnamese then English bodies."""
    mail_settings = _smtp(settings, smtp_server).with_overrides(
        **{"mail.dial_in": "sip:hoinghi@mcu.example", "mail.helpdesk": "Sở TT&TT — 0297 3 000 000"}
    )
    from confbridge.invites import hooks

    hooks.install(mail_settings)
    booker.create(START, END)
    (mail, _) = _deliver(session_factory, mail_settings, smtp_server)
    cal = _check(mail, "REQUEST")
    (event,) = _events(cal)
    assert "RRULE" not in event
    assert event.decoded("DTEND") == END
    assert str(event["LOCATION"]) == "Phòng họp trực tuyến UBND tỉnh — UBND tỉnh Kiên Giang"
    description = str(event["DESCRIPTION"])
    for text in ("Báo cáo tình hình kinh tế", "Điểm cầu huyện Phú Quốc", "Điểm cầu xã Dương Tơ",
                 "sip:hoinghi@mcu.example", "2468", "0297 3 000 000"):
        assert text in description
    attendee = next(a for a in event["ATTENDEE"] if str(a) == f"mailto:{ALICE[0]}")
    assert attendee.params["CN"] == ALICE[1]
    assert (attendee.params["ROLE"], attendee.params["PARTSTAT"], attendee.params["RSVP"]) == (
        "REQ-PARTICIPANT", "NEEDS-ACTION", "TRUE")
    assert str(event["ORGANIZER"]).startswith("mailto:thuky@")
    (alarm,) = event.walk("VALARM")
    assert alarm.decoded("TRIGGER") == -timedelta(minutes=15)

    msg = mail.message
    assert msg.get_content_type() == "multipart/mixed"
    alternative = next(p for p in msg.walk() if p.get_content_type() == "multipart/alternative")
    kinds = [p.get_content_type() for p in alternative.iter_parts()]
    assert kinds == ["text/plain", "text/html", "text/calendar"]
    plain = next(p for p in alternative.iter_parts() if p.get_content_type() == "text/plain").get_content()
    assert plain.index("Kính mời") < plain.index("You are invited")
    calendar = next(p for p in alternative.iter_parts() if p.get_content_type() == "text/calendar")
    assert calendar.get_content_charset() == "utf-8"
