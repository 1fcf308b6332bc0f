"""Every kind of calendar file confbridge produces, made through the real paths (booking service, outbox,
feed URLs), plus the occurrences the REST API reports for the same meetings — what a calendar client
must end up showing.  Shared by the ical.js/icalendar/vobject test and the Radicale (CalDAV) test."""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from flask.testing import FlaskClient

from confbridge.invites.outbox import parse_raw
from confbridge.settings import PROJECT_ROOT
from tests import services
from tests.integration.invites.conftest import Booker, calendar_part

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
BERLIN = ZoneInfo("Europe/Berlin")
FROM = datetime(2026, 11, 1, tzinfo=UTC)
TO = datetime(2027, 6, 30, tzinfo=UTC)
ICAL_JS = PROJECT_ROOT / "tests" / "js" / "ical"
Span = tuple[datetime, datetime]


@dataclass
class Produced:
    """name → bytes of every file, and the API's occurrences each live (non-CANCEL) file must show."""

    files: dict[str, bytes]
    expected: dict[str, list[Span]]
    feeds: dict[str, str]  # feed name → path with its token
    feed_ids: dict[str, int]


def _path(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def api_occurrences(client: FlaskClient, headers: dict[str, str], endpoint_id: int | None = None,
                    meeting_id: int | None = None) -> list[Span]:
    query = f"from={FROM.isoformat()}&to={TO.isoformat()}".replace("+", "%2B")
    if endpoint_id is not None:
        query += f"&endpoint_id={endpoint_id}"
    response = client.get(f"/api/v1/occurrences?{query}", headers=headers)
    assert response.status_code == 200, response.get_json()
    return sorted(
        (datetime.fromisoformat(o["start"]).astimezone(UTC), datetime.fromisoformat(o["end"]).astimezone(UTC))
        for o in response.get_json()
        if o["status"] == "planned" and (meeting_id is None or o["meeting_id"] == meeting_id)
    )


def produce(client: FlaskClient, booker: Booker, secretary: Any, technician: Any) -> Produced:
    """A weekly briefing with a moved and a cancelled occurrence, a daily series in Berlin across the
    summer-time change, a one-off meeting and a cancelled one; their mails; the endpoint and user feeds."""
    host, second = booker.endpoint_ids[0], booker.endpoint_ids[1]
    weekly_start = datetime(2026, 12, 7, 7, 30, tzinfo=HCM)
    weekly = booker.create(weekly_start, weekly_start + timedelta(hours=2), rrule="FREQ=WEEKLY;BYDAY=MO;COUNT=6")
    moved = (weekly_start + timedelta(weeks=2)).astimezone(UTC)
    booker.move_occurrence(weekly, moved, moved + timedelta(days=1, hours=1), moved + timedelta(days=1, hours=3))
    after_move = api_occurrences(client, secretary.headers, meeting_id=weekly)  # what that REQUEST says
    booker.cancel_occurrence(weekly, (weekly_start + timedelta(weeks=4)).astimezone(UTC))
    abroad_start = datetime(2027, 3, 25, 9, 0, tzinfo=BERLIN)  # summer time from 28/03
    booker.create(abroad_start, abroad_start + timedelta(hours=1), timezone="Europe/Berlin",
                  rrule="FREQ=DAILY;COUNT=6", title="Họp với đối tác Đức", endpoint_ids=[second],
                  host_endpoint_id=second)
    one_off = datetime(2026, 12, 9, 14, 0, tzinfo=HCM)
    booker.create(one_off, one_off + timedelta(hours=1), title="Họp một lần; \"đặc biệt\", ký tự")
    gone = booker.create(one_off + timedelta(days=1), one_off + timedelta(days=1, hours=1), title="Sẽ hủy")
    booker.cancel(gone)

    files: dict[str, bytes] = {}
    expected: dict[str, list[Span]] = {}
    for row in booker.outbox():
        data, method = calendar_part(parse_raw(row.raw))
        files[f"mail-{row.id}-{method.lower()}-m{row.meeting_id}.ics"] = data
    # The last REQUEST of the briefing is the move's (the cancellation after it is a CANCEL of one instance).
    latest_request = [n for n in files if n.endswith(f"-request-m{weekly}.ics")][-1]
    expected[latest_request] = after_move

    feeds: dict[str, str] = {}
    feed_ids: dict[str, int] = {}
    for name, body, who in (("endpoint", {"kind": "endpoint", "endpoint_id": host}, technician),
                            ("user", {"kind": "user"}, secretary)):
        created = client.post("/api/v1/feeds", json=body, headers=who.headers)
        assert created.status_code == 201
        feeds[name], feed_ids[name] = _path(created.get_json()["url"]), created.get_json()["id"]
        response = client.get(feeds[name])
        assert response.status_code == 200
        files[f"feed-{name}.ics"] = response.data
    expected["feed-endpoint.ics"] = api_occurrences(client, technician.headers, endpoint_id=host)
    expected["feed-user.ics"] = api_occurrences(client, secretary.headers)  # thuky organises them all
    assert len(expected["feed-user.ics"]) == 5 + 6 + 1  # 6 weekly − 1 cancelled, 6 daily, 1 one-off
    return Produced(files, expected, feeds, feed_ids)


def run_ical_js(files: dict[str, bytes]) -> dict[str, Any]:
    """Mozilla ical.js (Node) over every file: its errors and its expansion, per file."""
    node = shutil.which("node")
    if node is None:
        services.unavailable("node (Debian nodejs) is not installed")
    if not (ICAL_JS / "node_modules" / "ical.js").exists():
        services.unavailable("ical.js is not installed: npm ci --prefix tests/js/ical")
    request = {"files": {name: data.decode("utf-8") for name, data in files.items()},
               "from": FROM.isoformat(), "to": TO.isoformat()}
    done = subprocess.run([str(node), str(ICAL_JS / "check.mjs")], input=json.dumps(request), cwd=ICAL_JS,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    report: dict[str, Any] = json.loads(done.stdout)
    return report


def spans(items: list[dict[str, str]]) -> list[Span]:
    return sorted((_utc(i["start"]), _utc(i["end"])) for i in items)


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def write_all(produced: Produced, folder: Path) -> None:
    """Keep the files next to the test's artefacts (useful when a client disagrees)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in produced.files.items():
        (folder / name).write_bytes(data)
