"""A real CalDAV server consumes the feeds: Radicale (from PyPI), started here on 127.0.0.1 with its own
configuration (no authentication, storage in a temporary folder), receives every event of the endpoint
feed and of the user feed (PUT, one resource per UID with its VTIMEZONE), and its server-side expansion
(CalDAV calendar-query REPORT with <C:expand>) equals GET /api/v1/occurrences — a moved occurrence at its
new time, a cancelled one absent, a series in Berlin across the summer-time change at 09:00 local."""

from __future__ import annotations

import base64
import socket
import subprocess
import sys
import time
import urllib.request
import xml.etree.ElementTree as ET  # our own server's reply, parsed in a test
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path
from typing import Any

import icalendar
import pytest
from flask.testing import FlaskClient

from tests import services
from tests.integration.invites.calendar_files import FROM, TO, Span, produce
from tests.integration.invites.conftest import Booker

NS = {"D": "DAV:", "C": "urn:ietf:params:xml:ns:caldav"}
AUTH = "Basic " + base64.b64encode(b"kythuat:any").decode()  # [auth] type = none accepts any password


@dataclass
class Radicale:
    url: str
    proc: subprocess.Popen[bytes]

    def request(self, method: str, path: str, body: bytes | None = None, **headers: str) -> tuple[int, bytes]:
        req = urllib.request.Request(self.url + path, data=body, method=method,
                                     headers={"Authorization": AUTH, **headers})
        try:
            with urllib.request.urlopen(req, timeout=30) as response:  # 127.0.0.1 only
                return int(response.status), response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()


@pytest.fixture
def radicale(tmp_path: Path) -> Iterator[Radicale]:
    try:
        import radicale as _  # noqa: F401
    except ImportError:
        services.unavailable("radicale is not installed (pip install -e '.[test]')")
    port = services.free_port()
    config = tmp_path / "radicale.conf"
    config.write_text(
        f"[server]\nhosts = 127.0.0.1:{port}\n[auth]\ntype = none\n[rights]\ntype = owner_only\n"
        f"[storage]\nfilesystem_folder = {tmp_path / 'collections'}\n[web]\ntype = none\n"
        "[logging]\nlevel = warning\n", encoding="utf-8")
    proc = subprocess.Popen([sys.executable, "-m", "radicale", "--config", str(config)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                err = proc.stderr.read().decode() if proc.stderr else ""
                services.unavailable(f"radicale did not start: {err[-500:]}")
            time.sleep(0.05)
    try:
        yield Radicale(f"http://127.0.0.1:{port}", proc)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _resources(feed: bytes) -> dict[str, bytes]:
    """One calendar object resource per UID (the series and its moved instances), with the VTIMEZONEs
    it uses — what a client that imports a subscribed calendar into a CalDAV account stores."""
    cal = icalendar.Calendar.from_ical(feed)
    zones = {str(tz["TZID"]): tz for tz in cal.walk("VTIMEZONE")}
    by_uid: dict[str, list[Any]] = {}
    for event in cal.walk("VEVENT"):
        by_uid.setdefault(str(event["UID"]), []).append(event)
    out: dict[str, bytes] = {}
    for uid, events in by_uid.items():
        resource = icalendar.Calendar()
        for key in ("PRODID", "VERSION", "CALSCALE"):
            resource.add(key, cal[key])
        used = {str(e[p].params.get("TZID")) for e in events for p in ("DTSTART", "DTEND") if p in e}
        for tzid in sorted(used & set(zones)):
            resource.add_component(zones[tzid])
        for event in events:
            resource.add_component(event)
        out[uid] = resource.to_ical()
    return out


def _expanded(server: Radicale, collection: str) -> list[Span]:
    span = f'start="{FROM:%Y%m%dT%H%M%SZ}" end="{TO:%Y%m%dT%H%M%SZ}"'
    query = f"""<?xml version="1.0" encoding="utf-8"?>
<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
  <D:prop><C:calendar-data><C:expand {span}/></C:calendar-data></D:prop>
  <C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT">
    <C:time-range {span}/>
  </C:comp-filter></C:comp-filter></C:filter>
</C:calendar-query>""".encode()
    status, body = server.request("REPORT", collection, query, Depth="1",
                                  **{"Content-Type": "application/xml; charset=utf-8"})
    assert status == 207, body[:500]
    spans: list[Span] = []
    for data in ET.fromstring(body).iterfind(".//C:calendar-data", NS):
        for event in icalendar.Calendar.from_ical(data.text or "").walk("VEVENT"):
            spans.append((event.decoded("DTSTART").astimezone(UTC), event.decoded("DTEND").astimezone(UTC)))
    return sorted(spans)


def test_radicale_expands_the_feeds_to_the_api_occurrences(
    client: FlaskClient, booker: Booker, secretary: Any, technician: Any, frozen_clock: object,
    radicale: Radicale,
) -> None:
    produced = produce(client, booker, secretary, technician)
    for name in ("feed-endpoint.ics", "feed-user.ics"):
        collection = f"/kythuat/{name.removesuffix('.ics')}/"
        status, body = radicale.request("MKCALENDAR", collection)
        assert status == 201, body
        for uid, resource in _resources(produced.files[name]).items():
            status, body = radicale.request("PUT", f"{collection}{uid}.ics", resource,
                                            **{"Content-Type": "text/calendar; charset=utf-8"})
            assert status == 201, body
            got, stored = radicale.request("GET", f"{collection}{uid}.ics")  # read back
            assert got == 200 and icalendar.Calendar.from_ical(stored).walk("VEVENT")
        expected = produced.expected[name]
        assert expected and _expanded(radicale, collection) == expected, name
