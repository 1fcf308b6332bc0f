"""The monitor reads through the bridge's shared ``ParticipantView`` (the one the scheduler also gives
the launch engine): after the first pass it asks the bridge only for changes, and still sees them."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from confbridge import clock
from confbridge.bridges.view import ParticipantView
from confbridge.monitor.models import EndpointStatus
from confbridge.monitor.service import monitor_tick
from confbridge.settings import Settings
from tests.integration.monitor.conftest import LiveConference


def test_monitor_polls_through_the_shared_view(
    frozen_clock: clock.FrozenClock, live_conference: LiveConference, session_factory: sessionmaker[Session],
    settings: Settings,
) -> None:
    conf = live_conference
    view = ParticipantView(conf.driver)
    drivers = {"test-mcu": conf.driver}
    assert monitor_tick(session_factory, settings, drivers, clock.now(), views={"test-mcu": view}) == 3
    dropped = conf.endpoint_ids[0]
    conf.emulator.drop(conf.conference, conf.participant(dropped))
    frozen_clock.advance(seconds=5)
    assert monitor_tick(session_factory, settings, drivers, clock.now(), views={"test-mcu": view}) == 1
    with session_factory() as s:
        assert s.scalar(select(EndpointStatus.status).where(EndpointStatus.endpoint_id == dropped)) == "failed"
    assert (view.full_reads, view.delta_reads) == (1, 1)
