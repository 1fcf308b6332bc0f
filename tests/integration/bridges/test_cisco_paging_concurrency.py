"""Paging through enumerate results and the per-bridge concurrency limit."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

from confbridge.bridges.base import DialTarget
from confbridge.bridges.cisco_mcu import CiscoMcuDriver
from tests.fixtures.mcu import EmulatorFactory, McuEmulator


def test_participants_are_paged_and_filtered_by_conference(mcu_emulator_factory: EmulatorFactory) -> None:
    emulator: McuEmulator = mcu_emulator_factory(page_size=3)
    driver = CiscoMcuDriver(emulator.bridge_settings())
    driver.ensure_conference("cb-1-20261201T0030Z")
    driver.ensure_conference("cb-2-20261201T0030Z")
    for i in range(8):
        driver.ensure_participant("cb-1-20261201T0030Z", DialTarget(f"cb-ep-{i}", "sip", f"a{i}@x.example"))
    for i in range(5):
        driver.ensure_participant("cb-2-20261201T0030Z", DialTarget(f"cb-ep-{i}", "h323", f"8429{i}"))
    before = emulator.state()["stats"]["calls"].get("participant.enumerate", 0)
    one = driver.list_participants("cb-1-20261201T0030Z")
    assert sorted(p.participant_name for p in one) == [f"cb-ep-{i}" for i in range(8)]
    assert {p.conference for p in one} == {"cb-1-20261201T0030Z"}
    # 13 participants in pages of 3: five calls, all pages followed.
    assert emulator.state()["stats"]["calls"]["participant.enumerate"] - before == 5
    assert len(driver.list_participants()) == 13


def test_conferences_are_paged_with_more_than_four(mcu_emulator: McuEmulator) -> None:
    driver = CiscoMcuDriver(mcu_emulator.bridge_settings())
    names = [f"cb-{i}-20261201T0030Z" for i in range(30)]
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda n: driver.ensure_conference(n), names))
    before = mcu_emulator.state()["stats"]["calls"].get("conference.enumerate", 0)
    listed = [c.name for c in driver.list_conferences()]
    assert sorted(listed) == sorted(names)
    assert mcu_emulator.state()["stats"]["calls"]["conference.enumerate"] - before == 2  # 24 + 6


def test_at_most_four_calls_in_flight(mcu_emulator_factory: EmulatorFactory) -> None:
    emulator: McuEmulator = mcu_emulator_factory(latency_ms=100)
    driver = CiscoMcuDriver(emulator.bridge_settings(max_concurrent_requests=4))
    started = time.monotonic()
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda _: driver.probe(), range(16)))
    elapsed = time.monotonic() - started
    stats = emulator.state()["stats"]
    assert stats["max_in_flight"] == 4  # used the parallelism …
    assert stats["rejected_busy"] == 0  # … and never exceeded the device's limit
    assert stats["calls"]["device.query"] == 16
    assert elapsed >= 16 * 0.1 / 4 * 0.9


def test_over_the_device_limit_is_fault_203_and_retried(mcu_emulator_factory: EmulatorFactory) -> None:
    emulator: McuEmulator = mcu_emulator_factory(latency_ms=100)
    # A misconfigured client allowing 12 in flight: the device refuses the excess with fault 203 and
    # the driver's backoff still gets every call through.
    driver = CiscoMcuDriver(emulator.bridge_settings(url=emulator.url + "?many",
                                                     max_concurrent_requests=12),
                            attempts=8, backoff_base=0.05, backoff_cap=0.3)
    with ThreadPoolExecutor(12) as pool:
        results = list(pool.map(lambda _: driver.probe(), range(12)))
    stats = emulator.state()["stats"]
    assert len(results) == 12
    assert stats["rejected_busy"] > 0
    assert stats["max_in_flight"] <= 4
