"""Delta enumeration (``lastRevision``/``currentRevision``) against the real emulator subprocess."""

from __future__ import annotations

from confbridge.bridges.base import DialTarget, ParticipantInfo
from confbridge.bridges.cisco_mcu import CiscoMcuDriver
from confbridge.bridges.view import ParticipantView
from tests.fixtures.mcu import EmulatorFactory, McuEmulator

CONF = "cb-1-20261201T0030Z"


def _setup(emulator: McuEmulator, n: int) -> CiscoMcuDriver:
    driver = CiscoMcuDriver(emulator.bridge_settings())
    driver.ensure_conference(CONF)
    for i in range(n):
        driver.ensure_participant(CONF, DialTarget(f"cb-ep-{i}", "sip", f"d{i}@127.0.0.1"))
    return driver


def _settled(driver: CiscoMcuDriver, n: int) -> None:
    """Wait (bounded, real time: the emulator's calls progress on its own clock) until all are connected."""
    import time

    deadline = time.monotonic() + 10
    while sum(p.state == "connected" for p in driver.list_participants()) < n:
        assert time.monotonic() < deadline, "emulator calls did not connect"
        time.sleep(0.05)


def _enumerate_calls(emulator: McuEmulator) -> int:
    return int(emulator.state()["stats"]["calls"].get("participant.enumerate", 0))


def _by_key(items: list[ParticipantInfo]) -> dict[tuple[str, str, str, bool], ParticipantInfo]:
    return {p.key: p for p in items}


def test_delta_returns_only_changes_and_reports_removals(mcu_emulator_factory: EmulatorFactory) -> None:
    emulator = mcu_emulator_factory(page_size=3)
    driver = _setup(emulator, 8)
    assert driver.capabilities().delta_enumeration
    _settled(driver, 8)
    first = driver.list_participants_since(None)
    assert first.full and first.revision is not None
    assert len(first.changed) == 8 and first.removed == []

    # Nothing changed: one call, nothing reported (a full read would take 3 pages).
    before = _enumerate_calls(emulator)
    quiet = driver.list_participants_since(first.revision)
    assert (quiet.full, quiet.changed, quiet.removed) == (False, [], [])
    assert quiet.revision == first.revision
    assert _enumerate_calls(emulator) - before == 1

    emulator.drop(CONF, "cb-ep-2")
    driver.remove(CONF, "cb-ep-5", "sip")
    driver.set_mute(CONF, "cb-ep-7", "sip", audio=True)
    delta = driver.list_participants_since(first.revision)
    assert not delta.full and delta.revision is not None and delta.revision > first.revision
    changed = {p.participant_name: p for p in delta.changed}
    assert set(changed) == {"cb-ep-2", "cb-ep-7"}
    assert changed["cb-ep-2"].state == "disconnected" and changed["cb-ep-2"].reason == "remote_hangup"
    assert changed["cb-ep-7"].audio_muted
    assert delta.removed == [(CONF, "cb-ep-5", "sip", True)]

    # Removed, then added again under the same name: reported in full, not also as dead.
    driver.ensure_participant(CONF, DialTarget("cb-ep-5", "sip", "d5@127.0.0.1"))
    again = driver.list_participants_since(delta.revision)
    assert [p.participant_name for p in again.changed] == ["cb-ep-5"] and again.removed == []


def test_refused_or_reset_revision_falls_back_to_a_full_read(mcu_emulator: McuEmulator) -> None:
    driver = _setup(mcu_emulator, 3)
    first = driver.list_participants_since(None)
    assert first.revision is not None

    # A device that refuses the revision with a fault (the guides leave "too old" open): full read.
    mcu_emulator.faults(fail={"method": "participant.enumerate", "code": 102, "count": 1})
    refused = driver.list_participants_since(first.revision)
    assert refused.full and {p.participant_name for p in refused.changed} == {f"cb-ep-{i}" for i in range(3)}

    # The device restarted (revision counts from the start again, below ours): a delta would miss
    # everything, so a full read, which also shows everything is gone.
    mcu_emulator.reset()
    driver.ensure_conference(CONF)
    driver.ensure_participant(CONF, DialTarget("cb-new", "sip", "new@127.0.0.1"))
    reset = driver.list_participants_since(refused.revision)
    assert reset.full and [p.participant_name for p in reset.changed] == ["cb-new"]


def test_view_after_deltas_equals_a_full_read(mcu_emulator_factory: EmulatorFactory) -> None:
    emulator = mcu_emulator_factory(page_size=3)
    driver = _setup(emulator, 6)
    view = ParticipantView(driver)
    view.read()
    assert (view.full_reads, view.delta_reads) == (1, 0)
    driver.ensure_conference("cb-2-20261201T0030Z")
    driver.ensure_participant("cb-2-20261201T0030Z", DialTarget("cb-ep-0", "h323", "84290"))
    driver.remove(CONF, "cb-ep-1", "sip")
    driver.hangup(CONF, "cb-ep-3", "sip")
    driver.set_mute(CONF, "cb-ep-4", "sip", video=True)
    _settled(driver, 5)  # cb-ep-0, 2, 4, 5 and the new one (a stable state to compare)
    for _ in range(3):
        seen = view.read()
        assert _by_key(seen) == _by_key(driver.list_participants())
    assert view.full_reads == 1 and view.delta_reads == 3
    assert (CONF, "cb-ep-1", "sip", True) not in _by_key(seen)

    # The safety net: past full_read_seconds a full read is made again, on a thread of its own; the
    # reader that found it due is answered by a delta at once.
    import time

    view.full_read_seconds = 0.0
    deltas = view.delta_reads
    assert _by_key(view.read()) == _by_key(driver.list_participants())
    view.full_read_seconds = 3600.0
    assert view.delta_reads >= deltas + 1
    deadline = time.monotonic() + 10
    while view.full_reads < 2:
        assert time.monotonic() < deadline, "the safety-net full read never ran"
        time.sleep(0.02)
    assert view.full_reads == 2


def test_a_full_read_pages_beside_delta_reads_and_nothing_it_read_early_comes_back(
        mcu_emulator_factory: EmulatorFactory) -> None:
    """A full read of a big bridge takes many pages; a call dropped meanwhile is seen by the next delta
    read before the full read ends (the monitor's hint is not queued behind it), and the full read's
    early pages (the call still connected) do not bring it back."""
    import threading

    emulator = mcu_emulator_factory(page_size=1, latency_ms=25)
    driver = _setup(emulator, 30)
    _settled(driver, 30)
    view = ParticipantView(driver)
    view.read()
    calls = _enumerate_calls(emulator)
    result: list[list[ParticipantInfo]] = []
    full = threading.Thread(target=lambda: result.append(view.read(full=True)))
    full.start()
    # The full read has paged past cb-ep-0 (each page is one participant, in the order they joined).
    emulator.wait_for(lambda s: s["stats"]["calls"].get("participant.enumerate", 0) >= calls + 3)
    emulator.drop(CONF, "cb-ep-0")
    seen = _by_key(view.read())
    assert full.is_alive(), "the delta read waited for the whole full read"
    assert seen[(CONF, "cb-ep-0", "sip", True)].state == "disconnected"
    full.join(10)
    assert not full.is_alive()
    assert result[0] and _by_key(result[0])[(CONF, "cb-ep-0", "sip", True)].state == "disconnected"
    assert _by_key(view.read()) == _by_key(driver.list_participants())
    assert view.full_reads == 2

    # The periodic safety net is not paid by the reader that finds it due (a monitor pass on its way to
    # a dropped call): it is answered by one delta while the 30 pages are read on another thread.
    view.full_read_seconds = 0.0
    emulator.drop(CONF, "cb-ep-1")
    seen = _by_key(view.read())
    view.full_read_seconds = 3600.0
    assert view.full_reads == 2, "the reader waited for the safety-net full read"
    assert seen[(CONF, "cb-ep-1", "sip", True)].state == "disconnected"
