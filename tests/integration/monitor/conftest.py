"""A live conference on a real MCU emulator subprocess, with the database rows the launch engine would
have written (run + legs), so the monitor can be driven through the emulator's control API."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import insert
from sqlalchemy.orm import Session, sessionmaker

from confbridge import clock, events
from confbridge.booking.models import EndpointSlot, Meeting, Occurrence, meeting_endpoints
from confbridge.bridges.base import BridgeDriver, DialTarget
from confbridge.bridges.naming import conference_name, participant_name
from confbridge.bridges.registry import make_driver
from confbridge.directory.models import Endpoint, Site
from confbridge.events import Event
from confbridge.launch.models import CallLeg, ConferenceRun
from tests.fixtures.mcu import McuEmulator

NAMES = ["Hội trường UBND tỉnh", "UBND huyện Phú Quốc", "UBND huyện <b>An Biên</b>"]


class Captured:
    def __init__(self) -> None:
        self.events: list[Event] = []

    def publish(self, event: Event) -> None:
        self.events.append(event)

    def of(self, type_: str) -> list[dict[str, Any]]:
        return [e.payload for e in self.events if e.type == type_]


@pytest.fixture
def published() -> Iterator[Captured]:
    captured = Captured()
    events.set_publisher(captured)
    yield captured
    events.set_publisher(None)


@dataclass
class LiveConference:
    emulator: McuEmulator
    driver: BridgeDriver
    run_id: int
    meeting_id: int
    conference: str
    endpoint_ids: list[int]
    addresses: list[str]

    def participant(self, endpoint_id: int) -> str:
        return participant_name(endpoint_id)


def add_site_endpoints(factory: sessionmaker[Session], names: list[str], site: str) -> list[Endpoint]:
    with factory.begin() as s:
        site_row = Site(name=site)
        s.add(site_row)
        s.flush()
        rows = [Endpoint(name=n, site_id=site_row.id, protocol="sip",
                         address=f"ep{uuid.uuid4().hex[:8]}@vc.kg.example") for n in names]
        s.add_all(rows)
        s.flush()
        for r in rows:
            s.expunge(r)
        return rows


def book(factory: sessionmaker[Session], organiser_id: int, endpoint_ids: list[int], start_in: timedelta,
         title: str = "Giao ban tuần") -> tuple[int, int]:
    """A planned one-off meeting with its occurrence and endpoint slots: ``(meeting_id, occurrence_id)``."""
    start = clock.now() + start_in
    with factory.begin() as s:
        meeting = Meeting(uid=uuid.uuid4().hex, title=title, organiser_id=organiser_id, start=start,
                          end=start + timedelta(hours=1), timezone="Asia/Ho_Chi_Minh", setup_minutes=15)
        s.add(meeting)
        s.flush()
        s.execute(insert(meeting_endpoints),
                  [{"meeting_id": meeting.id, "endpoint_id": e} for e in endpoint_ids])
        occ = Occurrence(meeting_id=meeting.id, original_start=start, start=start,
                         end=start + timedelta(hours=1), setup_minutes=15)
        s.add(occ)
        s.flush()
        for e in endpoint_ids:
            s.add(EndpointSlot(occurrence_id=occ.id, meeting_id=meeting.id, endpoint_id=e,
                               bridge_name="test-mcu", window_start=start - timedelta(minutes=15),
                               window_end=start + timedelta(hours=1)))
        return meeting.id, occ.id


@pytest.fixture
def live_conference(mcu_emulator: McuEmulator, session_factory: sessionmaker[Session], make_user: Any,
                    ) -> Iterator[LiveConference]:
    """Three endpoints connected to a conference on the emulator; the run is live in our tables."""
    organiser = make_user("secretary", "thuky")
    endpoints = add_site_endpoints(session_factory, NAMES, "TP Rạch Giá")
    ids = [e.id for e in endpoints]
    meeting_id, occ_id = book(session_factory, organiser.id, ids, timedelta(minutes=-5))
    driver = make_driver(mcu_emulator.bridge_settings())
    now = clock.now()
    name = conference_name(meeting_id, now)
    driver.ensure_conference(name)
    for e in endpoints:
        driver.ensure_participant(name, DialTarget(participant_name(e.id), "sip", e.address, e.name[:31]))
    mcu_emulator.wait_for(lambda st: sum(p["callState"] == "connected" for p in st["participants"]) == 3)
    with session_factory.begin() as s:
        run = ConferenceRun(occurrence_id=occ_id, meeting_id=meeting_id, bridge_name="test-mcu",
                            conference_name=name, state="live", planned_start=now - timedelta(minutes=20),
                            planned_end=now + timedelta(hours=1), conference_ready=True,
                            started_at=now - timedelta(minutes=20), live_at=now - timedelta(minutes=19))
        s.add(run)
        s.flush()
        for e in endpoints:
            s.add(CallLeg(run_id=run.id, endpoint_id=e.id, participant_name=participant_name(e.id),
                          protocol="sip", address=e.address, display_name=e.name, state="connected",
                          attempts=1, on_bridge=True, connected_at=now))
        run_id = run.id
    yield LiveConference(mcu_emulator, driver, run_id, meeting_id, name, ids, [e.address for e in endpoints])
    driver.close()
