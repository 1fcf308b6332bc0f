"""Sharing the bridges between schedulers: one fenced lease per bridge, a fair share per scheduler.

The leases are rows of ``scheduler_lease`` beside the global one (``launch``): ``bridge:<name>`` for
each configured bridge, and ``node:<id>`` for each running scheduler (a presence row, renewed like a
lease, so every scheduler can count the live ones).  Each scheduler, once a second, reads the table
(:func:`read_census`) and decides (:func:`decide`, pure):

- its fair share is ``ceil(bridges / live schedulers)``;
- below it, it takes free bridges (a lease that expired: its holder died or gave it up); it also takes a
  free bridge that no scheduler below its share is there to take (nothing stays undriven);
- above it, while another live scheduler is below its share, it gives one bridge up (its engine for
  that bridge drains its in-flight steps first, then the lease is released and the other takes it).

One scheduler alone holds every bridge.  A scheduler killed with SIGKILL stops renewing: its leases
expire after ``launch.lease_seconds`` and the others take its bridges at their next pass.
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from collections.abc import Iterable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from confbridge.db import unit_of_work
from confbridge.launch.models import SchedulerLease

GLOBAL_LEASE = "launch"
BRIDGE_PREFIX = "bridge:"
NODE_PREFIX = "node:"
NAME_LENGTH = 40  # scheduler_lease.name
# Presence rows of schedulers gone this long are deleted (they only count live schedulers).
NODE_ROW_KEEP = timedelta(hours=1)


def bridge_lease_name(bridge: str) -> str:
    """``bridge:<name>``; a name too long for the column is replaced by a digest of it."""
    name = BRIDGE_PREFIX + bridge
    if len(name) <= NAME_LENGTH:
        return name
    return BRIDGE_PREFIX + "#" + hashlib.sha256(bridge.encode()).hexdigest()[:NAME_LENGTH - len(BRIDGE_PREFIX) - 1]


def node_lease_name(node_id: str) -> str:
    return (NODE_PREFIX + node_id)[:NAME_LENGTH]


@dataclass(frozen=True)
class Census:
    """What the lease table says at one instant."""

    nodes: frozenset[str]  # holders of live presence rows
    holders: dict[str, str | None]  # bridge → holder of its unexpired lease (None: free)
    counts: Counter[str] = field(default_factory=Counter)  # holder → bridges it holds


def read_census(session_factory: sessionmaker[Session], bridges: Iterable[str], now: datetime,
                gate: AbstractContextManager[Any] | None = None) -> Census:
    """*gate*: the process's SQLite gate (``confbridge.launch.dbgate``), shared with its leases and engines."""
    names = {bridge_lease_name(b): b for b in bridges}
    with gate if gate is not None else nullcontext(), session_factory() as s:
        rows = s.execute(select(SchedulerLease.name, SchedulerLease.holder, SchedulerLease.expires_at)).all()
    nodes = frozenset(r.holder for r in rows if r.name.startswith(NODE_PREFIX) and r.expires_at >= now)
    holders: dict[str, str | None] = {b: None for b in names.values()}
    for r in rows:
        bridge = names.get(r.name)
        if bridge is not None and r.expires_at >= now:
            holders[bridge] = r.holder
    counts = Counter(h for h in holders.values() if h is not None)
    return Census(nodes, holders, counts)


def forget_departed(session_factory: sessionmaker[Session], now: datetime) -> None:
    """Delete presence rows of schedulers that stopped more than an hour ago."""
    with unit_of_work(session_factory) as s:
        s.execute(delete(SchedulerLease).where(SchedulerLease.name.startswith(NODE_PREFIX),
                                               SchedulerLease.expires_at < now - NODE_ROW_KEEP))


def fair_share(bridges: int, schedulers: int) -> int:
    return math.ceil(bridges / max(1, schedulers))


def _order(me: str, bridge: str) -> str:
    # Each scheduler tries the free bridges in its own order: two starting together seldom collide.
    return hashlib.sha256(f"{me}|{bridge}".encode()).hexdigest()


@dataclass(frozen=True)
class Decision:
    take: list[str]  # free bridges to try, in order, until ``want`` are taken
    want: int
    give: str | None  # one held bridge to give up


def decide(census: Census, me: str, held: Iterable[str]) -> Decision:
    mine = set(held)
    nodes = census.nodes | {me}
    share = fair_share(len(census.holders), len(nodes))
    free = sorted((b for b, h in census.holders.items() if h is None and b not in mine),
                  key=lambda b: _order(me, b))
    others_below = any(census.counts.get(n, 0) < share for n in nodes if n != me)
    want = max(0, share - len(mine))
    if want == 0 and free and not others_below:
        want = len(free)  # nobody else is there to take them
    give = None
    if len(mine) > share and others_below:
        give = max(mine, key=lambda b: _order(me, b))
    return Decision(free, min(want, len(free)), give)
