"""REST /api/v1/reports on both databases, with data from real launches against the MCU emulator:
call detail records (JSON, CSV re-read by csv, XLSX re-read by openpyxl), use, punctuality and reliability."""

from __future__ import annotations

import csv
import io
import shutil
import sqlite3
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from confbridge import clock
from confbridge.alarms.models import Alarm
from confbridge.app import create_app
from confbridge.db import make_engine, make_session_factory
from confbridge.directory.models import Endpoint
from confbridge.launch.models import RunState
from confbridge.monitor.models import EndpointStatusHistory
from confbridge.settings import BridgeSettings
from tests.conftest import TestUser as SecretaryUser
from tests.conftest import _postgres_url, _sqlite_url, both_databases, settings_for
from tests.fixtures.mcu import McuEmulator, running_mcu_emulator
from tests.integration.launch.helpers import book, drive, engine_for, make_endpoints, run_for

DAY = "from=2026-11-30&to=2026-11-30"


@dataclass
class Snapshot:
    """A database after two meetings launched and ended on the emulator, built once per module and
    database kind; each test works on its own copy (a file copy, or ``CREATE DATABASE … TEMPLATE``)."""

    source: str  # the SQLite file, or the PostgreSQL database to copy
    endpoints: list[int]
    occurrences: tuple[int, int]
    secretary: SecretaryUser
    bridge: BridgeSettings
    now: datetime


@pytest.fixture(scope="module")
def report_emulator() -> Iterator[McuEmulator]:
    with running_mcu_emulator() as emulator:
        yield emulator


@pytest.fixture(scope="module")
def snapshots() -> dict[str, Snapshot]:
    return {}


def _build(url: str, directory: Path, emulator: McuEmulator) -> Snapshot:
    """Two meetings launched and ended on the emulator: A (secretary 'thuky': one busy endpoint, one good),
    B (another secretary: one good endpoint).  Then it is the day after, 07:00 in Hà Nội."""
    settings = settings_for(directory, url)
    engine = make_engine(url)
    session_factory = make_session_factory(engine)
    fc = clock.FrozenClock(datetime(2026, 11, 30, 0, 0, tzinfo=UTC))  # the frozen_clock fixture's start
    try:
        with clock.use_clock(fc):
            thuky, other = (_user(session_factory, "thuky"), _user(session_factory, "thuky2"))
            eps = make_endpoints(session_factory, 3)
            start = fc.now() + timedelta(minutes=1)
            _ma, occ_a = book(session_factory, start, minutes=2, setup=1, endpoints=eps[:2],
                              organiser_id=thuky.id, title="Giao ban tuần Sở TT&TT")
            _mb, occ_b = book(session_factory, start, minutes=2, setup=1, endpoints=eps[2:],
                              organiser_id=other.id, title="Họp UBND huyện")
            with session_factory() as s:
                busy = s.get(Endpoint, eps[0])
                assert busy is not None
                emulator.set_endpoint(busy.address, "busy", answer_delay=0.02)
            s2, launch = engine_for(settings, session_factory, emulator.bridge_settings(),
                                    launch={"dial_attempts": 3, "dial_backoff_seconds": 5, "poll_seconds": 1})
            try:
                drive(launch, fc,
                      lambda: all(run_for(session_factory, o).state == RunState.ENDED for o in (occ_a, occ_b)),
                      step=3, max_steps=120)
            finally:
                launch.close()
            # Monitor history: endpoint 3 offline for 6 of the day's hours; the bridge unreachable for 1 hour.
            day_start = fc.now().replace(hour=0) - timedelta(hours=7)  # 00:00 in Hà Nội
            with session_factory.begin() as s:
                s.add(EndpointStatusHistory(endpoint_id=eps[2], status="offline", started_at=day_start,
                                            ended_at=day_start + timedelta(hours=6)))
                s.add(Alarm(key="bridge_unreachable:x", kind="bridge_unreachable", message="-",
                            bridge_name=s2.bridges[0].name, raised_at=day_start + timedelta(hours=1),
                            last_seen_at=day_start + timedelta(hours=2), cleared_at=day_start + timedelta(hours=2)))
    finally:
        engine.dispose()
    source = url.rsplit("/", 1)[1]
    if url.startswith("sqlite:///"):
        source = url.removeprefix("sqlite:///")
        conn = sqlite3.connect(source)  # fold the WAL into the file: copying the file copies the database
        conn.execute("PRAGMA journal_mode=DELETE")
        conn.close()
    # The day is over: availability over the whole day.
    return Snapshot(source, eps, (occ_a, occ_b), thuky, s2.bridges[0], day_start + timedelta(hours=24))


def _user(session_factory: Any, name: str) -> SecretaryUser:
    from confbridge.auth.service import create_user, issue_token

    password = f"pw-{uuid.uuid4().hex}"
    with session_factory.begin() as s:
        user = create_user(s, name, password, "secretary", email=f"{name}@ubnd.example")
        token, _ = issue_token(s, user, hours=24 * 30)  # outlives frozen-clock jumps
        return SecretaryUser(user.id, name, password, "secretary", token)


@pytest.fixture
def db_url(request: pytest.FixtureRequest, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory,
           sqlite_template: Path, snapshots: dict[str, Snapshot], report_emulator: McuEmulator) -> str:
    """This test's own copy of the module's snapshot for its kind of database (built by the first test)."""
    kind = request.param
    if kind not in snapshots:
        directory = tmp_path_factory.mktemp(f"reports-{kind}")
        url = _postgres_url(request) if kind == "postgresql" else _sqlite_url(sqlite_template, directory)
        snapshots[kind] = _build(url, directory, report_emulator)
    source = snapshots[kind].source
    if kind == "postgresql":
        return _postgres_url(request, template=source)
    copy = tmp_path / "confbridge.db"
    shutil.copy(source, copy)
    return f"sqlite:///{copy}"


@pytest.fixture
def ended(request: pytest.FixtureRequest, settings: Any, engine: Any, session_factory: Any, frozen_clock: Any,
          snapshots: dict[str, Snapshot]) -> Any:
    """The snapshot's data (see ``_build``), served by an app on this test's copy."""
    snap = snapshots[request.node.callspec.params["db_url"]]
    frozen_clock.set(snap.now)
    s2 = settings.with_overrides(bridges=[{**snap.bridge.model_dump(), "default": True}])
    app = create_app(s2, engine=engine, testing=True)

    class Data:
        client = app.test_client()
        endpoints = snap.endpoints
        run_a = run_for(session_factory, snap.occurrences[0])
        run_b = run_for(session_factory, snap.occurrences[1])
        secretary = snap.secretary
        bridge = snap.bridge.name
    return Data


@both_databases
def test_call_detail_records_keep_each_legs_outcome(ended: Any, make_user: Any) -> None:
    tech = make_user("technician")
    c = ended.client
    body = c.get(f"/api/v1/reports/conferences?{DAY}", headers=tech.headers).get_json()
    runs = {r["id"]: r for r in body["conferences"]}
    assert set(runs) == {ended.run_a.id, ended.run_b.id}
    a = runs[ended.run_a.id]
    assert a["meeting"] == "Giao ban tuần Sở TT&TT" and a["state"] == "ended" and a["bridge"] == ended.bridge
    assert a["first_call_at"] and a["ended_at"] and a["lateness_seconds"] is not None
    assert a["occurrence_start"] == "2026-11-30T00:01:00+00:00"
    busy, good = a["legs"]
    assert (busy["outcome"], busy["reason"], busy["attempts"]) == ("failed", "busy", 3)
    assert busy["first_connected_at"] is None and busy["connected_seconds"] == 0
    assert good["outcome"] == "connected" and good["reason"] is None and good["attempts"] == 1
    assert good["first_connected_at"] and good["connected_seconds"] >= 60 and good["drops"] == 0
    # The organiser sees only her meeting; filters by endpoint and by site.
    mine = c.get(f"/api/v1/reports/conferences?{DAY}", headers=ended.secretary.headers).get_json()
    assert [r["id"] for r in mine["conferences"]] == [ended.run_a.id]
    only = c.get(f"/api/v1/reports/conferences?{DAY}&endpoint_id={ended.endpoints[2]}", headers=tech.headers)
    assert [r["id"] for r in only.get_json()["conferences"]] == [ended.run_b.id]
    site = c.get(f"/api/v1/reports/conferences?{DAY}&site=Kiên Giang", headers=tech.headers).get_json()
    assert len(site["conferences"]) == 2
    assert c.get(f"/api/v1/reports/conferences?{DAY}&site=Nowhere", headers=tech.headers).get_json()[
        "conferences"] == []
    # Another day has nothing.
    assert c.get("/api/v1/reports/conferences?from=2026-11-01&to=2026-11-29",
                 headers=tech.headers).get_json()["conferences"] == []


@both_databases
def test_csv_and_xlsx_are_one_row_per_leg_and_read_back(ended: Any, make_user: Any) -> None:
    tech = make_user("technician")
    r = ended.client.get(f"/api/v1/reports/conferences?{DAY}&format=csv", headers=tech.headers)
    assert r.status_code == 200 and r.mimetype == "text/csv"
    assert r.data.startswith(b"\xef\xbb\xbf")  # the BOM: Excel reads UTF-8 (Vietnamese) correctly
    assert "attachment" in r.headers["Content-Disposition"] and ".csv" in r.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(r.data.decode("utf-8-sig"))))
    header, data = rows[0], rows[1:]
    assert header[:2] == ["Mã hội nghị", "Cuộc họp"] and "Tên điểm cầu" in header and "Lý do" in header
    assert len(data) == 3
    by_endpoint = {row[header.index("Tên điểm cầu")]: row for row in data}
    busy = next(v for k, v in by_endpoint.items() if "<ep> 0" in k)
    assert busy[header.index("Kết quả")] == "Không kết nối được" and busy[header.index("Lý do")] == "máy bận"
    assert busy[header.index("Số lần gọi")] == "3" and busy[header.index("Cuộc họp")] == "Giao ban tuần Sở TT&TT"
    # Times are local (Hà Nội): the meeting starts 07:01.
    assert busy[header.index("Giờ họp")] == "2026-11-30 07:01:00"
    # English on request.
    en = ended.client.get(f"/api/v1/reports/conferences?{DAY}&format=csv",
                          headers={**tech.headers, "Accept-Language": "en"})
    en_rows = list(csv.reader(io.StringIO(en.data.decode("utf-8-sig"))))
    assert "Endpoint name" in en_rows[0] and any("Failed" in row for row in en_rows[1:])

    x = ended.client.get(f"/api/v1/reports/conferences?{DAY}&format=xlsx", headers=tech.headers)
    assert x.status_code == 200 and x.mimetype.endswith("spreadsheetml.sheet")
    sheet = openpyxl.load_workbook(io.BytesIO(x.data), read_only=True).active
    assert sheet is not None
    values = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert values[0] == header and len(values) == 4
    xbusy = next(row for row in values[1:] if "<ep> 0" in str(row[header.index("Tên điểm cầu")]))
    assert xbusy[header.index("Số lần gọi")] == 3 and xbusy[header.index("Lý do")] == "máy bận"
    assert str(xbusy[header.index("Giờ họp")]) == "2026-11-30 07:01:00"


@both_databases
def test_usage_by_endpoint_site_bridge_and_organiser(ended: Any, make_user: Any) -> None:
    tech = make_user("technician")
    c = ended.client
    rows = c.get(f"/api/v1/reports/usage?{DAY}&by=endpoint", headers=tech.headers).get_json()["rows"]
    by_id = {row["key"]: row for row in rows}
    assert set(by_id) == set(ended.endpoints)
    busy, good = by_id[ended.endpoints[0]], by_id[ended.endpoints[1]]
    assert busy["meetings"] == 1 and busy["booked_hours"] == round(2 / 60, 2) and busy["connected_hours"] == 0
    assert good["connected_hours"] > 0 and 0 < good["office_share"] < 0.01
    site = c.get(f"/api/v1/reports/usage?{DAY}&by=site", headers=tech.headers).get_json()["rows"]
    assert [(r["name"], r["meetings"]) for r in site] == [("Kiên Giang", 2)]
    bridge = c.get(f"/api/v1/reports/usage?{DAY}&by=bridge", headers=tech.headers).get_json()["rows"]
    assert [(r["name"], r["meetings"], r["meeting_hours"]) for r in bridge] == [(ended.bridge, 2, round(4 / 60, 2))]
    org = c.get(f"/api/v1/reports/usage?{DAY}&by=organizer", headers=tech.headers).get_json()["rows"]
    assert sorted(r["meetings"] for r in org) == [1, 1]
    mine = c.get(f"/api/v1/reports/usage?{DAY}&by=organizer", headers=ended.secretary.headers).get_json()["rows"]
    assert [r["key"] for r in mine] == [ended.secretary.id]
    x = c.get(f"/api/v1/reports/usage?{DAY}&by=site&format=xlsx", headers=tech.headers)
    sheet = openpyxl.load_workbook(io.BytesIO(x.data), read_only=True).active
    assert sheet is not None
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][0] == "Tên" and values[1][:2] == ("Kiên Giang", 2)
    text = c.get(f"/api/v1/reports/usage?{DAY}&by=endpoint&format=csv", headers=tech.headers).data
    assert len(list(csv.reader(io.StringIO(text.decode("utf-8-sig"))))) == 4


@both_databases
def test_reliability_counts_launches_failures_and_availability(ended: Any, make_user: Any) -> None:
    tech = make_user("technician")
    body = ended.client.get(f"/api/v1/reports/reliability?{DAY}", headers=tech.headers).get_json()
    assert body["launches"] == {"total": 2, "on_time": 2, "late": 0, "missed": 0, "pending": 0}
    assert body["legs"]["dialled"] == 3 and body["legs"]["connected_first_attempt"] == 2
    assert body["failures_by_reason"] == {"busy": 1}
    [failed] = body["failures_by_endpoint"]
    assert failed["endpoint_id"] == ended.endpoints[0] and failed["reasons"] == {"busy": 1}
    tta = body["time_to_all_connected"]
    assert tta["runs"] == 1 and tta["runs_not_all_connected"] == 1 and tta["p50_seconds"] is not None
    avail = {row["endpoint_id"]: row["availability"] for row in body["endpoint_availability"]}
    assert avail[ended.endpoints[2]] == 0.75 and avail[ended.endpoints[0]] == 1.0
    [bridge] = [b for b in body["bridge_availability"] if b["bridge"] == ended.bridge]
    assert bridge["availability"] == round(23 / 24, 4) and bridge["unreachable_hours"] == 1.0


@both_databases
def test_bad_report_input_is_a_field_error(ended: Any, make_user: Any) -> None:
    tech = make_user("technician")
    c = ended.client
    for query, field in (("from=yesterday", "from"), ("from=2026-11-30&to=2026-11-01", "to"),
                         ("from=2026-11-30T00:00:00", "from"), ("from=2020-01-01&to=2026-01-01", "to"),
                         ("format=pdf", "format"), ("endpoint_id=abc", "endpoint_id"),
                         (f"{DAY}&limit=0", "limit"), (f"{DAY}&limit=5001", "limit"),
                         (f"{DAY}&after=bm90LWEtY3Vyc29y", "after"), (f"{DAY}&after=%%%", "after")):
        r = c.get(f"/api/v1/reports/conferences?{query}", headers=tech.headers)
        assert r.status_code == 422 and field in r.get_json()["fields"], (query, r.get_json())
    r = c.get(f"/api/v1/reports/usage?{DAY}&by=room", headers=tech.headers)
    assert r.status_code == 422 and "by" in r.get_json()["fields"]
    assert c.get("/api/v1/reports/reliability").status_code == 401


@both_databases
def test_call_detail_records_page_by_next_without_loss_or_repeat(ended: Any, make_user: Any) -> None:
    """Both runs start at the same instant: the page boundary falls between them and neither is lost."""
    tech = make_user("technician")
    c = ended.client
    first = c.get(f"/api/v1/reports/conferences?{DAY}&limit=1", headers=tech.headers).get_json()
    assert len(first["conferences"]) == 1 and first["next"]
    second = c.get(f"/api/v1/reports/conferences?{DAY}&limit=1&after={first['next']}",
                   headers=tech.headers).get_json()
    assert len(second["conferences"]) == 1 and second["next"] is None
    paged = [r["id"] for r in first["conferences"] + second["conferences"]]
    whole = c.get(f"/api/v1/reports/conferences?{DAY}", headers=tech.headers).get_json()
    assert whole["next"] is None
    assert paged == [r["id"] for r in whole["conferences"]] and set(paged) == {ended.run_a.id, ended.run_b.id}
    assert second["conferences"][0]["legs"] == whole["conferences"][1]["legs"]
    bad = c.get(f"/api/v1/reports/conferences?{DAY}&after=xyz", headers={**tech.headers, "Accept-Language": "en"})
    assert bad.status_code == 422
    assert bad.get_json()["errors"][0]["code"] == "bad_cursor"
    assert "next" in bad.get_json()["fields"]["after"]
