"""``ParticipantView``: one bridge's participant list, kept current with delta reads.

A full ``participant.enumerate`` on a Cisco MCU pages 5 participants per call, so during a launch storm
reading 1,000 participants takes 200 calls from the same few request slots the dials need.  The view
keeps the last ``currentRevision`` and a copy of every participant, and each ``read()`` asks the bridge
only for what changed since (usually one page).  It falls back to a full read when the driver has no
delta support, after any failed read, when the driver reports one was needed (revision refused or gone
backwards), and every ``full_read_seconds`` as a safety net (a device that answers a too-old revision
with a full list never reports the removals in between).

One view per bridge, shared by the launch engine's poll and the monitor (the scheduler holds them), so a
poll by one refreshes the other's view and concurrent reads are coalesced instead of doubled.
Thread-safe.

A full read of a big bridge is long (600 participants: 120 pages, 18 s at 150 ms a call).  When the view
already has a revision to read changes from, a full read pages *beside* the delta reads, not in their
way: a dropped call is still seen within one delta read (the monitor's hint) while it runs.  Its list is
as of its first page's revision; it is installed together with a delta read from that revision, so
whatever changed while it paged (the call dropped meanwhile) is applied on top and nothing reappears.
The periodic safety-net full read runs on a thread of its own: the reader that found it due gets a delta.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from confbridge.bridges.base import BridgeDriver, ParticipantDelta, ParticipantInfo, ParticipantKey

log = logging.getLogger(__name__)

FULL_READ_SECONDS = 300.0  # the safety-net full read (a few minutes: cheap outside a storm, rare inside)


class ParticipantView:
    def __init__(self, driver: BridgeDriver, *, full_read_seconds: float = FULL_READ_SECONDS,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.driver = driver
        self.full_read_seconds = full_read_seconds
        self._monotonic = monotonic  # real elapsed time between reads (not business time)
        self._lock = threading.Lock()  # the view's state, and every delta read
        self._full_lock = threading.Lock()  # one full read at a time (it pages without holding _lock)
        self._full_pending = 0  # full reads decided on and not finished (a due one is not started twice)
        self._participants: dict[ParticipantKey, ParticipantInfo] = {}
        self._revision: int | None = None
        self._last_full = 0.0
        self._started = -1.0  # when the last successful read began (monotonic)
        self._snapshot: list[ParticipantInfo] = []
        since = getattr(driver, "list_participants_since", None)
        self._delta = since if callable(since) and driver.capabilities().delta_enumeration else None
        self.full_reads = 0
        self.delta_reads = 0

    @property
    def revision(self) -> int | None:
        return self._revision

    @property
    def incremental(self) -> bool:
        """Reads fetch only what changed (the bridge supports delta enumeration)."""
        return self._delta is not None

    def invalidate(self) -> None:
        """Make the next read a full one (e.g. after the bridge reported a restart)."""
        with self._lock:
            self._revision = None

    def read(self, *, full: bool = False) -> list[ParticipantInfo]:
        """Every participant on the bridge as of a moment after this call began (the same as
        ``driver.list_participants()`` would return then).  ``full``: list everything, not just the
        changes (the start-up reconcile does: it primes the view, so the engine's first poll in a storm
        is not a full read competing with the dials)."""
        asked = self._monotonic()
        with self._lock:
            # Another thread's read began after we asked and has finished: its answer is as fresh as
            # ours would be (callers compare the call's start with their own steps' times).
            if self._started >= asked and not full:
                return list(self._snapshot)
            started = self._monotonic()
            if self._delta is None or self._revision is None:
                return self._locked_read(started, None)  # nothing to read changes from: a full read
            if full:
                self._full_pending += 1
            else:
                if self._full_pending == 0 and started - self._last_full >= self.full_read_seconds:
                    # The safety net's full read runs on its own thread: the caller (a monitor pass on
                    # its way to a dropped call, the engine's poll) takes its delta and goes on.
                    self._full_pending += 1
                    threading.Thread(target=self._background_full_read, args=(asked,), daemon=True,
                                     name=f"full-read-{getattr(self.driver, 'name', 'bridge')}").start()
                return self._locked_read(started, self._revision)
        return self._full_read_beside(asked)

    def _background_full_read(self, asked: float) -> None:
        try:
            self._full_read_beside(asked)
        except Exception as exc:  # the view keeps its revision: deltas go on, the next due read retries
            log.warning("participant view: safety-net full read failed: %s", type(exc).__name__)

    def _locked_read(self, started: float, since: int | None) -> list[ParticipantInfo]:
        """A read under ``_lock``: the changes since revision *since*, or everything when None."""
        try:
            if self._delta is None:
                delta = ParticipantDelta(self.driver.list_participants(), [], None, True)
            else:
                delta = self._delta(since)
            self._apply(delta, started)
        except Exception:
            self._revision = None  # we may have missed changes: start over with a full read
            raise
        return self._publish(started)

    def _publish(self, started: float) -> list[ParticipantInfo]:
        """The participants as of the read that began at *started* become the view's answer."""
        self._started = started
        self._snapshot = list(self._participants.values())
        return list(self._snapshot)

    def _full_read_beside(self, asked: float) -> list[ParticipantInfo]:
        """A full read that pages while delta reads go on, installed with a delta from its revision.
        A failed one leaves the view as it was (its revision is still good for deltas)."""
        assert self._delta is not None
        try:
            with self._full_lock:
                with self._lock:
                    if self._last_full >= asked:  # a full read that began after we asked: it serves us
                        return list(self._snapshot)
                started = self._monotonic()
                listed = self._delta(None)  # pages without _lock
                with self._lock:
                    self._apply(listed, started)
                    if listed.revision is None:  # no revision to catch up from (the next read is full)
                        return self._publish(started)
                    return self._locked_read(self._monotonic(), listed.revision)
        finally:
            with self._lock:
                self._full_pending -= 1

    def _apply(self, delta: ParticipantDelta, started: float) -> None:
        if delta.full:
            self.full_reads += 1
            self._last_full = started
            self._participants = {p.key: p for p in delta.changed}
        else:
            self.delta_reads += 1
            # Removals first: a participant removed and added again since comes back in ``changed``.
            for key in delta.removed:
                self._participants.pop(key, None)
            for p in delta.changed:
                self._participants[p.key] = p
        self._revision = delta.revision
