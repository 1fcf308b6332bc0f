"""The launch engine: each ``tick`` plans runs from the booking, then hands due steps to worker threads.

Plain and clock-driven: ``tick(now)`` reads what is due from our tables at *now* and submits the steps
(``confbridge.launch.steps``) to a thread pool, so the bridge's request slots stay busy during a storm.
A step for one run or leg is never submitted twice at once.  Tests step a ``FrozenClock`` and call
``tick(wait=True)``; the scheduler process calls ``tick()`` every second and at planned instants.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, lazyload, sessionmaker

from confbridge import clock
from confbridge.bridges.base import BridgeDriver
from confbridge.bridges.view import ParticipantView
from confbridge.db import chunked
from confbridge.launch import preflight, steps
from confbridge.launch import reconcile as reconcile_mod
from confbridge.launch.dbgate import gate_for
from confbridge.launch.fence import Fence, LostLease, NoFence
from confbridge.launch.models import CallLeg, ConferenceRun, LegKind, LegState, RunState
from confbridge.launch.planner import plan
from confbridge.launch.scope import Scope, scoped
from confbridge.launch.state import meeting_title, transition
from confbridge.logs import current_context, log_context
from confbridge.notices import coded
from confbridge.settings import Settings

log = logging.getLogger(__name__)

TaskKey = tuple[str, int | str]
# While bridge steps are in flight, ticks plan (booking → runs, pre-flights) at most this often (s).
STORM_PLAN_SECONDS = 5.0
# Otherwise every open run is compared with the booking this often, and in between only the new ones
# and those due to start or end before the next full comparison: comparing 50 live runs' legs, slots
# and endpoints every second was ~0.1–0.2 CPU-s per bridge per second (bench/national.py).
STEADY_PLAN_SECONDS = 5.0


class LaunchEngine:
    def __init__(
        self, session_factory: sessionmaker[Session], settings: Settings,
        drivers: Mapping[str, BridgeDriver], *, fence: Fence | None = None, workers: int | None = None,
        gate: AbstractContextManager[Any] | None = None, views: Mapping[str, ParticipantView] | None = None,
        scope: Scope | None = None,
    ) -> None:
        self.session_factory = session_factory
        # The runs this engine drives (the scheduler runs one engine per bridge lease it holds); None: all.
        self.scope = scope
        self.settings = settings
        self.drivers = dict(drivers)
        # Per-bridge cached participant lists refreshed by delta reads; the scheduler passes the ones it
        # shares with the monitor.
        given = dict(views or {})
        self.views = {name: given.get(name) or ParticipantView(d) for name, d in self.drivers.items()}
        self.fence = fence or NoFence()
        size = workers or settings.launch.workers or max(
            4, 3 * sum(b.max_concurrent_requests for b in settings.bridges if b.name in self.drivers))
        self._pool = ThreadPoolExecutor(max_workers=size, thread_name_prefix="launch")
        # Polls get their own threads: in a storm a poll queued in the main pool waits behind ~1,000
        # dials, so the first one ran only when they were done and then had ~1,000 changes to page
        # through (~200 sequential calls).  Beside the dials, each poll fetches a small delta.
        self._poll_pool = ThreadPoolExecutor(max_workers=max(1, len(self.drivers)), thread_name_prefix="poll")
        self._lock = threading.Lock()
        self._tick_lock = threading.Lock()
        self._inflight: dict[TaskKey, Future[None]] = {}
        self._last_poll: dict[str, datetime] = {}
        # Real seconds the last participant poll of each bridge took, and when it finished (monotonic):
        # a full poll pages through every participant (page size 5 on a Cisco MCU), so during a storm it
        # is spaced to take at most a quarter of one request slot instead of competing with the dials
        # (a delta poll is usually one call, so it is barely spaced at all).
        self._poll_cost: dict[str, tuple[float, float]] = {}
        self.last_reconcile = 0.0  # monotonic
        self._last_plan = 0.0  # monotonic: the last tick that planned (see STORM_PLAN_SECONDS)
        self.ctx = steps.StepContext(session_factory, settings, self.fence, {}, self._inflight_keys,
                                     gate if gate is not None else gate_for(session_factory))

    # ---- task plumbing -------------------------------------------------------------------------------
    def _inflight_keys(self) -> set[TaskKey]:
        with self._lock:
            return set(self._inflight)

    def _run_legs_busy(self, run: ConferenceRun) -> bool:
        busy = self._inflight_keys()
        return any(("dial", leg.id) in busy or ("drop", leg.id) in busy for leg in run.legs)

    def _submit(self, key: TaskKey, fn: Callable[[], None], pool: ThreadPoolExecutor | None = None,
                *, context: dict[str, Any] | None = None) -> bool:
        """Run *fn* once per *key* at a time; its log records carry *context* (run, conference, bridge)."""
        if not self._reserve(key):
            return False
        self._launch(key, fn, pool, context=context)
        return True

    def _reserve(self, key: TaskKey) -> bool:
        """Mark *key* in flight before its step is submitted (``_launch`` or ``_unreserve`` follows)."""
        with self._lock:
            if key in self._inflight:
                return False
            self._inflight[key] = Future()  # a placeholder: completed when replaced or given back
            return True

    def _unreserve(self, key: TaskKey) -> None:
        with self._lock:
            placeholder = self._inflight.pop(key, None)
        if placeholder is not None and not placeholder.done():
            placeholder.set_result(None)

    def _launch(self, key: TaskKey, fn: Callable[[], None], pool: ThreadPoolExecutor | None = None,
                *, context: dict[str, Any] | None = None) -> None:
        def job() -> None:
            try:
                with log_context(**(context or {})):
                    fn()
            except LostLease:
                log.warning("lost the scheduler lease during %s; stopping that step", key)
            except Exception:
                log.exception("launch step %s failed", key)
            finally:
                self.ctx.done_at[key] = time.monotonic()
                with self._lock:
                    self._inflight.pop(key, None)

        with self._lock:
            placeholder = self._inflight.get(key)
            self._inflight[key] = (pool or self._pool).submit(job)
        if placeholder is not None and not placeholder.done():
            placeholder.set_result(None)  # ``wait`` looks again and finds the real step

    def wait(self, timeout: float = 60.0) -> None:
        """Block until every submitted step has finished (tests, shutdown)."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                pending = list(self._inflight.values())
            if not pending:
                return
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"{len(pending)} launch steps still running")
            wait(pending, timeout=left)

    def busy(self) -> bool:
        with self._lock:
            return bool(self._inflight)

    def dial_backlog(self) -> int:
        """Bridge steps other than polls in flight (a storm is under way when this is large)."""
        with self._lock:
            return sum(1 for k in self._inflight if k[0] in ("run", "dial", "drop"))

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._poll_pool.shutdown(wait=True, cancel_futures=True)

    # ---- the tick ------------------------------------------------------------------------------------
    def wake(self, now: datetime | None = None) -> None:
        """A precise wake-up at a planned instant (the scheduler's ``date`` jobs): the runs due now are
        sent first (they were planned at earlier ticks), then the tick plans as usual."""
        self.tick(now, dispatch_first=True)

    def tick(self, now: datetime | None = None, *, wait: bool = False, dispatch_first: bool = False) -> None:
        """Plan, advance states that need no bridge call, and submit every due bridge step."""
        # One tick at a time: the 1 s interval tick and a precise wake-up may fire together.
        with self._tick_lock:
            now = now or clock.now()
            if dispatch_first:
                with self.ctx.read() as s:
                    self._dispatch(s, now)
            # During a storm (bridge steps in flight) the booking is compared with every open run and
            # pre-flights planned every STORM_PLAN_SECONDS, not every tick: with 200 runs that pass held
            # the database (one writer on SQLite) most of each second, and the dials waited for it.
            storm = self.dial_backlog() > 0
            full = wait or time.monotonic() - self._last_plan >= (STORM_PLAN_SECONDS if storm else STEADY_PLAN_SECONDS)
            with self.ctx.write() as s:
                if full:
                    self._last_plan = time.monotonic()
                    plan(s, self.settings, now, self.scope)
                elif not storm:
                    plan(s, self.settings, now, self.scope, refresh_within=timedelta(seconds=STEADY_PLAN_SECONDS + 1))
                self._advance(s, now)
            with self.ctx.read() as s:
                self._dispatch(s, now)
            if full or not storm:
                preflight.tick(self, now, automatic=full)
        if wait:
            self.wait()

    def _advance(self, s: Session, now: datetime) -> None:
        # A live run only moves at its end: the others are not read (nor their legs) at every tick.
        runs = s.scalars(select(ConferenceRun).where(
            ConferenceRun.state.in_([RunState.STARTING, RunState.LIVE, RunState.SCHEDULED]),
            (ConferenceRun.state != RunState.LIVE) | (ConferenceRun.planned_end <= now),
            ConferenceRun.planned_start <= now, *scoped(self.scope, ConferenceRun.bridge_name),
        )).all()
        for run in runs:
            if run.bridge_name not in self.drivers:
                if run.state == RunState.SCHEDULED:
                    transition(s, run, RunState.STARTING)
                if run.state == RunState.STARTING:
                    transition(s, run, RunState.FAILED, coded("why.no_bridge", bridge=run.bridge_name))
                    from confbridge.alarms.service import raise_alarm

                    raise_alarm(s, "launch_missed", f"launch_failed:run={run.id}", "alarm.no_bridge",
                                {"meeting": meeting_title(s, run), "bridge": run.bridge_name},
                                severity="critical", meeting_id=run.meeting_id, conference_id=run.id)
                continue
            if run.state in (RunState.STARTING, RunState.LIVE) and run.planned_end <= now:
                transition(s, run, RunState.ENDING, coded("why.end_of_meeting"))
            elif run.state == RunState.STARTING and run.conference_ready and all(
                leg.attempts >= 1 and (leg.on_bridge or leg.state == LegState.FAILED)
                for leg in run.legs if leg.wanted
            ):
                transition(s, run, RunState.LIVE)

    def _dispatch(self, s: Session, now: datetime) -> None:
        runs = s.scalars(select(ConferenceRun).where(
            ConferenceRun.state.in_([RunState.SCHEDULED, RunState.STARTING, RunState.LIVE, RunState.ENDING]),
            ConferenceRun.planned_start <= now, *scoped(self.scope, ConferenceRun.bridge_name),
        ).order_by(ConferenceRun.planned_start, ConferenceRun.id).options(lazyload(ConferenceRun.legs))).all()
        due = self._due_legs(s, now, [r.id for r in runs if r.conference_ready and r.bridge_name in self.drivers
                                      and r.state in (RunState.STARTING, RunState.LIVE, RunState.SCHEDULED)])
        poll: set[str] = set()
        ctx = self.ctx
        for run in runs:
            driver = self.drivers.get(run.bridge_name)
            if driver is None:
                continue
            rid = run.id
            # A conference in the API is its run: both ids name the same row.
            where = {"run_id": rid, "conference_id": rid, "bridge": run.bridge_name}
            if run.state == RunState.ENDING:
                if not self._run_legs_busy(run) and (run.retry_at is None or run.retry_at <= now):
                    self._submit(("run", rid), partial(steps.teardown, ctx, driver, rid), context=where)
                continue
            if not run.conference_ready:
                if run.retry_at is None or run.retry_at <= now:
                    self._submit(("run", rid), partial(self._start_then_dial, driver, rid), context=where)
                continue
            for leg in due.get(rid, []):
                lid = leg.id
                if leg.wanted:
                    self._submit(("dial", lid), partial(steps.dial_leg, ctx, driver, lid), context=where)
                else:
                    self._submit(("drop", lid), partial(steps.drop_leg, ctx, driver, lid), context=where)
            poll.add(run.bridge_name)  # its legs' states come from the bridge (and dial-ins join there)
        interval = timedelta(seconds=self.settings.launch.poll_seconds)
        for bridge in poll:
            last = self._last_poll.get(bridge)
            took, finished = self._poll_cost.get(bridge, (0.0, 0.0))
            # A full read pages through every participant: during a storm it is spaced out.  Delta reads
            # are small and jump the bridge's request queue, so they keep their cadence and confbridge
            # learns of connected legs as they connect.
            if self.dial_backlog() and not self.views[bridge].incremental and time.monotonic() - finished < 3 * took:
                continue
            if last is None or now - last >= interval or now < last:
                self._last_poll[bridge] = now
                self._submit(("poll", bridge), partial(self._timed_poll, bridge), self._poll_pool,
                             context={"bridge": bridge})

    @staticmethod
    def _due_legs(s: Session, now: datetime, run_ids: list[int]) -> dict[int, list[CallLeg]]:
        """The legs of *run_ids* with a step due: a wanted leg to dial (now or at its retry time), an
        unwanted one still on the bridge to hang up.  Read by condition, not by walking every leg of
        every live run at every tick (50 live runs: 600 legs loaded each second per bridge)."""
        out: dict[int, list[CallLeg]] = {}
        for chunk in chunked(run_ids):
            legs = s.scalars(select(CallLeg).where(
                CallLeg.run_id.in_(chunk),
                or_(CallLeg.wanted.is_(True) & (CallLeg.state == LegState.PENDING)
                    & (CallLeg.next_attempt_at.is_(None) | (CallLeg.next_attempt_at <= now)),
                    CallLeg.wanted.is_(False) & CallLeg.on_bridge.is_(True) & (CallLeg.state != LegState.REMOVED)
                    & (CallLeg.kind != LegKind.DIAL_IN)),
            ).order_by(CallLeg.run_id, CallLeg.position, CallLeg.endpoint_id, CallLeg.id))
            for leg in legs:
                out.setdefault(leg.run_id, []).append(leg)
        return out

    def _start_then_dial(self, driver: BridgeDriver, run_id: int) -> None:
        """Create the conference, then queue its dials at once (not a tick later): keeps slots busy."""
        steps.start_run(self.ctx, driver, run_id)
        self._dial_run(driver, run_id)

    def _dial_run(self, driver: BridgeDriver, run_id: int) -> None:
        """Decide every due dial of a run in one transaction, then send each in its own step.

        The pipeline of a storm: the request slots are fed by sends whose decisions are committed
        already (a dial is still recorded ``dialling`` before the bridge hears of it), and a conference's
        five dials cost one decision transaction instead of five."""
        reserved: list[TaskKey] = []
        claimed: list[steps.Claimed] = []
        committed = False

        def reserve(leg_id: int) -> bool:
            key: TaskKey = ("dial", leg_id)
            if not self._reserve(key):
                return False
            reserved.append(key)
            return True

        try:
            with self.ctx.write() as s:
                run = s.get(ConferenceRun, run_id)
                if run is None or not run.conference_ready or run.state not in (RunState.STARTING, RunState.LIVE):
                    return
                claimed = steps.claim_dials(s, run, clock.now(), reserve)
            committed = True
        finally:
            sending = {("dial", c.leg_id) for c in claimed} if committed else set()
            for key in reserved:
                if key not in sending:
                    self._unreserve(key)
        for c in claimed:
            self._launch(("dial", c.leg_id), partial(steps.send_dial, self.ctx, driver, c), context=current_context())

    def _timed_poll(self, bridge: str) -> None:
        started = time.monotonic()
        try:
            steps.poll_bridge(self.ctx, self.views[bridge], bridge)
        finally:
            done = time.monotonic()
            self._poll_cost[bridge] = (done - started, done)

    def reconcile(self, now: datetime | None = None, *, wait: bool = True, full: bool = True) -> None:
        """Compare every bridge with our runs and converge (start-up and every reconcile interval).
        ``full``: list every participant (start-up); otherwise the participant view's changes suffice."""
        self.last_reconcile = time.monotonic()
        for name, driver in self.drivers.items():
            self._submit(("reconcile", name), partial(reconcile_mod.reconcile_bridge, self.ctx, driver, name,
                                                      self.views[name], full=full), context={"bridge": name})
        if wait:
            self.wait()

    def next_wakeups(self, now: datetime, horizon: timedelta) -> list[datetime]:
        """Planned instants (setup starts, ends) within *horizon*: the scheduler adds precise wake-ups."""
        with self.ctx.read() as s:
            rows = s.execute(select(ConferenceRun.planned_start, ConferenceRun.planned_end).where(
                ConferenceRun.state.in_([RunState.SCHEDULED, RunState.STARTING, RunState.LIVE]),
                ConferenceRun.planned_start <= now + horizon, *scoped(self.scope, ConferenceRun.bridge_name),
            )).all()
        out = {t for row in rows for t in row if now < t <= now + horizon}
        return sorted(out)
