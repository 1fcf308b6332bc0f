"""Fencing: only the current lease holder may decide launch actions.

Every write transaction of the engine calls ``fence.check(session)``, which re-reads the lease row *in
that transaction* and refuses when another process holds a newer token; right before each bridge call
``fence.valid_locally()`` checks the lease has not expired by this process's monotonic clock (a paused
or partitioned old leader stops before touching the bridge).
"""

from __future__ import annotations

from typing import Protocol

from sqlalchemy.orm import Session


class LostLease(Exception):
    """This process is no longer the leader: stop acting."""


class Fence(Protocol):
    def check(self, session: Session) -> None: ...

    def valid_locally(self) -> bool: ...


class NoFence:
    """For tests and single-process tools that drive the engine directly."""

    def check(self, session: Session) -> None:
        return None

    def valid_locally(self) -> bool:
        return True
