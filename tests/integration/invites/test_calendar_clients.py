"""Every calendar file confbridge produces — REQUESTs, updates, CANCELs (whole and one occurrence), the
endpoint feed and the user feed — is read by three independent parsers: Mozilla's ical.js (Thunderbird;
run with Node), icalendar and vobject.  Every property value goes through its type's parser (a DURATION
written as TEXT fails), and the live files expand to exactly the occurrences GET /api/v1/occurrences
reports, a moved one, a cancelled one and one across a summer-time change abroad included."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import icalendar
import recurring_ical_events
import vobject
from flask.testing import FlaskClient
from icalendar.prop import TypesFactory

from confbridge.settings import PROJECT_ROOT
from tests.integration.invites.calendar_files import FROM, TO, Span, produce, run_ical_js, spans, write_all
from tests.integration.invites.conftest import Booker

# Value types icalendar does not know by name (RFC 7986, [MS-OXCICAL]); every other one it does.
EXTRA_TYPES = {"X-PUBLISHED-TTL": "duration", "REFRESH-INTERVAL": "duration", "X-WR-CALNAME": "text",
               "NAME": "text"}
TYPES = TypesFactory()


def _icalendar_values(data: bytes) -> icalendar.Calendar:
    """Parse, then force every property value through the parser of its value type."""
    cal = icalendar.Calendar.from_ical(data)
    for component in cal.walk():
        for name, value in component.property_items(recursive=False):
            if name in ("BEGIN", "END"):
                continue
            raw = value.to_ical() if hasattr(value, "to_ical") else str(value).encode()
            text = raw.decode() if isinstance(raw, bytes) else str(raw)
            params = getattr(value, "params", {})
            kind = EXTRA_TYPES.get(name) or str(params.get("VALUE", "")).lower()
            parser = TYPES[kind] if kind else TYPES.for_property(name)
            parser.from_ical(text)  # raises on a value that is not of its type
    return cal


def _icalendar_spans(cal: icalendar.Calendar) -> list[Span]:
    events = recurring_ical_events.of(cal).between(FROM, TO)
    return sorted((e.decoded("DTSTART").astimezone(UTC), e.decoded("DTEND").astimezone(UTC)) for e in events)


def _vobject_spans(text: str) -> list[Span]:
    """vobject's own expansion: each series' rruleset (EXDATEs applied), instances with a RECURRENCE-ID
    replacing the ones they move."""
    parsed = vobject.readOne(text)
    for line in parsed.lines():  # calendar-level values: X-PUBLISHED-TTL / REFRESH-INTERVAL are durations
        if line.name in ("X-PUBLISHED-TTL", "REFRESH-INTERVAL"):
            assert vobject.icalendar.stringToDurations(line.value), line.value
    out: dict[datetime, Span] = {}
    moved: dict[datetime, Span] = {}
    for event in getattr(parsed, "vevent_list", []):
        start, end = event.dtstart.value, event.dtend.value
        if hasattr(event, "recurrence_id"):
            moved[event.recurrence_id.value.astimezone(UTC)] = (start.astimezone(UTC), end.astimezone(UTC))
            continue
        length = end - start
        rules = event.getrruleset(addRDate=True)
        for instance in (rules if rules is not None else [start]):
            if FROM <= instance.astimezone(UTC) < TO:
                out[instance.astimezone(UTC)] = (instance.astimezone(UTC), (instance + length).astimezone(UTC))
    for original, span in moved.items():
        out[original] = span
    return sorted(out.values())


def test_every_produced_file_passes_ical_js_icalendar_and_vobject(
    client: FlaskClient, booker: Booker, secretary: Any, technician: Any, frozen_clock: object,
) -> None:
    produced = produce(client, booker, secretary, technician)
    write_all(produced, PROJECT_ROOT / "test-artifacts" / "calendar-files")
    methods = {name.split("-")[2] for name in produced.files if name.startswith("mail-")}
    assert methods == {"request", "cancel"} and len(produced.files) >= 10

    feed = produced.files["feed-endpoint.ics"]
    assert b"\r\nX-PUBLISHED-TTL:PT5M\r\n" in feed and b"\r\nREFRESH-INTERVAL;VALUE=DURATION:PT5M\r\n" in feed

    report = run_ical_js(produced.files)
    assert {name: r["errors"] for name, r in report.items() if r["errors"]} == {}
    for name, data in produced.files.items():
        cal = _icalendar_values(data)
        parsed = vobject.readOne(data.decode("utf-8"))  # vobject transforms every value it knows
        assert len(getattr(parsed, "vevent_list", [])) == len(cal.walk("VEVENT")), name

    assert set(produced.expected) >= {"feed-endpoint.ics", "feed-user.ics"}
    for name, expected in produced.expected.items():
        assert expected, name
        assert spans(report[name]["occurrences"]) == expected, f"ical.js: {name}"
        assert _icalendar_spans(icalendar.Calendar.from_ical(produced.files[name])) == expected, f"icalendar: {name}"
        assert _vobject_spans(produced.files[name].decode("utf-8")) == expected, f"vobject: {name}"
