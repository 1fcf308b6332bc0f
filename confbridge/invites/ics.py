"""iCalendar objects for meetings (RFC 5545 / RFC 5546 iTIP), built with the icalendar library.

One meeting is one UID for its whole life.  A series is one VEVENT with RRULE and EXDATE; an occurrence
that was moved on its own gets a second VEVENT carrying RECURRENCE-ID = its original start (the key
``Occurrence.original_start`` exists for exactly this).  Every TZID used gets a VTIMEZONE, so clients
that do not know IANA names (Outlook) still place 07:30 Hà Nội at 07:30 Hà Nội.

SEQUENCE is one revision number for the whole meeting: ``meeting.sequence`` (bumped by the booking
service on every significant series change) plus the sum of its occurrences' own sequences (bumped when
one occurrence is moved or cancelled, or re-timed by a series change).  Occurrence rows are never
deleted and no counter ever falls, so the revision only rises, and every mail about a meeting carries a
SEQUENCE at least as high as any earlier one — for the series VEVENT and for every RECURRENCE-ID VEVENT
alike, which is what clients compare before applying an update.  (Numbers can jump by the number of
re-timed occurrences; only their order matters.)

Cancelled occurrences are EXDATEs in REQUESTs and feeds, moved or not: an EXDATE on the original start
removes the instance in every client, whereas a cancelled RECURRENCE-ID instance next to a live series is
shown struck-through by some clients and as a live event by others.  A CANCEL for one occurrence uses
its RECURRENCE-ID, as RFC 5546 §3.2.5 prescribes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Alarm, Calendar, Event, vCalAddress, vDuration, vRecur, vText, vUri

from confbridge import clock
from confbridge.booking import recurrence
from confbridge.booking.contacts import endpoint_contacts
from confbridge.booking.describe import describe_meeting
from confbridge.booking.models import Meeting, MeetingStatus, Occurrence, OccurrenceStatus
from confbridge.i18n import LOCALES, N_, bilingual, translate
from confbridge.settings import MailSettings
from confbridge.text import multi_line, one_line, valid_email

PRODID = "-//confbridge//Hoi nghi truyen hinh 0.1//VI"
# Labels of the description and the reminder (Vietnamese first, then English: the reader is unknown).
NO_HOST, REPEATS, AGENDA = N_("Họp trực tuyến"), N_("Lặp lại: %(rule)s"), N_("Nội dung")
ENDPOINTS, HOST, DIAL_IN = N_("Điểm cầu"), N_("điểm cầu chính"), N_("Quay số")
PIN, HELP, REMINDER = N_("Mã PIN"), N_("Hỗ trợ kỹ thuật"), N_("Nhắc lịch")
DIAL_IN_NUMBER = N_("Số quay vào hội nghị")
Participant = tuple[str, str]  # (email, display name)


# ---- helpers -------------------------------------------------------------------------------------------
def zone_of(meeting: Meeting) -> ZoneInfo:
    return ZoneInfo(meeting.timezone)


def _local(instant: datetime, zone: ZoneInfo) -> datetime:
    return instant.astimezone(zone)


def sequence_of(meeting: Meeting) -> int:
    """The meeting's revision (see the module docstring)."""
    return meeting.sequence + sum(o.sequence for o in meeting.occurrences)


def attendees_of(meeting: Meeting) -> list[Participant]:
    return [(a.email, a.name) for a in meeting.attendees]


def recipients_of(meeting: Meeting) -> list[Participant]:
    """Everyone the meeting's mails go to: its attendees, then its endpoints' contacts (optional)."""
    return attendees_of(meeting) + endpoint_contacts(meeting)


def location_of(meeting: Meeting) -> str:
    host = meeting.host_endpoint
    if host is None:
        return bilingual(NO_HOST)
    return one_line(f"{host.name} — {host.site_name}")


def description_of(meeting: Meeting, mail: MailSettings, *, with_pin: bool = True) -> str:
    """Repetition, agenda, endpoints, dial-in and help — Vietnamese first, English second."""
    lines: list[str] = []
    if meeting.is_series:  # in words, never the raw RRULE (the RRULE property is for the client)
        lines += [translate(locale, REPEATS, rule=describe_meeting(meeting, locale)) for locale in LOCALES]
        lines.append("")
    agenda = multi_line(meeting.description)
    if agenda:
        lines += [f"{bilingual(AGENDA)}:", agenda, ""]
    if meeting.endpoints:
        lines.append(f"{bilingual(ENDPOINTS)}:")
        host_id = meeting.host_endpoint_id
        for endpoint in meeting.endpoints:
            mark = f" ({bilingual(HOST)})" if endpoint.id == host_id else ""
            lines.append(f"- {one_line(endpoint.name)} — {one_line(endpoint.site_name)}{mark}")
        lines.append("")
    if meeting.dial_in_number:
        number = one_line(meeting.dial_in_number)
        uri = f" — {one_line(meeting.dial_in_uri)}" if meeting.dial_in_uri else ""
        lines.append(f"{bilingual(DIAL_IN_NUMBER)}: {number}{uri}")
    if mail.dial_in:
        lines.append(f"{bilingual(DIAL_IN)}: {one_line(mail.dial_in)}")
    if meeting.pin and with_pin:
        lines.append(f"{bilingual(PIN)}: {one_line(meeting.pin)}")
    if mail.helpdesk:
        lines.append(f"{bilingual(HELP)}: {one_line(mail.helpdesk)}")
    return "\n".join(lines).strip()


def _organizer(meeting: Meeting, mail: MailSettings) -> vCalAddress:
    organiser = meeting.organiser
    email = organiser.email if organiser is not None and valid_email(organiser.email) else mail.sender
    address = vCalAddress(f"mailto:{one_line(email)}")
    name = param_text(organiser.display_name if organiser is not None else "") or "confbridge"
    address.params["CN"] = name
    return address


def param_text(value: str) -> str:
    """A person's name as a parameter value (CN). RFC 5545 gives a backslash no meaning inside a
    parameter value, but parsers disagree (python-icalendar reads ``CN=\\;X=1`` as an escaped ';' and
    swallows the next parameter), so a backslash is written as the look-alike U+FF3C FULLWIDTH REVERSE
    SOLIDUS: the name still reads the same and no parser can misread where it ends."""
    return one_line(value).replace("\\", "\uff3c")


def _attendee(email: str, name: str, *, reply_wanted: bool, optional: bool = False) -> vCalAddress:
    address = vCalAddress(f"mailto:{one_line(email)}")
    if param_text(name):
        address.params["CN"] = param_text(name)
    address.params["CUTYPE"] = "INDIVIDUAL"
    # An endpoint's contact (the room's technician) is told, not required (RFC 5545 ROLE).
    address.params["ROLE"] = "OPT-PARTICIPANT" if optional else "REQ-PARTICIPANT"
    if reply_wanted:  # a cancellation asks for no answer
        address.params["PARTSTAT"] = "NEEDS-ACTION"
        address.params["RSVP"] = "TRUE"
    return address


def _occurrences(meeting: Meeting) -> list[Occurrence]:
    return sorted(meeting.occurrences, key=lambda o: o.original_start)


def _single_times(meeting: Meeting) -> tuple[datetime, datetime]:
    """A one-off meeting's times: its one materialised occurrence is the truth when it exists."""
    occurrences = _occurrences(meeting)
    if not meeting.is_series and len(occurrences) == 1:
        return occurrences[0].start, occurrences[0].end
    return meeting.start, meeting.end


def exdates_of(meeting: Meeting) -> list[datetime]:
    """Excluded instants (aware UTC): cancelled occurrences plus the meeting's own EXDATE list."""
    # Occurrences cancelled because the rule no longer produces them (a series cut short) need no EXDATE.
    produced: set[datetime] = set()
    if meeting.rrule:
        produced = set(recurrence.expand(meeting.start, zone_of(meeting), meeting.rrule))
    out = {o.original_start for o in meeting.occurrences
           if o.status == OccurrenceStatus.CANCELLED and o.original_start in produced}
    for text in meeting.exdates or []:
        instant = datetime.fromisoformat(text)
        out.add(instant if instant.tzinfo else instant.replace(tzinfo=UTC))
    return sorted(i.astimezone(UTC) for i in out)


def _common(
    event: Event, meeting: Meeting, mail: MailSettings, stamp: datetime,
    attendees: Sequence[Participant], *, reply_wanted: bool, with_description: bool = True,
    with_pin: bool = True,
) -> None:
    event.add("uid", meeting.uid)
    event.add("dtstamp", stamp.astimezone(UTC))
    event.add("summary", one_line(meeting.title, 200))
    event.add("location", location_of(meeting))
    if with_description:
        description = description_of(meeting, mail, with_pin=with_pin)
        if description:
            event.add("description", vText(description))
    if with_description and meeting.dial_in_uri:
        # RFC 7986 CONFERENCE: clients offer a "join" button for the conference's dial-in URI.
        event.add("conference", vUri(one_line(meeting.dial_in_uri)),
                  parameters={"VALUE": "URI", "FEATURE": "AUDIO,VIDEO",
                              "LABEL": f"{bilingual(DIAL_IN_NUMBER)}: {one_line(meeting.dial_in_number or '')}"})
    event.add("organizer", _organizer(meeting, mail))
    optional = {e.strip().lower() for e, _ in endpoint_contacts(meeting)}
    for email, name in attendees:
        event.add("attendee", _attendee(email, name, reply_wanted=reply_wanted,
                                        optional=email.strip().lower() in optional))
    event.add("last-modified", meeting.updated_at.astimezone(UTC))
    event.add("transp", "OPAQUE")


def _alarm(meeting: Meeting, mail: MailSettings) -> Alarm | None:
    if mail.reminder_minutes <= 0:
        return None
    alarm = Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("description", f"{bilingual(REMINDER)}: {one_line(meeting.title, 200)}")
    alarm.add("trigger", timedelta(minutes=-mail.reminder_minutes))
    return alarm


def _series_event(
    meeting: Meeting, mail: MailSettings, stamp: datetime, attendees: Sequence[Participant],
    *, status: str, with_alarm: bool, with_pin: bool = True,
) -> Event:
    zone = zone_of(meeting)
    event = Event()
    _common(event, meeting, mail, stamp, attendees, reply_wanted=status != "CANCELLED", with_pin=with_pin)
    start, end = _single_times(meeting)
    event.add("dtstart", _local(start, zone))
    event.add("dtend", _local(end, zone))
    event.add("sequence", sequence_of(meeting))
    event.add("status", status)
    if meeting.is_series:
        rule = meeting.rrule or ""
        if rule.upper().startswith("RRULE:"):
            rule = rule[6:]
        event.add("rrule", vRecur.from_ical(rule))
        excluded = exdates_of(meeting)
        if excluded:
            event.add("exdate", [_local(i, zone) for i in excluded])
    if with_alarm:
        alarm = _alarm(meeting, mail)
        if alarm is not None:
            event.add_component(alarm)
    return event


def _instance_event(
    meeting: Meeting, occurrence: Occurrence, mail: MailSettings, stamp: datetime,
    attendees: Sequence[Participant], *, status: str, with_alarm: bool, with_pin: bool = True,
) -> Event:
    zone = zone_of(meeting)
    event = Event()
    _common(event, meeting, mail, stamp, attendees, reply_wanted=status != "CANCELLED", with_pin=with_pin)
    event.add("recurrence-id", _local(occurrence.original_start, zone))
    event.add("dtstart", _local(occurrence.start, zone))
    event.add("dtend", _local(occurrence.end, zone))
    event.add("sequence", sequence_of(meeting))
    event.add("status", status)
    if with_alarm:
        alarm = _alarm(meeting, mail)
        if alarm is not None:
            event.add_component(alarm)
    return event


def _new_calendar(method: str | None) -> Calendar:
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    if method:
        cal.add("method", method)
    return cal


def _add_timezones(cal: Calendar, meetings: Iterable[Meeting]) -> None:
    """A VTIMEZONE for every TZID used, covering every instant the events reach (plus a margin).

    Every occurrence of a series is materialised (series must end inside the booking horizon), so the
    stored rows bound the span the VTIMEZONE must describe.
    """
    firsts: list[datetime] = []
    lasts: list[datetime] = []
    for meeting in meetings:
        firsts.append(meeting.start)
        lasts.append(meeting.end)
        for occ in meeting.occurrences:
            firsts += [occ.start, occ.original_start]
            lasts.append(occ.end)
    if not firsts:
        return
    first = min(firsts).date() - timedelta(days=1)
    last = max(lasts).date() + timedelta(days=2)
    cal.add_missing_timezones(first_date=first, last_date=max(last, first + timedelta(days=1)))


def _planned(meeting: Meeting) -> bool:
    return meeting.status != MeetingStatus.CANCELLED


# ---- public builders -----------------------------------------------------------------------------------
def request_calendar(
    meeting: Meeting, mail: MailSettings, *, attendees: Sequence[Participant] | None = None,
    stamp: datetime | None = None,
) -> Calendar:
    """METHOD:REQUEST: the whole current state (series + moved occurrences), to be applied by UID."""
    stamp = stamp or clock.now()
    people = recipients_of(meeting) if attendees is None else list(attendees)
    cal = _new_calendar("REQUEST")
    cal.add_component(_series_event(meeting, mail, stamp, people, status="CONFIRMED", with_alarm=True))
    if meeting.is_series:
        for occ in _occurrences(meeting):
            if occ.overridden and occ.status == OccurrenceStatus.PLANNED:
                cal.add_component(
                    _instance_event(meeting, occ, mail, stamp, people, status="CONFIRMED", with_alarm=True)
                )
    _add_timezones(cal, [meeting])
    return cal


def cancel_calendar(
    meeting: Meeting, mail: MailSettings, *, attendees: Sequence[Participant] | None = None,
    occurrence: Occurrence | None = None, stamp: datetime | None = None,
) -> Calendar:
    """METHOD:CANCEL for the whole meeting, or (``occurrence`` given, series only) one instance."""
    stamp = stamp or clock.now()
    people = recipients_of(meeting) if attendees is None else list(attendees)
    cal = _new_calendar("CANCEL")
    if occurrence is not None and meeting.is_series:
        cal.add_component(
            _instance_event(meeting, occurrence, mail, stamp, people, status="CANCELLED", with_alarm=False)
        )
    else:
        cal.add_component(_series_event(meeting, mail, stamp, people, status="CANCELLED", with_alarm=False))
    _add_timezones(cal, [meeting])
    return cal


def feed_calendar(meetings: Sequence[Meeting], mail: MailSettings, *, name: str,
                  refresh_minutes: int = 15,
                  may_see_pin: Callable[[Meeting], bool] = lambda _m: False) -> Calendar:
    """A subscribable calendar (no METHOD): live meetings only; cancelled occurrences are EXDATEs.

    DTSTAMP is each meeting's last modification, so the body (and its ETag) only changes when the data
    does and clients can revalidate cheaply.
    """
    cal = _new_calendar(None)
    cal.add("x-wr-calname", one_line(name))
    cal.add("name", one_line(name))
    # How often clients poll: RFC 7986 REFRESH-INTERVAL (VALUE=DURATION is mandatory) and Outlook's
    # X-PUBLISHED-TTL, a DURATION per [MS-OXCICAL] 2.1.3.1.1.20.  icalendar does not know the X- property
    # and would write a timedelta as TEXT ("0:05:00", which Thunderbird's ical.js rejects): say DURATION.
    every = timedelta(minutes=refresh_minutes)
    cal.add("refresh-interval", vDuration(every), parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", vDuration(every))  # a value of its own: add() writes the parameters into it
    live = [m for m in meetings if _planned(m)]
    for meeting in live:
        stamp = meeting.updated_at
        if not meeting.is_series:
            occurrences = _occurrences(meeting)
            if occurrences and all(o.status == OccurrenceStatus.CANCELLED for o in occurrences):
                continue
        pin = may_see_pin(meeting)
        cal.add_component(_series_event(meeting, mail, stamp, [], status="CONFIRMED", with_alarm=False,
                                        with_pin=pin))
        if meeting.is_series:
            for occ in _occurrences(meeting):
                if occ.overridden and occ.status == OccurrenceStatus.PLANNED:
                    cal.add_component(
                        _instance_event(meeting, occ, mail, stamp, [], status="CONFIRMED", with_alarm=False,
                                        with_pin=pin)
                    )
    _add_timezones(cal, live)
    return cal


def to_bytes(cal: Calendar) -> bytes:
    """RFC 5545 text: CRLF line ends, lines folded at 75 octets (the library does both)."""
    data: bytes = cal.to_ical()
    return data


def max_sequence(cal: Calendar) -> int:
    return max((int(e.get("sequence", 0)) for e in cal.walk("VEVENT")), default=0)
