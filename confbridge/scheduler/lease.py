"""The leader lease: one ``scheduler_lease`` row, taken and renewed by conditional UPDATEs.

Works the same on SQLite (writers serialised by ``BEGIN IMMEDIATE``) and PostgreSQL (an UPDATE re-checks
its WHERE clause after taking the row lock, so two standbys can't both win).  Each acquisition bumps
``token``: the fencing token.  The engine's write transactions re-read the row (``FOR KEY SHARE`` on
PostgreSQL: a take-over, which locks the row ``FOR UPDATE`` first, waits for them; the holder's renewal
does not) and refuse to act when the token is no longer theirs; a
monotonic local deadline stops a paused leader from calling the bridge after its lease ran out.
"""

from __future__ import annotations

import logging
import time
from contextlib import AbstractContextManager, nullcontext
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from confbridge import clock
from confbridge.db import unit_of_work
from confbridge.launch.dbgate import first
from confbridge.launch.fence import LostLease
from confbridge.launch.models import SchedulerLease

log = logging.getLogger(__name__)


class Lease:
    def __init__(self, session_factory: sessionmaker[Session], holder: str, seconds: float,
                 name: str = "launch", gate: AbstractContextManager[Any] | None = None) -> None:
        self.session_factory = session_factory
        self.gate = gate if gate is not None else nullcontext()
        self.holder = holder
        self.seconds = seconds
        self.name = name
        self.token: int | None = None
        self._deadline = 0.0  # monotonic

    # ---- taking and keeping it -----------------------------------------------------------------------
    def try_acquire(self) -> bool:
        """Take the lease if it is free or expired; True when this process is now the leader."""
        started = time.monotonic()
        now = clock.now()
        expires = now + timedelta(seconds=self.seconds)
        try:
            with self.gate, unit_of_work(self.session_factory) as s:
                row = s.get(SchedulerLease, self.name)
                if row is None:
                    s.add(SchedulerLease(name=self.name, holder=self.holder, token=1, expires_at=expires,
                                         acquired_at=now, renewed_at=now))
                    s.flush()
                    token = 1
                else:
                    # PostgreSQL: FOR UPDATE waits for every fenced transaction still holding the row
                    # FOR KEY SHARE (see check): a take-over never lands in the middle of the old
                    # holder's write.  (SQLite: BEGIN IMMEDIATE already serialises the writers.)
                    s.execute(select(SchedulerLease.name).where(SchedulerLease.name == self.name)
                              .with_for_update())
                    result = s.execute(
                        update(SchedulerLease)
                        .where(SchedulerLease.name == self.name, SchedulerLease.expires_at < now)
                        .values(holder=self.holder, token=SchedulerLease.token + 1, expires_at=expires,
                                acquired_at=now, renewed_at=now)
                        .execution_options(synchronize_session=False)
                    )
                    if result.rowcount != 1:  # type: ignore[attr-defined]
                        return False
                    token = s.execute(select(SchedulerLease.token).where(
                        SchedulerLease.name == self.name)).scalar_one()
        except IntegrityError:
            return False  # another process inserted the row first
        self.token = token
        self._deadline = started + self.seconds
        log.info("scheduler lease %s acquired by %s (fencing token %d)", self.name, self.holder, token)
        return True

    def renew(self) -> bool:
        """Extend the lease; False (and no longer leader) when it was lost."""
        if self.token is None:
            return False
        started = time.monotonic()
        # Ahead of every queued engine transaction (a storm's backlog never delays a renewal).
        with first(self.gate), unit_of_work(self.session_factory) as s:
            now = clock.now()
            result = s.execute(
                update(SchedulerLease)
                .where(SchedulerLease.name == self.name, SchedulerLease.holder == self.holder,
                       SchedulerLease.token == self.token, SchedulerLease.expires_at >= now)
                .values(expires_at=now + timedelta(seconds=self.seconds), renewed_at=now)
                .execution_options(synchronize_session=False)
            )
            ok = result.rowcount == 1  # type: ignore[attr-defined]
        if ok:
            self._deadline = started + self.seconds
        else:
            log.warning("scheduler lease %s lost by %s (token %s)", self.name, self.holder, self.token)
            self.token = None
        return ok

    def release(self) -> None:
        if self.token is None:
            return
        with self.gate, unit_of_work(self.session_factory) as s:
            s.execute(
                update(SchedulerLease)
                .where(SchedulerLease.name == self.name, SchedulerLease.holder == self.holder,
                       SchedulerLease.token == self.token)
                .values(expires_at=clock.now() - timedelta(seconds=1))
                .execution_options(synchronize_session=False)
            )
        self.token = None

    # ---- the fence (confbridge.launch.fence.Fence) ----------------------------------------------------
    def check(self, session: Session) -> None:
        # FOR KEY SHARE, not FOR SHARE: a take-over (SELECT … FOR UPDATE in try_acquire) still waits for
        # this transaction, but the holder's own renewal (a plain UPDATE of expires_at) does not — under
        # FOR SHARE a long fenced unit (a plan or reconcile of a big bridge) held the renewal back until
        # the lease expired and the bridge changed hands mid-storm (bench/national.py: 93 take-overs).
        row = session.execute(
            select(SchedulerLease.holder, SchedulerLease.token, SchedulerLease.expires_at)
            .where(SchedulerLease.name == self.name).with_for_update(read=True, key_share=True)
        ).first()
        if (row is None or self.token is None or row.token != self.token or row.holder != self.holder
                or row.expires_at < clock.now()):
            raise LostLease(f"lease {self.name} is not held by {self.holder} (token {self.token})")

    def valid_locally(self) -> bool:
        return self.token is not None and time.monotonic() < self._deadline
