"""monitor_tick against a real MCU emulator subprocess, driven through its control API: a dropped
call, critical packet loss, a muted microphone, an endpoint offline before its booked meeting; status
history and uptime; the scheduler heartbeat."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from confbridge import clock
from confbridge.alarms.models import Alarm
from confbridge.launch.models import ConferenceRun, SchedulerLease
from confbridge.monitor.models import EndpointStatus, EndpointStatusHistory
from confbridge.monitor.probes import EmulatorProbe
from confbridge.monitor.service import check_scheduler_heartbeat, monitor_tick, uptime
from confbridge.settings import Settings
from tests.conftest import both_databases
from tests.fixtures.mcu import McuEmulator
from tests.integration.monitor.conftest import Captured, LiveConference, add_site_endpoints, book


def statuses(factory: sessionmaker[Session]) -> dict[int, str]:
    with factory() as s:
        return {row.endpoint_id: row.status for row in s.scalars(select(EndpointStatus))}


def open_alarms(factory: sessionmaker[Session]) -> list[Alarm]:
    with factory() as s:
        return list(s.scalars(select(Alarm).where(Alarm.cleared_at.is_(None)).order_by(Alarm.id)))


def tick(factory: sessionmaker[Session], settings: Settings, conf: LiveConference | None = None,
         probe: Any = None) -> int:
    drivers = {"test-mcu": conf.driver} if conf is not None else {}
    return monitor_tick(factory, settings, drivers, clock.now(), probe=probe)


def test_dropped_call_turns_failed_with_one_alarm(
    frozen_clock: clock.FrozenClock, live_conference: LiveConference, session_factory: sessionmaker[Session],
    settings: Settings, published: Captured,
) -> None:
    conf = live_conference
    assert tick(session_factory, settings, conf) == 3
    assert set(statuses(session_factory).values()) == {"in_call"}
    dropped = conf.endpoint_ids[1]
    conf.emulator.drop(conf.conference, conf.participant(dropped))
    published.events.clear()
    frozen_clock.advance(seconds=5)
    assert tick(session_factory, settings, conf) == 1
    assert statuses(session_factory)[dropped] == "failed"
    [alarm] = open_alarms(session_factory)
    assert (alarm.kind, alarm.endpoint_id, alarm.conference_id) == ("call_dropped", dropped, conf.run_id)
    assert "UBND huyện Phú Quốc" in alarm.message
    [status_event] = published.of("endpoint.status")
    assert (status_event["endpoint_id"], status_event["status"], status_event["previous"]) == \
        (dropped, "failed", "in_call")
    assert published.of("alarm")[0]["alarm"]["kind"] == "call_dropped"
    frozen_clock.advance(seconds=5)
    published.events.clear()
    assert tick(session_factory, settings, conf) == 0  # nothing new: no event, no second alarm
    assert published.events == []
    assert [a.count for a in open_alarms(session_factory)] == [1]


def test_packet_loss_and_mute(
    frozen_clock: clock.FrozenClock, mcu_emulator: McuEmulator, session_factory: sessionmaker[Session],
    settings: Settings, live_conference: LiveConference,
) -> None:
    conf = live_conference
    lossy, muted = conf.endpoint_ids[0], conf.endpoint_ids[2]
    # The far end's line gets bad: the emulator applies the loss from the next answer on.
    conf.emulator.set_endpoint(conf.addresses[0], "answer", packet_loss="critical", answer_delay=0.05)
    conf.driver.hangup(conf.conference, conf.participant(lossy), "sip")
    conf.driver.redial(conf.conference, conf.participant(lossy), "sip")
    conf.emulator.wait_for(lambda st: any(p["packetLoss"] == "critical" for p in st["participants"]))
    conf.driver.set_mute(conf.conference, conf.participant(muted), "sip", audio=True)
    tick(session_factory, settings, conf)
    now = statuses(session_factory)
    assert now[lossy] == "degraded"
    assert now[muted] == "muted"
    assert now[conf.endpoint_ids[1]] == "in_call"
    [alarm] = open_alarms(session_factory)
    assert (alarm.kind, alarm.severity, alarm.endpoint_id) == ("packet_loss", "critical", lossy)
    # Line recovers: the alarm clears.
    conf.emulator.set_endpoint(conf.addresses[0], "answer", packet_loss="none")
    conf.driver.hangup(conf.conference, conf.participant(lossy), "sip")
    conf.driver.redial(conf.conference, conf.participant(lossy), "sip")
    conf.emulator.wait_for(lambda st: all(p["packetLoss"] == "none" and p["callState"] == "connected"
                                          for p in st["participants"]))
    frozen_clock.advance(seconds=5)
    tick(session_factory, settings, conf)
    assert statuses(session_factory)[lossy] == "in_call"
    assert open_alarms(session_factory) == []


@both_databases
def test_offline_endpoint_alarms_only_when_booked_soon(
    frozen_clock: clock.FrozenClock, mcu_emulator: McuEmulator, session_factory: sessionmaker[Session],
    settings: Settings, make_user: Any,
) -> None:
    organiser = make_user("secretary", "thuky")
    booked, free, later = add_site_endpoints(
        session_factory, ["UBND huyện Giang Thành", "UBND huyện Kiên Hải", "UBND huyện U Minh Thượng"],
        "Huyện")
    book(session_factory, organiser.id, [booked.id], timedelta(minutes=40))  # window opens in 25 min
    book(session_factory, organiser.id, [later.id], timedelta(hours=3), title="Họp chiều")
    for e in (booked, free, later):
        mcu_emulator.set_endpoint(e.address, "offline")
    probe = EmulatorProbe(mcu_emulator.control_url)
    tick(session_factory, settings, probe=probe)
    assert statuses(session_factory) == {booked.id: "offline", free.id: "offline", later.id: "offline"}
    [alarm] = open_alarms(session_factory)
    assert (alarm.kind, alarm.endpoint_id, alarm.severity) == ("endpoint_offline", booked.id, "critical")
    assert "Giao ban tuần" in alarm.message and "07:40" in alarm.message  # local time, Asia/Ho_Chi_Minh
    # Back online: seen at the next probe (monitor.probe_seconds later), the alarm clears.
    mcu_emulator.set_endpoint(booked.address, "online")
    frozen_clock.advance(seconds=30)
    tick(session_factory, settings, probe=probe)
    assert statuses(session_factory)[booked.id] == "offline"  # not probed again yet
    frozen_clock.advance(seconds=31)
    tick(session_factory, settings, probe=probe)
    assert statuses(session_factory)[booked.id] == "idle"
    assert open_alarms(session_factory) == []


def test_history_gives_uptime(
    frozen_clock: clock.FrozenClock, mcu_emulator: McuEmulator, session_factory: sessionmaker[Session],
    settings: Settings,
) -> None:
    [ep] = add_site_endpoints(session_factory, ["Sở Y tế"], "TP Rạch Giá")
    probe = EmulatorProbe(mcu_emulator.control_url)
    start = frozen_clock.now()
    tick(session_factory, settings, probe=probe)  # idle
    frozen_clock.advance(minutes=10)
    mcu_emulator.set_endpoint(ep.address, "offline")
    tick(session_factory, settings, probe=probe)  # offline
    frozen_clock.advance(minutes=5)
    mcu_emulator.set_endpoint(ep.address, "online")
    tick(session_factory, settings, probe=probe)  # idle again
    frozen_clock.advance(minutes=45)
    with session_factory() as s:
        rows = s.scalars(select(EndpointStatusHistory).order_by(EndpointStatusHistory.id)).all()
        assert [r.status for r in rows] == ["idle", "offline", "idle"]
        assert uptime(s, ep.id, start, frozen_clock.now()) == {"idle": 55 * 60.0, "offline": 5 * 60.0}


def test_scheduler_heartbeat_alarm(
    frozen_clock: clock.FrozenClock, session_factory: sessionmaker[Session], settings: Settings,
) -> None:
    assert check_scheduler_heartbeat(session_factory, settings)  # no scheduler yet: nothing missing
    now = frozen_clock.now()
    with session_factory.begin() as s:
        s.add(SchedulerLease(name="launch", holder="host-a", token=1, expires_at=now + timedelta(seconds=10),
                             acquired_at=now, renewed_at=now))
    frozen_clock.advance(seconds=61)
    assert not check_scheduler_heartbeat(session_factory, settings)
    assert not check_scheduler_heartbeat(session_factory, settings)
    [alarm] = open_alarms(session_factory)
    assert (alarm.kind, alarm.count) == ("scheduler_heartbeat", 1)
    with session_factory.begin() as s:
        lease = s.get(SchedulerLease, "launch")
        assert lease is not None
        lease.renewed_at = frozen_clock.now()
    assert check_scheduler_heartbeat(session_factory, settings)
    assert open_alarms(session_factory) == []


def test_bridge_feedback_event_makes_the_loop_poll_at_once(
    live_conference: LiveConference, session_factory: sessionmaker[Session], settings: Settings,
) -> None:
    import threading
    import time

    from confbridge.monitor.loop import FeedbackReceiver, MonitorLoop

    slow = settings.with_overrides(**{"monitor.poll_seconds": 60})  # only a hint can cause a 2nd pass
    conf = live_conference
    loop = MonitorLoop(session_factory, slow, {"test-mcu": conf.driver})
    receiver = FeedbackReceiver(loop.hint).start()
    stop = threading.Event()
    try:
        assert receiver.register({"test-mcu": conf.driver}) == ["test-mcu"]
        thread = threading.Thread(target=loop.run, args=(stop,), daemon=True)
        thread.start()
        deadline = time.monotonic() + 5
        while statuses(session_factory).get(conf.endpoint_ids[0]) != "in_call" and time.monotonic() < deadline:
            time.sleep(0.05)
        conf.emulator.drop(conf.conference, conf.participant(conf.endpoint_ids[0]))  # pushes participantLeft
        deadline = time.monotonic() + 5
        while statuses(session_factory).get(conf.endpoint_ids[0]) != "failed" and time.monotonic() < deadline:
            time.sleep(0.05)
        assert statuses(session_factory)[conf.endpoint_ids[0]] == "failed"
        assert receiver.received >= 1
        assert loop.passes >= 2
        # Given up (a hand-over): the bridge no longer pushes to this receiver, nor keeps its slot.
        assert [r["receiverURI"] for r in conf.driver.query_feedback()] == [receiver.uri]
        receiver.unregister({"test-mcu": conf.driver})
        assert conf.driver.query_feedback() == []
    finally:
        stop.set()
        loop.hint()
        receiver.stop()


def test_with_bridge_leases_each_scheduler_judges_its_bridges_calls_and_the_global_one_probes_idle_ones(
    frozen_clock: clock.FrozenClock, live_conference: LiveConference, session_factory: sessionmaker[Session],
    settings: Settings, make_user: Any,
) -> None:
    conf = live_conference
    [idle] = add_site_endpoints(session_factory, ["UBND huyện An Biên"], "Huyện")
    probe = EmulatorProbe(conf.emulator.control_url)
    # The holder of another bridge's lease (and of the global one): the calls on test-mcu are not its to
    # judge, and an endpoint in a call is never probed; the idle endpoint is.
    assert monitor_tick(session_factory, settings, {}, clock.now(), probe=probe, bridges={"mcu-other"},
                        probe_idle=True) == 1
    assert statuses(session_factory) == {idle.id: "idle"}
    # The holder of test-mcu's lease: its calls, and no probing.
    frozen_clock.advance(seconds=5)
    assert monitor_tick(session_factory, settings, {"test-mcu": conf.driver}, clock.now(), probe=probe,
                        bridges={"test-mcu"}, probe_idle=False) == 3
    assert statuses(session_factory) == {**{e: "in_call" for e in conf.endpoint_ids}, idle.id: "idle"}


def test_after_a_call_ends_each_probe_publishes_only_real_changes(
    frozen_clock: clock.FrozenClock, live_conference: LiveConference, session_factory: sessionmaker[Session],
    settings: Settings, published: Captured,
) -> None:
    """An endpoint back from a call keeps its last conference on the row; an idle probe answer names
    none, which is no change: consoles were sent every such endpoint again at every probe."""
    conf = live_conference
    probe = EmulatorProbe(conf.emulator.control_url)
    assert tick(session_factory, settings, conf, probe) == 3
    with session_factory.begin() as s:
        s.get(ConferenceRun, conf.run_id).state = "ended"  # type: ignore[union-attr]
    frozen_clock.advance(seconds=5)
    published.events.clear()
    assert tick(session_factory, settings, conf, probe) == 3  # in_call → idle, once each
    assert {(e["status"], e["previous"]) for e in published.of("endpoint.status")} == {("idle", "in_call")}
    for _ in range(3):
        frozen_clock.advance(seconds=settings.monitor.probe_seconds + 1)
        published.events.clear()
        assert tick(session_factory, settings, conf, probe) == 0
        assert published.of("endpoint.status") == []
    with session_factory() as s:  # still stamped by every probe, and still naming the last conference
        rows = list(s.scalars(select(EndpointStatus)))
    assert {(r.status, r.conference_id, r.checked_at) for r in rows} == {("idle", conf.run_id, clock.now())}


def test_a_call_that_holds_is_restamped_once_per_probe_interval_not_at_every_pass(
    frozen_clock: clock.FrozenClock, live_conference: LiveConference, session_factory: sessionmaker[Session],
    settings: Settings, published: Captured,
) -> None:
    conf = live_conference
    assert tick(session_factory, settings, conf) == 3
    first = clock.now()
    frozen_clock.advance(seconds=5)
    published.events.clear()
    assert tick(session_factory, settings, conf) == 0
    assert published.events == []
    with session_factory() as s:
        assert {r.checked_at for r in s.scalars(select(EndpointStatus))} == {first}
    frozen_clock.advance(seconds=settings.monitor.probe_seconds)
    assert tick(session_factory, settings, conf) == 0
    with session_factory() as s:
        assert {(r.status, r.checked_at) for r in s.scalars(select(EndpointStatus))} == {("in_call", clock.now())}
    assert published.events == []


def test_feedback_receiver_listens_where_configured_and_gives_the_bridge_its_reachable_address(
    live_conference: LiveConference, settings: Settings,
) -> None:
    """A real MCU is on another machine: the scheduler listens on every interface (or its LAN address),
    within a firewall's port range, and gives the bridge the address it can call."""
    import socket
    import time

    from confbridge.monitor.loop import FeedbackReceiver
    from tests.services import free_port

    conf = live_conference
    first = free_port()
    taken = socket.socket()
    taken.bind(("0.0.0.0", first))  # another receiver already holds the range's first port
    taken.listen()
    hints: list[float] = []
    scheduler = settings.with_overrides(**{
        "scheduler.feedback_host": "0.0.0.0", "scheduler.feedback_address": "127.0.0.1",
        "scheduler.feedback_ports": f"{first}-{first + 20}"}).scheduler
    receiver = FeedbackReceiver.for_scheduler(lambda: hints.append(time.monotonic()), scheduler).start()
    try:
        port = receiver.server.server_address[1]
        assert first < port <= first + 20
        assert receiver.register({"test-mcu": conf.driver}) == ["test-mcu"]
        assert [r["receiverURI"] for r in conf.driver.query_feedback()] == [f"http://127.0.0.1:{port}/RPC2"]
        conf.emulator.drop(conf.conference, conf.participant(conf.endpoint_ids[0]))  # pushes participantLeft
        deadline = time.monotonic() + 5
        while not hints and time.monotonic() < deadline:
            time.sleep(0.05)
        assert hints, "the bridge's push did not reach the receiver"
        receiver.unregister({"test-mcu": conf.driver})
    finally:
        receiver.stop()
        taken.close()


def test_a_wildcard_feedback_host_needs_the_address_the_bridges_call(settings: Settings) -> None:
    import pytest

    from confbridge.settings import SettingsError

    with pytest.raises(SettingsError, match="feedback_address must be set"):
        settings.with_overrides(**{"scheduler.feedback_host": "0.0.0.0"})
    with pytest.raises(SettingsError, match="feedback_ports"):
        settings.with_overrides(**{"scheduler.feedback_ports": "9200-9100"})
    ok = settings.with_overrides(**{"scheduler.feedback_host": "::", "scheduler.feedback_address": "fd00::5",
                                    "scheduler.feedback_ports": "9100-9119"}).scheduler
    assert (ok.feedback_port_range(), ok.feedback_uri_host()) == ((9100, 9119), "[fd00::5]")


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_two_passes_meeting_an_endpoints_first_status_do_not_fail_each_other(
    frozen_clock: clock.FrozenClock, session_factory: sessionmaker[Session], settings: Settings,
) -> None:
    """A bridge's loop and the idle probe (or two schedulers) may both store an endpoint's first status
    at once: the slower pass waits for the other's row and goes on from it, instead of failing whole
    (a dropped call's alarm in the same pass would have waited for the next one)."""
    import threading

    [ep] = add_site_endpoints(session_factory, ["Sở Tư pháp"], "TP Rạch Giá")
    other = session_factory()
    other.add(EndpointStatus(endpoint_id=ep.id, status="dialling", since=clock.now(), checked_at=clock.now(),
                             packet_loss="none", detail=""))
    other.flush()  # the other pass's first status: written, not yet committed
    changed: list[int] = []
    def judge() -> None:
        changed.append(monitor_tick(session_factory, settings, {}, clock.now()))

    probe_pass = threading.Thread(target=judge, daemon=True)
    probe_pass.start()
    probe_pass.join(1.0)
    assert changed == []  # waiting for the other pass's row
    other.commit()
    other.close()
    probe_pass.join(10)
    assert changed == [1]
    assert statuses(session_factory) == {ep.id: "idle"}  # the dial ended with no call: idle, from "dialling"
