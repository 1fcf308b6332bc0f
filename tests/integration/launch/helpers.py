"""Booking rows and engines for launch tests (the booking service is the lead's; rows are enough here)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from confbridge import clock
from confbridge.auth.models import User
from confbridge.booking.models import EndpointSlot, Meeting, Occurrence
from confbridge.bridges.registry import make_driver
from confbridge.directory.models import Endpoint, Site
from confbridge.launch.executor import LaunchEngine
from confbridge.launch.models import CallLeg, ConferenceRun, TimelineEntry
from confbridge.settings import BridgeSettings, Settings


def make_endpoints(factory: sessionmaker[Session], n: int, prefix: str = "ep") -> list[int]:
    with factory.begin() as s:
        site = s.scalars(select(Site).where(Site.name == "Kiên Giang")).first()
        if site is None:
            site = Site(name="Kiên Giang")
            s.add(site)
            s.flush()
        ids = []
        for i in range(n):
            tag = uuid.uuid4().hex[:6]
            ep = Endpoint(name=f"UBND huyện <{prefix}> {i} {tag}", site_id=site.id, protocol="sip",
                          address=f"{prefix}{i}-{tag}@127.0.0.1", seats=10)
            s.add(ep)
            s.flush()
            ids.append(ep.id)
        return ids


def _organiser(s: Session) -> User:
    user = s.scalars(select(User).where(User.username == "launch-organiser")).first()
    if user is None:
        from confbridge.auth.service import create_user

        user = create_user(s, "launch-organiser", uuid.uuid4().hex, "secretary")
    return user


def book(factory: sessionmaker[Session], start: datetime, *, minutes: float = 30, setup: int = 5,
         endpoints: list[int], bridge: str | None = None, title: str = "Giao ban tuần <b>",
         organiser_id: int | None = None, booked_at: datetime | None = None) -> tuple[int, int]:
    """One planned one-off meeting with its occurrence and slots: ``(meeting id, occurrence id)``.

    *booked_at*: when it was booked (default: the day before; an urgent meeting is booked late)."""
    end = start + timedelta(minutes=minutes)
    booked_at = booked_at or start - timedelta(days=1)
    with factory.begin() as s:
        org = organiser_id or _organiser(s).id
        meeting = Meeting(uid=f"{uuid.uuid4()}@test", title=title, organiser_id=org, bridge_name=bridge,
                          start=start, end=end, timezone="Asia/Ho_Chi_Minh", setup_minutes=setup,
                          exdates=[], status="planned", sequence=0, created_at=booked_at,
                          updated_at=booked_at)
        meeting.endpoints = [s.get(Endpoint, i) for i in endpoints]  # type: ignore[misc]
        s.add(meeting)
        s.flush()
        occ = Occurrence(meeting_id=meeting.id, original_start=start, start=start, end=end,
                         setup_minutes=setup, status="planned")
        s.add(occ)
        s.flush()
        for ep in endpoints:
            s.add(EndpointSlot(occurrence_id=occ.id, meeting_id=meeting.id, endpoint_id=ep,
                               bridge_name=bridge, window_start=start - timedelta(minutes=setup),
                               window_end=end))
        return meeting.id, occ.id


def run_for(factory: sessionmaker[Session], occurrence_id: int) -> ConferenceRun:
    with factory() as s:
        run = s.scalars(select(ConferenceRun).where(ConferenceRun.occurrence_id == occurrence_id)).one()
        _ = run.legs
        return run


def legs(factory: sessionmaker[Session], run_id: int) -> list[CallLeg]:
    with factory() as s:
        return list(s.scalars(select(CallLeg).where(CallLeg.run_id == run_id).order_by(CallLeg.endpoint_id)))


def timeline(factory: sessionmaker[Session], run_id: int) -> list[TimelineEntry]:
    with factory() as s:
        return list(s.scalars(select(TimelineEntry).where(TimelineEntry.run_id == run_id)
                              .order_by(TimelineEntry.id)))


def engine_for(settings: Settings, factory: sessionmaker[Session], bridge: BridgeSettings,
               *, attempts: int | None = None, launch: dict[str, Any] | None = None,
               **kwargs: Any) -> tuple[Settings, LaunchEngine]:
    """An engine on one bridge.  *attempts*: the driver's own retry count (1 shows faults at once)."""
    overrides: dict[str, Any] = {"bridges": [{**bridge.model_dump(), "default": True}]}
    overrides.update({f"launch.{k}": v for k, v in (launch or {}).items()})
    settings = settings.with_overrides(**overrides)
    if attempts is not None:
        from confbridge.bridges.cisco_mcu import CiscoMcuDriver

        driver: Any = CiscoMcuDriver(settings.bridges[0], attempts=attempts, backoff_base=0.01)
    else:
        driver = make_driver(settings.bridges[0])
    return settings, LaunchEngine(factory, settings, {bridge.name: driver}, **kwargs)


def drive(engine: LaunchEngine, fc: clock.FrozenClock, until: Callable[[], bool], *, step: float = 1.0,
          max_steps: int = 60, real_pause: float = 0.05) -> None:
    """Step the frozen clock and tick until *until* holds.  The emulator's calls progress in real time
    (tens of ms), so each step allows a short real pause; bounded by *max_steps*."""
    import time

    for _ in range(max_steps):
        engine.tick(wait=True)
        if until():
            return
        time.sleep(real_pause)
        fc.advance(seconds=step)
    raise AssertionError("condition not reached while stepping the clock")
