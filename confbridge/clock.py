"""The one source of "now".

Every piece of confbridge that needs the current instant calls :func:`now` (aware UTC).  Tests replace
the clock with :class:`FrozenClock` (and step it) through :func:`use_clock`, so no business rule ever
reads the wall clock directly and no test has to sleep.

A subprocess (a scheduler started by a crash test) can be given a shifted clock through the
``CONFBRIDGE_CLOCK_OFFSET_SECONDS`` environment variable of *that* process: the clock still advances in
real time, only the origin moves.  Production never sets it.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware, in UTC."""
        ...


class SystemClock:
    def __init__(self, offset: timedelta = timedelta(0)) -> None:
        self.offset = offset

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset


class FrozenClock:
    """A clock that only moves when told to (thread-safe)."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("FrozenClock needs an aware datetime")
        self._now = start.astimezone(UTC)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def set(self, instant: datetime) -> None:
        with self._lock:
            self._now = instant.astimezone(UTC)

    def advance(self, delta: timedelta | None = None, **kwargs: float) -> datetime:
        step = delta if delta is not None else timedelta(**kwargs)
        with self._lock:
            self._now += step
            return self._now


def _initial_clock() -> Clock:
    raw = os.environ.get("CONFBRIDGE_CLOCK_OFFSET_SECONDS")
    if raw:
        return SystemClock(timedelta(seconds=float(raw)))
    return SystemClock()


_clock: Clock = _initial_clock()


def now() -> datetime:
    """The current instant (aware UTC) from the installed clock."""
    return _clock.now()


def get_clock() -> Clock:
    return _clock


def set_clock(clock: Clock) -> None:
    global _clock
    _clock = clock


@contextmanager
def use_clock(clock: Clock) -> Iterator[Clock]:
    """Install *clock* for the duration of a block (tests)."""
    previous = _clock
    set_clock(clock)
    try:
        yield clock
    finally:
        set_clock(previous)
