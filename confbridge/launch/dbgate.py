"""One in-process gate for the launch engine's database transactions on SQLite.

SQLite has one writer, and ``confbridge.db`` begins every transaction ``IMMEDIATE`` (reads included).
Under a launch storm a dozen worker threads then wait in SQLite's busy handler, which sleeps and
retries: it is not fair, and a thread can starve for seconds — fatal for the lease renewal.  Taking a
lock around each (short) transaction instead hands the database over in order, so a wait is bounded by
the transactions ahead of it.  PostgreSQL needs no gate (row locks; MVCC reads).

The gate is first come, first served (a plain ``threading.Lock`` is not: the thread that releases it
usually takes it again before a waiter wakes, so under a storm one waiter — the lease renewal — could
wait for seconds), and a lease renewal goes ahead of every waiting step (``with gate.first:``): it waits
for one transaction at most, whatever the backlog.
"""

from __future__ import annotations

import threading
from collections import deque
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from sqlalchemy.orm import Session, sessionmaker


class FairGate:
    """A reentrant lock granted in arrival order, priority waiters (``first``) before the others."""

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._owner: int | None = None
        self._depth = 0
        self._queue: deque[object] = deque()
        self._priority: deque[object] = deque()
        self.first: AbstractContextManager[Any] = _First(self)

    def acquire(self, priority: bool = False) -> None:
        me = threading.get_ident()
        with self._cond:
            if self._owner == me:
                self._depth += 1
                return
            ticket = object()
            queue = self._priority if priority else self._queue
            queue.append(ticket)
            try:
                while self._owner is not None or self._next() is not ticket:
                    self._cond.wait()
            except BaseException:
                queue.remove(ticket)
                self._cond.notify_all()
                raise
            queue.popleft()
            self._owner, self._depth = me, 1

    def _next(self) -> object | None:
        if self._priority:
            return self._priority[0]
        return self._queue[0] if self._queue else None

    def release(self) -> None:
        with self._cond:
            if self._owner != threading.get_ident():
                raise RuntimeError("the gate is not held by this thread")
            self._depth -= 1
            if self._depth == 0:
                self._owner = None
                self._cond.notify_all()

    def waiting(self) -> int:
        with self._cond:
            return len(self._queue) + len(self._priority)

    def __enter__(self) -> FairGate:
        self.acquire()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.release()


class _First:
    """``with gate.first:`` — the gate, ahead of every waiter that is not itself first."""

    def __init__(self, gate: FairGate) -> None:
        self._gate = gate

    def __enter__(self) -> FairGate:
        self._gate.acquire(priority=True)
        return self._gate

    def __exit__(self, *exc: Any) -> None:
        self._gate.release()


def gate_for(session_factory: sessionmaker[Session]) -> AbstractContextManager[Any]:
    bind = session_factory.kw.get("bind")
    if bind is not None and bind.dialect.name == "sqlite":
        return FairGate()
    return nullcontext()


def first(gate: AbstractContextManager[Any]) -> AbstractContextManager[Any]:
    """The gate taken ahead of the queue (lease renewals); other gates (``nullcontext``) as they are."""
    return gate.first if isinstance(gate, FairGate) else gate
