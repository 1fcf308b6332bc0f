"""Injection fuzzing: whatever a title, a name, an agenda or an endpoint name holds (CR, LF, NUL, ';',
',', ':', quotes, "BEGIN:VEVENT", "Bcc:"), it can never add an iCalendar line or component, nor an e-mail
header or recipient.  The meeting objects are plain (unsaved) model instances: no database needed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy

import icalendar
import pytest
import vobject
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from confbridge.auth.models import User
from confbridge.booking.models import Attendee, Meeting, Occurrence
from confbridge.directory.models import Endpoint, Site
from confbridge.invites import ics
from confbridge.invites.mail import MailContent, build_message, display_name, header_text
from confbridge.settings import MailSettings
from confbridge.text import multi_line, one_line

MAIL = MailSettings(sender="hoinghi@ubnd.example", helpdesk="Sở TT&TT", dial_in="sip:x@mcu.example")
NASTY = [
    "\r\nBEGIN:VEVENT\r\nUID:evil\r\nEND:VEVENT", "x\nATTENDEE:mailto:evil@x.example", "a\rb", "nul\x00byte",
    "\r\nBcc: evil@attacker.example", 'quote " and ; and , and : and \\', "line\u2028sep", "tab\there",
    "END:VCALENDAR", "=?utf-8?q?encoded?=", "<script>alert(1)</script>", "Điểm cầu \"Phú Quốc\"",
    "0" * 75 + ";", "ạ" * 80, "a@b.example", "<evil@attacker.example>", "(comment)",
]
texts = st.one_of(st.sampled_from(NASTY), st.text(min_size=1, max_size=120),
                  st.lists(st.sampled_from([*NASTY, "ạ", "x", "\r", "\n", ";"]), min_size=1, max_size=6)
                  .map("".join))


def _meeting(title: str, name: str, agenda: str, endpoint_name: str, series: bool = False) -> Meeting:
    start = datetime(2026, 12, 7, 0, 30, tzinfo=UTC)
    site = Site(name=endpoint_name)
    host = Endpoint(id=1, name=endpoint_name, site=site, protocol="sip", address="sip:a@127.0.0.1")
    meeting = Meeting(
        id=1, uid="fixed-uid@confbridge", title=title, description=agenda, start=start,
        end=start + timedelta(hours=1), timezone="Asia/Ho_Chi_Minh", setup_minutes=15, pin="1234",
        rrule="FREQ=WEEKLY;COUNT=3" if series else None, exdates=[], status="planned", sequence=0,
        updated_at=start, organiser=User(username="thuky", display_name=name, email="thuky@ubnd.example"),
        host_endpoint=host, host_endpoint_id=1, endpoints=[host],
        attendees=[Attendee(email="an@ubnd.example", name=name)],
    )
    meeting.occurrences = [
        Occurrence(original_start=start + timedelta(weeks=i), start=start + timedelta(weeks=i),
                   end=start + timedelta(weeks=i, hours=1), setup_minutes=15, status="planned",
                   overridden=False, sequence=0)
        for i in range(3 if series else 1)
    ]
    return meeting


def _squeeze(text: str) -> str:
    return "".join(text.split())


def _content_lines(data: bytes) -> list[bytes]:
    """Unfolded content lines."""
    return data.replace(b"\r\n ", b"").split(b"\r\n")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(title=texts, name=texts, agenda=texts, endpoint_name=texts)
def test_user_text_cannot_add_ics_lines_or_components(title: str, name: str, agenda: str,
                                                      endpoint_name: str) -> None:
    meeting = _meeting(title, name, agenda, endpoint_name, series=True)
    for cal in (ics.request_calendar(meeting, MAIL), ics.cancel_calendar(meeting, MAIL),
                ics.feed_calendar([meeting], MAIL, name=title)):
        data = ics.to_bytes(cal)
        lines = _content_lines(data)
        # Only CRLF ends a line; no bare CR/LF/NUL anywhere.
        assert b"\r" not in b"".join(lines) and b"\n" not in b"".join(lines) and b"\x00" not in data
        assert sum(1 for line in lines if line == b"BEGIN:VEVENT") == 1
        assert sum(1 for line in lines if line.startswith(b"UID:")) == 1
        assert sum(1 for line in lines if line.startswith(b"END:VCALENDAR")) == 1
        parsed = icalendar.Calendar.from_ical(data)
        (event,) = parsed.walk("VEVENT")
        assert str(event["UID"]) == "fixed-uid@confbridge"
        assert str(event["SUMMARY"]) == one_line(title, 200)
        if "DESCRIPTION" in event and multi_line(agenda):
            assert multi_line(agenda) in str(event["DESCRIPTION"])
        attendees = event.get("ATTENDEE", [])
        attendees = attendees if isinstance(attendees, list) else [attendees]
        assert [str(a) for a in attendees] in ([], ["mailto:an@ubnd.example"])
        for a in attendees:
            assert a.params.get("CN", "") == ics.param_text(name)
        assert len(vobject.readOne(data.decode("utf-8")).vevent_list) == 1


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(title=texts, name=texts)
def test_user_text_cannot_add_mail_headers_or_recipients(title: str, name: str) -> None:
    meeting = _meeting(title, name, "agenda", "Phòng họp")
    data = ics.to_bytes(ics.request_calendar(meeting, MAIL))
    msg = build_message(MAIL, meeting, MailContent("invitation", "REQUEST", data),
                        recipient="an@ubnd.example", recipient_name=name)
    raw = msg.as_bytes()
    parsed = message_from_bytes(raw, policy=policy.default)
    assert sorted(parsed.keys()) == sorted([
        "From", "To", "Subject", "Date", "Message-ID", "Auto-Submitted", "Content-Class", "MIME-Version",
        "Content-Type"])
    assert [a.addr_spec for a in parsed["To"].addresses] == ["an@ubnd.example"]
    # Compared without whitespace: the stdlib's folding of long non-ASCII words adds or drops spaces
    # between encoded-words (cosmetic; what matters here is that nothing else changes).
    assert _squeeze(parsed["To"].addresses[0].display_name) == _squeeze(display_name(name))
    assert _squeeze(header_text(title, 160)) in _squeeze(str(parsed["Subject"]))
    html_part = next(p for p in parsed.walk() if p.get_content_type() == "text/html")
    html = html_part.get_content()
    assert "<script>" not in html


@pytest.mark.parametrize("name", ["\\", "\\;", "a\\b", "Phòng \\ họp;x"])
def test_a_backslash_in_a_name_cannot_swallow_the_next_parameter(name: str) -> None:
    # python-icalendar reads a bare backslash in a parameter value as an escape: CN=\;CUTYPE=... lost the
    # attendee's CUTYPE and made the name ";CUTYPE=INDIVIDUAL" before names were written with U+FF3C.
    cal = icalendar.Calendar.from_ical(ics.to_bytes(ics.request_calendar(_meeting("t", name, "", "e"), MAIL)))
    (attendee,) = [cal.walk("VEVENT")[0]["ATTENDEE"]]
    assert attendee.params["CN"] == name.replace("\\", "\uff3c")
    assert attendee.params["CUTYPE"] == "INDIVIDUAL" and attendee.params["RSVP"] == "TRUE"


@pytest.mark.parametrize("bad", [
    "an@ubnd.example\r\nBcc: evil@attacker.example", "an@ubnd.example\n", "a\x00n@ubnd.example",
    "An <an@ubnd.example>", "an@ubnd.example, evil@attacker.example", "not-an-address",
])
def test_a_bad_recipient_address_is_refused_not_cleaned(bad: str) -> None:
    meeting = _meeting("Họp", "An", "", "Phòng")
    with pytest.raises(ValueError, match="not a deliverable"):
        build_message(MAIL, meeting, MailContent("invitation", "REQUEST", b"BEGIN:VCALENDAR\r\n"),
                      recipient=bad, recipient_name="An")


def test_single_line_and_multi_line_cleaning() -> None:
    assert one_line("a\r\nb\x00c\u2028d") == "a b c d"
    assert multi_line("a\r\nb\rc\x00d\u2029e") == "a\nb\ncd\ne"


def test_a_long_vietnamese_subject_arrives_with_every_space() -> None:
    # The stdlib's modern folder put the space between two words outside the encoded-words at a fold, and
    # RFC 2047 readers drop whitespace between encoded-words: "Giao ban trực tuyến" arrived as "trựctuyến".
    title = "Giao ban trực tuyến tháng 12 của Ủy ban nhân dân tỉnh Kiên Giang với các huyện và các sở"
    meeting = _meeting(title, "An", "agenda", "Phòng họp")
    data = ics.to_bytes(ics.request_calendar(meeting, MAIL))
    raw = build_message(MAIL, meeting, MailContent("invitation", "REQUEST", data),
                        recipient="an@ubnd.example", recipient_name="An").as_bytes()
    head = raw.split(b"\r\n\r\n")[0]
    assert all(len(line) <= 78 for line in head.split(b"\r\n"))
    assert str(message_from_bytes(raw, policy=policy.default)["Subject"]).endswith("] " + title)
