"""Launch storm: N conferences × M endpoints due at the same instant on the MCU emulator.

Runs the real scheduler (``run_scheduler``: lease, APScheduler, launch engine) in this process against a
fresh database and an emulator subprocess (150 ms per call, 4 concurrent requests), all on 127.0.0.1.

Prints:
- storm: time from the planned instant until every leg is connected on the bridge (and until confbridge
  has recorded it), and the ratio to the floor (total create+dial calls × latency ÷ concurrency);
- duplicates (a participant dialled twice, or a conference on the bridge twice; must be 0), missed/failed;
- first-call lateness p50/p99 of the storm and of single unloaded launches (goal p99 ≤ 0.1 s);
- the bridge's request slots from the instant to the last create/dial: idle seconds per slot (what
  confbridge failed to keep busy), the median wait for a slot, and slot time per API method.

    python bench/launch_storm.py [--conferences 200] [--endpoints 5] [--latency-ms 150] [--database-url …]
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import statistics
import tempfile
import threading
import time
import urllib.request
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from confbridge.auth.service import create_user
from confbridge.booking.models import EndpointSlot, Meeting, Occurrence
from confbridge.bridges.emulator.launcher import start_emulator
from confbridge.bridges.xmlrpc_transport import SlotUse, limiter_for
from confbridge.db import make_engine, make_session_factory
from confbridge.directory.models import Endpoint, Site
from confbridge.launch.models import CallLeg, ConferenceRun, LegState
from confbridge.migrate import upgrade
from confbridge.scheduler.process import run_scheduler
from confbridge.settings import load_settings


def control(url: str, path: str, body: Any = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url + path, data=data, method="GET" if body is None else "POST",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.loads(resp.read())


def endpoints(factory: sessionmaker[Session], n: int) -> list[int]:
    with factory.begin() as s:
        site = Site(name=f"Bench {uuid.uuid4().hex[:6]}")
        s.add(site)
        s.flush()
        eps = [Endpoint(name=f"Điểm cầu {i} {site.name}", site_id=site.id, protocol="sip",
                        address=f"b{i}-{uuid.uuid4().hex[:6]}@127.0.0.1") for i in range(n)]
        s.add_all(eps)
        s.flush()
        return [e.id for e in eps]


def meeting(factory: sessionmaker[Session], organiser: int, planned: datetime, eps: list[int]) -> int:
    start = planned + timedelta(minutes=1)  # setup 1 minute: launched at *planned*
    end = start + timedelta(minutes=30)
    with factory.begin() as s:
        m = Meeting(uid=f"{uuid.uuid4()}@bench", title="Giao ban", organiser_id=organiser, start=start,
                    end=end, timezone="Asia/Ho_Chi_Minh", setup_minutes=1, exdates=[], status="planned")
        s.add(m)
        s.flush()
        occ = Occurrence(meeting_id=m.id, original_start=start, start=start, end=end, setup_minutes=1,
                         status="planned")
        s.add(occ)
        s.flush()
        s.add_all([EndpointSlot(occurrence_id=occ.id, meeting_id=m.id, endpoint_id=e,
                                window_start=planned, window_end=end) for e in eps])
        return occ.id


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def slot_figures(trace: list[SlotUse], size: int, start: float, end: float) -> dict[str, Any]:
    """Per request slot: busy and idle seconds in [start, end] (the storm); calls and seconds per method."""
    busy = [0.0] * size
    methods: Counter[str] = Counter()
    seconds: Counter[str] = Counter()
    waits: list[float] = []
    for use in trace:
        overlap = min(use.finished, end) - max(use.started, start)
        if overlap <= 0:
            continue
        busy[use.slot] += overlap
        methods[use.method] += 1
        seconds[use.method] += use.finished - use.started
        waits.append(use.started - use.asked)
    window = end - start
    return {"window_s": window, "busy_s": busy, "idle_s": [window - b for b in busy],
            "methods": dict(methods), "method_s": {k: round(v, 1) for k, v in seconds.items()},
            "queue_wait_p50_s": pct(waits, 0.5) if waits else 0.0}


def wait_for(predicate: Any, timeout: float, what: str, interval: float = 0.1) -> float:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return time.monotonic()
        time.sleep(interval)
    raise SystemExit(f"timed out after {timeout:.0f}s waiting for {what}")


def main() -> None:
    # SIGTERM ends the benchmark through its finally-blocks: the emulator subprocess is stopped too.
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(SystemExit(143)))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--conferences", type=int, default=200)
    ap.add_argument("--endpoints", type=int, default=5)
    ap.add_argument("--latency-ms", type=int, default=150)
    ap.add_argument("--concurrency", type=int, default=4)
    ap.add_argument("--page-size", type=int, default=5, help="emulator enumerate page size (MCU: small)")
    ap.add_argument("--singles", type=int, default=25, help="unloaded single launches for lateness")
    ap.add_argument("--lead-seconds", type=float, default=12.0, help="time to plan before the instant")
    ap.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="confbridge-bench-"))
    url = args.database_url or f"sqlite:///{tmp / 'bench.db'}"
    db = make_engine(url)
    upgrade(db)
    factory = make_session_factory(db)
    with factory.begin() as s:
        organiser = create_user(s, f"bench-{uuid.uuid4().hex[:6]}", secrets.token_hex(8), "secretary").id

    password_env = "BENCH_MCU_PASSWORD"
    os.environ[password_env] = secrets.token_urlsafe(12)
    total_legs = args.conferences * args.endpoints
    emu = start_emulator([
        "--port", "0", "--control-port", "0", "--username", "admin", "--password-env", password_env,
        "--latency-ms", str(args.latency_ms), "--max-concurrent", str(args.concurrency),
        "--page-size", str(args.page_size), "--answer-delay", "0.2",
        "--max-conferences", str(max(200, args.conferences + args.singles)),
        "--max-participants", str(max(500, total_legs + args.singles)),
    ], env=dict(os.environ))
    settings = load_settings(environ={}).with_overrides(**{
        "data_dir": str(tmp / "data"), "database.url": url, "emulator.enabled": False,
        "bridges": [{"name": "bench-mcu", "driver": "cisco-mcu", "url": emu.url, "username": "admin",
                     "password_env": password_env, "max_concurrent_requests": args.concurrency,
                     "timeout_seconds": 30, "video_ports": 100000, "default": True}],
    })
    slots = limiter_for(emu.url, args.concurrency)  # the scheduler's drivers share these request slots
    stop = threading.Event()
    scheduler = threading.Thread(target=run_scheduler, args=(settings, stop), name="scheduler", daemon=True)
    try:
        scheduler.start()
        # ---- single unloaded launches first (idle engine): first-call lateness ----------------------
        single_eps = endpoints(factory, args.singles)
        first = datetime.now(UTC) + timedelta(seconds=4)
        occs = [meeting(factory, organiser, first + timedelta(seconds=1.3 * i), [single_eps[i]])
                for i in range(args.singles)]

        def singles_done() -> bool:
            with factory() as s:
                n = s.scalar(select(func.count()).select_from(ConferenceRun).where(
                    ConferenceRun.occurrence_id.in_(occs), ConferenceRun.first_call_at.is_not(None)))
                return (n or 0) >= len(occs)

        wait_for(singles_done, 4 + 1.3 * args.singles + 60, "the single launches")
        with factory() as s:
            single_late = [r / 1000 for r in s.scalars(select(ConferenceRun.lateness_ms).where(
                ConferenceRun.occurrence_id.in_(occs))) if r is not None]
        # ---- the storm ----------------------------------------------------------------------------
        eps = endpoints(factory, total_legs)
        planned = (datetime.now(UTC) + timedelta(seconds=args.lead_seconds)).replace(microsecond=0)
        storm_occs = [meeting(factory, organiser, planned, eps[i * args.endpoints:(i + 1) * args.endpoints])
                      for i in range(args.conferences)]
        with factory() as s:
            single_confs = set(s.scalars(select(ConferenceRun.conference_name).where(
                ConferenceRun.occurrence_id.in_(occs))))
        wait_for(lambda: datetime.now(UTC) >= planned - timedelta(seconds=1), args.lead_seconds + 60,
                 "the planned instant", 0.01)
        trace = slots.start_trace()
        wait_for(lambda: datetime.now(UTC) >= planned, 5, "the planned instant", 0.001)
        t0 = time.monotonic() - (datetime.now(UTC) - planned).total_seconds()

        def bridge_connected() -> bool:
            parts = control(emu.control_url, "/state")["participants"]
            return sum(1 for p in parts if p["callState"] == "connected"
                       and p["conference"] not in single_confs) >= total_legs

        def recorded() -> bool:
            with factory() as s:
                n = s.scalar(select(func.count()).select_from(CallLeg).join(ConferenceRun).where(
                    CallLeg.state == LegState.CONNECTED, ConferenceRun.occurrence_id.in_(storm_occs)))
                return (n or 0) >= total_legs

        t_bridge = wait_for(bridge_connected, 900, "every leg connected on the bridge", 0.1) - t0
        t_db = wait_for(recorded, 300, "confbridge to record every leg connected", 0.1) - t0
        slots.stop_trace()
        storm_calls = [u for u in trace if u.method in ("conference.create", "participant.add")]
        last_call = max((u.finished for u in storm_calls), default=t0)
        figures = slot_figures(trace, args.concurrency, t0, last_call)
        calls = control(emu.control_url, "/calls")["calls"]
        state = control(emu.control_url, "/state")
        dup_dials = sum(n - 1 for n in Counter((c["conference"], c["participant"]) for c in calls).values()
                        if n > 1)
        names = [c["name"] for c in state["conferences"]]
        dup_confs = len(names) - len(set(names))
        with factory() as s:
            in_storm = ConferenceRun.occurrence_id.in_(storm_occs)
            states = Counter(s.scalars(select(ConferenceRun.state).where(in_storm)))
            storm_late = [r / 1000 for r in s.scalars(select(ConferenceRun.lateness_ms).where(in_storm))
                          if r is not None]
        floor = (args.conferences + total_legs) * args.latency_ms / 1000 / args.concurrency
        stats = state["stats"]

    finally:
        stop.set()
        scheduler.join(60) if scheduler.is_alive() else None
        emu.stop()
        db.dispose()

    print(f"launch storm: {args.conferences} conferences × {args.endpoints} endpoints = {total_legs} legs, "
          f"due at one instant; emulator {args.latency_ms} ms/call, {args.concurrency} concurrent, "
          f"enumerate page {args.page_size}; database {db.dialect.name}")
    print(f"  all legs connected on the bridge : {t_bridge:7.1f} s after the planned instant")
    print(f"  confbridge recorded all connected: {t_db:7.1f} s")
    print(f"  floor (create+dial calls × {args.latency_ms} ms ÷ {args.concurrency}): {floor:7.1f} s "
          f"({args.conferences + total_legs} calls)")
    print(f"  ratio (bridge) : {t_bridge / floor:.2f}   (goal ≤ 1.25)")
    print(f"  ratio (recorded): {t_db / floor:.2f}   (goal ≤ 1.3)")
    print(f"  duplicates: {dup_dials} dials, {dup_confs} conferences   (must be 0)")
    print(f"  runs by state: {dict(states)}; missed: {states.get('missed', 0)}, "
          f"failed: {states.get('failed', 0)}")
    print(f"  bridge requests: {sum(stats['calls'].values())} "
          f"({', '.join(f'{k} {v}' for k, v in sorted(stats['calls'].items()))}); "
          f"max in flight {stats['max_in_flight']}, rejected busy {stats['rejected_busy']}")
    print(f"  request slots from the instant to the last create/dial ({figures['window_s']:.1f} s): idle "
          + ", ".join(f"{x:.1f}" for x in figures["idle_s"]) + " s per slot; queue wait p50 "
          f"{figures['queue_wait_p50_s'] * 1000:.0f} ms")
    print("  slot time by method: " + ", ".join(
        f"{m} {n}× {figures['method_s'][m]:.1f} s" for m, n in sorted(figures["methods"].items())))
    print(f"  storm first-call lateness: p50 {pct(storm_late, 0.5):.2f} s, "
          f"p99 {pct(storm_late, 0.99):.2f} s, max {max(storm_late):.2f} s")
    print(f"single unloaded launches ({len(single_late)}): first-call lateness p50 "
          f"{pct(single_late, 0.5):.2f} s, p99 {pct(single_late, 0.99):.2f} s, "
          f"mean {statistics.mean(single_late):.2f} s   (goal p99 ≤ 0.1 s)")
    print(json.dumps({
        "bench": "launch_storm", "database": db.dialect.name, "conferences": args.conferences,
        "endpoints": args.endpoints, "legs": total_legs, "bridge_s": round(t_bridge, 2),
        "recorded_s": round(t_db, 2), "floor_s": round(floor, 2), "ratio_bridge": round(t_bridge / floor, 3),
        "ratio_recorded": round(t_db / floor, 3), "duplicate_dials": dup_dials,
        "duplicate_conferences": dup_confs, "missed": states.get("missed", 0), "failed": states.get("failed", 0),
        "storm_lateness_p50_s": round(pct(storm_late, 0.5), 3), "storm_lateness_p99_s": round(pct(storm_late, 0.99), 3),
        "single_lateness_p50_s": round(pct(single_late, 0.5), 3),
        "single_lateness_p99_s": round(pct(single_late, 0.99), 3),
        "slot_idle_s": [round(x, 2) for x in figures["idle_s"]], "slot_calls": figures["methods"],
    }))


if __name__ == "__main__":
    main()
