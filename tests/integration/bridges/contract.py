"""The behavioural contract every ``BridgeDriver`` must pass.

A driver's test module subclasses ``DriverContract`` and provides a ``harness`` fixture: the driver
under test plus ground truth from the far side (addresses that behave as asked, the dial log, a way to
make the far end hang up).  The assertions only use what an integrator of the driver would notice.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Protocol

import pytest

from confbridge.bridges.base import (
    LAYOUTS,
    AlreadyExists,
    BridgeDriver,
    Capabilities,
    DialTarget,
    NotFound,
    ParticipantInfo,
    UnsupportedLayout,
)

_counter = itertools.count(1)


class Harness(Protocol):
    driver: BridgeDriver

    def address(self, behaviour: str = "answer", **kwargs: object) -> tuple[str, str]:
        """``(protocol, address)`` of a far end that behaves as asked (answer|busy|no_answer|rejected|
        unreachable|offline; ``hangup_after=s``, ``packet_loss=warning``)."""
        ...

    def dial_attempts(self, conference: str, participant_name: str) -> int:
        """How many times the bridge really dialled that participant."""
        ...

    def far_end_hangs_up(self, conference: str, participant_name: str) -> None: ...

    def new_driver(self) -> BridgeDriver:
        """Another driver instance for the same bridge (what a restarted process would build)."""
        ...

    def dial_in(self, number: str, address: str) -> None:
        """A far end (not dialled by us) dials the conference with numeric ID *number*."""
        ...

    def layout_shown(self, conference: str) -> object:
        """What the bridge shows everyone in *conference* (its own layout id, as the device has it)."""
        ...


@dataclass
class Conf:
    name: str


def new_conference_name() -> str:
    return f"cb-{int(time.time()) % 100000}{next(_counter)}-20261201T0030Z"


def wait_until(fn: Callable[[], bool], timeout: float = 6.0) -> None:
    """Poll (bounded) until the bridge reports the expected state: calls take a moment to set up."""
    deadline = time.monotonic() + timeout
    while not fn():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.05)


def by_name(driver: BridgeDriver, conference: str) -> dict[str, ParticipantInfo]:
    return {p.participant_name: p for p in driver.list_participants(conference)}


class DriverContract:
    """Subclass me and provide a ``harness`` fixture."""

    @pytest.fixture
    def conference(self, harness: Harness) -> str:
        name = new_conference_name()
        harness.driver.ensure_conference(name, pin="4321", duration_seconds=3600, ports=20)
        return name

    def dial(self, harness: Harness, conference: str, key: str, behaviour: str = "answer", *,
             important: bool = False, audio_rx_muted: bool = False, **kwargs: object) -> DialTarget:
        protocol, address = harness.address(behaviour, **kwargs)
        assert protocol in ("sip", "h323")
        target = DialTarget(participant_name=key, protocol=protocol, address=address,  # type: ignore[arg-type]
                            display_name=f"Điểm cầu {key}", important=important,
                            audio_rx_muted=audio_rx_muted)
        harness.driver.ensure_participant(conference, target)
        return target

    def wait_state(self, harness: Harness, conference: str, key: str, state: str) -> ParticipantInfo:
        wait_until(lambda: by_name(harness.driver, conference).get(key) is not None
                   and by_name(harness.driver, conference)[key].state == state)
        return by_name(harness.driver, conference)[key]

    # ---- device --------------------------------------------------------------------------------------
    def test_probe_reports_model_versions_and_ports(self, harness: Harness) -> None:
        info = harness.driver.probe()
        assert info.model and info.api_version and info.software_version
        assert info.video_ports is None or info.video_ports > 0
        assert harness.driver.health().ok
        assert isinstance(harness.driver.capabilities(), Capabilities)

    # ---- conferences ---------------------------------------------------------------------------------
    def test_ensure_conference_is_idempotent(self, harness: Harness) -> None:
        name = new_conference_name()
        first = harness.driver.ensure_conference(name, pin="1234", duration_seconds=600)
        again = harness.driver.ensure_conference(name, pin="1234", duration_seconds=600)
        assert first.name == again.name == name
        assert first.pin_set
        assert [c.name for c in harness.driver.list_conferences()].count(name) == 1

    def test_destroy_conference_twice_is_fine(self, harness: Harness, conference: str) -> None:
        harness.driver.destroy_conference(conference)
        harness.driver.destroy_conference(conference)
        assert conference not in [c.name for c in harness.driver.list_conferences()]

    # ---- the life of a meeting -----------------------------------------------------------------------
    def test_dial_twenty_monitor_mute_hangup_destroy(self, harness: Harness, conference: str) -> None:
        driver = harness.driver
        keys = [f"cb-ep-{i}" for i in range(1, 21)]
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda k: self.dial(harness, conference, k), keys))
        wait_until(lambda: all(p.state == "connected" for p in by_name(driver, conference).values())
                   and len(by_name(driver, conference)) == 20)
        participants = by_name(driver, conference)
        assert sorted(participants) == sorted(keys)
        assert all(p.display_name == f"Điểm cầu {p.participant_name}" for p in participants.values())
        assert [c.participant_count for c in driver.list_conferences() if c.name == conference] == [20]

        target = participants["cb-ep-3"]
        for _ in range(2):  # absolute values: repeating changes nothing
            driver.set_mute(conference, "cb-ep-3", target.protocol, audio=True)
        muted = by_name(driver, conference)["cb-ep-3"]
        assert muted.audio_muted and not muted.video_muted
        driver.set_mute(conference, "cb-ep-3", target.protocol, video=True)
        driver.set_mute(conference, "cb-ep-3", target.protocol, audio=False)
        after = by_name(driver, conference)["cb-ep-3"]
        assert (after.audio_muted, after.video_muted) == (False, True)
        assert not by_name(driver, conference)["cb-ep-4"].audio_muted

        driver.hangup(conference, "cb-ep-5", participants["cb-ep-5"].protocol)
        gone = self.wait_state(harness, conference, "cb-ep-5", "disconnected")
        assert gone.reason == "operator"
        driver.hangup(conference, "cb-ep-5", participants["cb-ep-5"].protocol)  # twice: fine

        driver.redial(conference, "cb-ep-5", participants["cb-ep-5"].protocol)
        self.wait_state(harness, conference, "cb-ep-5", "connected")
        assert harness.dial_attempts(conference, "cb-ep-5") == 2

        driver.remove(conference, "cb-ep-6", participants["cb-ep-6"].protocol)
        driver.remove(conference, "cb-ep-6", participants["cb-ep-6"].protocol)
        assert "cb-ep-6" not in by_name(driver, conference)

        driver.destroy_conference(conference)
        assert driver.list_participants(conference) == []

    def test_ensure_participant_twice_dials_once(self, harness: Harness, conference: str) -> None:
        target = self.dial(harness, conference, "cb-ep-7")
        again = harness.driver.ensure_participant(conference, target)
        assert again.participant_name == "cb-ep-7" and again.address == target.address
        self.wait_state(harness, conference, "cb-ep-7", "connected")
        harness.driver.ensure_participant(conference, target)
        assert harness.dial_attempts(conference, "cb-ep-7") == 1

    def test_a_restarted_process_adopts_what_it_created(self, harness: Harness, conference: str) -> None:
        targets = [self.dial(harness, conference, f"cb-ep-{i}") for i in (1, 2)]
        for key in ("cb-ep-1", "cb-ep-2"):
            self.wait_state(harness, conference, key, "connected")
        harness.driver.close()  # the old process is gone; a new one re-runs the same launch
        fresh = harness.new_driver()
        try:
            assert fresh.ensure_conference(conference, pin="4321", duration_seconds=3600, ports=20).name \
                == conference
            for target in targets:
                assert fresh.ensure_participant(conference, target).state == "connected"
            assert [c.name for c in fresh.list_conferences()].count(conference) == 1
            assert sorted(by_name(fresh, conference)) == ["cb-ep-1", "cb-ep-2"]
            assert [harness.dial_attempts(conference, t.participant_name) for t in targets] == [1, 1]
        finally:
            fresh.close()

    def test_same_name_other_address_is_refused(self, harness: Harness, conference: str) -> None:
        target = self.dial(harness, conference, "cb-ep-8")
        other = DialTarget("cb-ep-8", target.protocol, "someone-else@vc.example")
        with pytest.raises(AlreadyExists):
            harness.driver.ensure_participant(conference, other)

    @pytest.mark.parametrize("behaviour,reason", [
        ("busy", "busy"), ("no_answer", "no_answer"), ("rejected", "rejected"),
        ("unreachable", "unreachable"), ("offline", "unreachable"),
    ])
    def test_failed_dials_say_why(self, harness: Harness, conference: str, behaviour: str,
                                  reason: str) -> None:
        self.dial(harness, conference, "cb-ep-9", behaviour)
        failed = self.wait_state(harness, conference, "cb-ep-9", "failed")
        assert failed.reason == reason

    def test_remote_hangup_is_reported(self, harness: Harness, conference: str) -> None:
        self.dial(harness, conference, "cb-ep-10")
        self.wait_state(harness, conference, "cb-ep-10", "connected")
        harness.far_end_hangs_up(conference, "cb-ep-10")
        assert self.wait_state(harness, conference, "cb-ep-10", "disconnected").reason == "remote_hangup"

    def test_hangup_after_n_seconds_and_packet_loss(self, harness: Harness, conference: str) -> None:
        self.dial(harness, conference, "cb-ep-11", hangup_after=0.4)
        self.dial(harness, conference, "cb-ep-12", packet_loss="warning")
        assert self.wait_state(harness, conference, "cb-ep-12", "connected").packet_loss == "warning"
        assert self.wait_state(harness, conference, "cb-ep-11", "disconnected").reason == "remote_hangup"
        assert by_name(harness.driver, conference)["cb-ep-12"].packet_loss == "warning"

    def test_list_participants_is_per_conference(self, harness: Harness, conference: str) -> None:
        other = new_conference_name()
        harness.driver.ensure_conference(other)
        self.dial(harness, conference, "cb-ep-1")
        self.dial(harness, other, "cb-ep-1")
        self.dial(harness, other, "cb-ep-2")
        assert sorted(by_name(harness.driver, other)) == ["cb-ep-1", "cb-ep-2"]
        assert sorted(by_name(harness.driver, conference)) == ["cb-ep-1"]
        assert {p.conference for p in harness.driver.list_participants()} >= {conference, other}

    def test_missing_objects(self, harness: Harness, conference: str) -> None:
        protocol, address = harness.address()
        with pytest.raises(NotFound):
            harness.driver.ensure_participant(new_conference_name(),
                                              DialTarget("cb-ep-1", protocol, address))  # type: ignore[arg-type]
        with pytest.raises(NotFound):
            harness.driver.set_mute(conference, "cb-ep-404", protocol, audio=True)
        harness.driver.hangup(conference, "cb-ep-404", protocol)
        harness.driver.remove(conference, "cb-ep-404", protocol)
        harness.driver.remove(new_conference_name(), "cb-ep-404", protocol)

    # ---- conference control (issue 13) ---------------------------------------------------------------
    def numeric_id(self) -> str:
        return f"7{next(_counter) % 1000:03d}{int(time.time() * 1000) % 100000:05d}"

    def test_numeric_id_is_set_reported_and_unique(self, harness: Harness) -> None:
        driver, number = harness.driver, self.numeric_id()
        name = new_conference_name()
        assert driver.ensure_conference(name, numeric_id=number).numeric_id == number
        assert driver.ensure_conference(name, numeric_id=number).name == name  # idempotent
        assert [c.numeric_id for c in driver.list_conferences() if c.name == name] == [number]
        with pytest.raises(AlreadyExists):  # the bridge refuses a number another conference has
            driver.ensure_conference(new_conference_name(), numeric_id=number)
        plain = new_conference_name()
        assert driver.ensure_conference(plain).numeric_id is None

    def test_dial_ins_show_as_not_ours(self, harness: Harness) -> None:
        name, number = new_conference_name(), self.numeric_id()
        harness.driver.ensure_conference(name, numeric_id=number, join_audio_muted=True)
        self.dial(harness, name, "cb-ep-1")
        harness.dial_in(number, "guest-phone@vc.example")
        wait_until(lambda: len(harness.driver.list_participants(name)) == 2)
        guest = [p for p in harness.driver.list_participants(name) if not p.ours]
        assert len(guest) == 1 and guest[0].state == "connected"
        assert guest[0].audio_muted  # joinAudioMuted: a dial-in joins with its microphone off
        assert guest[0].address == "guest-phone@vc.example"

    def test_join_muted_all_but_the_host_and_it_survives_a_redial(self, harness: Harness) -> None:
        driver, name = harness.driver, new_conference_name()
        driver.ensure_conference(name, join_audio_muted=True)
        host = self.dial(harness, name, "cb-host", important=True)
        guests = [self.dial(harness, name, f"cb-ep-{i}", audio_rx_muted=True) for i in (1, 2)]
        wait_until(lambda: len(by_name(driver, name)) == 3
                   and all(p.state == "connected" for p in by_name(driver, name).values()))
        roster = by_name(driver, name)
        assert roster["cb-host"].important and not roster["cb-host"].audio_muted
        assert all(roster[g.participant_name].audio_muted and not roster[g.participant_name].important
                   for g in guests)

        driver.hangup(name, "cb-ep-1", guests[0].protocol)
        self.wait_state(harness, name, "cb-ep-1", "disconnected")
        driver.redial(name, "cb-ep-1", guests[0].protocol)
        assert self.wait_state(harness, name, "cb-ep-1", "connected").audio_muted  # still muted

        # The host is redialled as the host (focus belongs to a call), and stays unmuted.
        driver.hangup(name, "cb-host", host.protocol)
        self.wait_state(harness, name, "cb-host", "disconnected")
        driver.redial(name, "cb-host", host.protocol, important=True)
        back = self.wait_state(harness, name, "cb-host", "connected")
        assert back.important and not back.audio_muted

    def test_ensure_participant_again_reapplies_focus_and_mute(self, harness: Harness) -> None:
        driver, name = harness.driver, new_conference_name()
        driver.ensure_conference(name)
        host = self.dial(harness, name, "cb-host", important=True)
        self.wait_state(harness, name, "cb-host", "connected")
        driver.set_important(name, "cb-host", host.protocol, False)
        assert driver.ensure_participant(name, host).important  # a take-over re-runs the launch
        assert harness.dial_attempts(name, "cb-host") == 1

    def test_focus_moves_and_mute_all_but_the_host(self, harness: Harness) -> None:
        driver, name = harness.driver, new_conference_name()
        driver.ensure_conference(name)
        targets = [self.dial(harness, name, key, important=key == "cb-host")
                   for key in ("cb-host", "cb-ep-1", "cb-ep-2")]
        wait_until(lambda: len(by_name(driver, name)) == 3
                   and all(p.state == "connected" for p in by_name(driver, name).values()))
        driver.set_important(name, "cb-ep-1", targets[1].protocol, True)
        driver.set_important(name, "cb-host", targets[0].protocol, False)
        roster = by_name(driver, name)
        assert roster["cb-ep-1"].important and not roster["cb-host"].important
        for _ in range(2):  # absolute: twice is the same
            driver.set_important(name, "cb-ep-1", targets[1].protocol, True)
        assert [p.participant_name for p in by_name(driver, name).values() if p.important] == ["cb-ep-1"]

        for t in targets[1:]:
            driver.set_mute(name, t.participant_name, t.protocol, audio=True)
        roster = by_name(driver, name)
        assert [k for k, p in sorted(roster.items()) if p.audio_muted] == ["cb-ep-1", "cb-ep-2"]
        for t in targets[1:]:
            driver.set_mute(name, t.participant_name, t.protocol, audio=False)
        assert not any(p.audio_muted for p in by_name(driver, name).values())
        with pytest.raises(NotFound):
            driver.set_important(name, "cb-ep-404", targets[0].protocol, True)

    def test_layouts_change_what_everyone_sees(self, harness: Harness, conference: str) -> None:
        supported = harness.driver.capabilities().layouts
        assert supported <= set(LAYOUTS)
        shown = []
        for layout in sorted(supported):
            harness.driver.apply_layout(conference, layout)
            shown.append(harness.layout_shown(conference))
        assert len(set(map(repr, shown))) == len(shown)  # each layout is a different picture
        for layout in {*LAYOUTS, "mosaic"} - supported:
            with pytest.raises(UnsupportedLayout) as refused:
                harness.driver.apply_layout(conference, layout)
            assert refused.value.layout == layout and layout in refused.value.message

    def test_extend_a_running_conference(self, harness: Harness) -> None:
        driver, name = harness.driver, new_conference_name()
        driver.ensure_conference(name, duration_seconds=600)
        driver.modify_conference(name, duration_seconds=600 + 30 * 60)
        assert [c.duration_seconds for c in driver.list_conferences() if c.name == name] == [2400]
        driver.modify_conference(name)  # nothing to change: fine
        with pytest.raises(NotFound):
            driver.modify_conference(new_conference_name(), duration_seconds=900)

    def test_shortening_to_now_ends_it_for_everyone(self, harness: Harness) -> None:
        driver, name = harness.driver, new_conference_name()
        driver.ensure_conference(name, duration_seconds=3600)
        self.dial(harness, name, "cb-ep-1")
        self.wait_state(harness, name, "cb-ep-1", "connected")
        driver.modify_conference(name, duration_seconds=1)
        assert self.wait_state(harness, name, "cb-ep-1", "disconnected").reason == "ended"
