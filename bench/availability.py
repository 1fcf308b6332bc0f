"""Availability and conflict-check latency over 100,000 stored occurrences on 200 endpoints.

Populates a fresh database (SQLite file by default, or ``--url postgresql+psycopg://…``) with weekly
series and one-off meetings whose occurrences never double-book an endpoint, then times, with p50 and
p99 over many random probes:

- availability of 20 endpoints over one week (``booking.conflicts.busy_intervals``), against the bare
  indexed overlap query on ``endpoint_slots`` (raw SQL, same database, same parameters);
- a conflict check for a new weekly series on 5 endpoints (``find_conflicts`` + ``check_capacity``, what
  booking runs), against the bare overlap query for the same windows.

Goals (issue 16): on PostgreSQL availability p99 ≤ 15 ms and the 40-week conflict check p99 ≤ 25 ms at
100,000 occurrences (issue 2's 20 ms on SQLite), each also given as a ratio to the bare query.
``--postgres`` starts a throwaway PostgreSQL cluster (Debian's server binaries) for the run.
The last line printed is JSON: ``{"bench": "availability", …figures…}``.

    .venv/bin/python bench/availability.py [--postgres | --url URL] [--occurrences 100000] [--probes 300]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import statistics
import tempfile
import time
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, text

import confbridge.model_registry  # noqa: F401
from confbridge.auth.models import User
from confbridge.booking.conflicts import Window, busy_intervals, check_capacity, find_conflicts
from confbridge.booking.models import EndpointSlot, Meeting, Occurrence
from confbridge.db import make_engine, make_session_factory
from confbridge.directory.models import Endpoint, Site
from confbridge.migrate import upgrade
from confbridge.settings import load_settings

N_ENDPOINTS = 200
HOURS = list(range(1, 11))  # meeting hours 08:00–17:00 local ≈ 01:00–10:00 UTC
BASE = datetime(2027, 1, 4, 0, 0, tzinfo=UTC)  # a Monday
DAYS = 364


def populate(factory, target: int, seed: int = 7, n_endpoints: int = N_ENDPOINTS) -> int:  # type: ignore[no-untyped-def]
    # Each endpoint holds at most DAYS × len(HOURS) = 3,640 meetings a year and the loader never
    # double-books: a million occurrences (~3 million slots) need ~2,000 endpoints (--endpoints).
    rnd = random.Random(seed)
    taken: set[tuple[int, int, int]] = set()  # (endpoint, day, hour)
    with factory.begin() as s:
        s.add(Site(id=1, name="Tỉnh"))
        s.execute(insert(Endpoint), [
            {"id": i, "name": f"Điểm cầu {i:03d}", "site_id": 1, "protocol": "sip",
             "address": f"ep{i}@vc.example", "seats": 30, "enabled": True, "kind": "district",
             "created_at": BASE} for i in range(1, n_endpoints + 1)])
        s.add(User(id=1, username="bench", role="secretary", password_hash="!", display_name="b"))
    meetings, occurrences, slots = [], [], []
    occ_id = 0
    meeting_id = 0
    while occ_id < target:
        meeting_id += 1
        eps = rnd.sample(range(1, n_endpoints + 1), rnd.choice([2, 3, 3, 4]))
        hour = rnd.choice(HOURS)
        series = rnd.random() < 0.8
        day0 = rnd.randrange(0, 7 * 4)
        days = [day0 + 7 * k for k in range(40)] if series else [rnd.randrange(0, DAYS)]
        days = [d for d in days if d < DAYS and all((e, d, hour) not in taken for e in eps)]
        if not days:
            continue
        start0 = BASE + timedelta(days=days[0], hours=hour)
        meetings.append({"id": meeting_id, "uid": f"m{meeting_id}@bench", "title": f"Họp {meeting_id}",
                         "description": "", "organiser_id": 1, "start": start0,
                         "end": start0 + timedelta(minutes=45), "timezone": "Asia/Ho_Chi_Minh",
                         "setup_minutes": 15, "rrule": "FREQ=WEEKLY;COUNT=40" if series else None,
                         "exdates": [], "status": "planned", "sequence": 0, "created_at": BASE,
                         "updated_at": BASE})
        for d in days:
            if occ_id >= target:
                break
            occ_id += 1
            start = BASE + timedelta(days=d, hours=hour)
            occurrences.append({"id": occ_id, "meeting_id": meeting_id, "original_start": start, "start": start,
                                "end": start + timedelta(minutes=45), "setup_minutes": 15, "status": "planned",
                                "overridden": False, "extension_minutes": 0, "sequence": 0})
            for e in eps:
                taken.add((e, d, hour))
                slots.append({"occurrence_id": occ_id, "meeting_id": meeting_id, "endpoint_id": e,
                              "bridge_name": "mcu", "window_start": start - timedelta(minutes=15),
                              "window_end": start + timedelta(minutes=45)})
    with factory.begin() as s:
        bulk = [(Meeting, meetings), (Occurrence, occurrences), (EndpointSlot, slots)]
        copy_rows = s.get_bind().dialect.name == "postgresql"  # COPY: a million occurrences in a minute or two
        for table, rows in bulk:
            if copy_rows and table is not Meeting:  # (meetings have JSON columns: plain inserts)
                cursor = s.connection().connection.driver_connection.cursor()
                columns = list(rows[0])
                quoted = ", ".join(f'"{c}"' for c in columns)  # "end" is a reserved word
                with cursor.copy(f"COPY {table.__tablename__} ({quoted}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row([row[c] for c in columns])
                continue
            for i in range(0, len(rows), 5000):
                s.execute(insert(table), rows[i:i + 5000])
    return len(slots)


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def timed_pair(first, second, probes: int) -> tuple[list[float], list[float]]:  # type: ignore[no-untyped-def]
    out_a, out_b = [], []
    for i in range(probes):
        t0 = time.perf_counter()
        first(i)
        t1 = time.perf_counter()
        second(i)
        t2 = time.perf_counter()
        out_a.append((t1 - t0) * 1000)
        out_b.append((t2 - t1) * 1000)
    return out_a, out_b


BARE_RANGE = ("SELECT endpoint_id, window_start, window_end, meeting_id FROM endpoint_slots "
              "WHERE endpoint_id IN ({ids}) AND window_start < :to AND window_start > :lo AND window_end > :frm")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", help="an empty database (default: a SQLite file)")
    ap.add_argument("--postgres", action="store_true", help="start a throwaway PostgreSQL cluster for the run")
    ap.add_argument("--occurrences", type=int, default=100_000)
    ap.add_argument("--probes", type=int, default=300)
    ap.add_argument("--endpoints", type=int, default=N_ENDPOINTS,
                    help="endpoints the bookings spread over (1,000,000 occurrences need ~2000)")
    ap.add_argument("--populated", action="store_true", help="--url already holds this bench's data")
    args = ap.parse_args()
    with ExitStack() as stack:
        url = args.url
        if args.postgres:
            from pgcluster import throwaway_postgres

            url = stack.enter_context(throwaway_postgres("shared_buffers=256MB"))
        tmp = stack.enter_context(tempfile.TemporaryDirectory())
        run(args, url or f"sqlite:///{Path(tmp) / 'bench.db'}")


def run(args: argparse.Namespace, url: str) -> None:
    engine = make_engine(url)
    upgrade(engine)
    factory = make_session_factory(engine)
    settings = load_settings(environ={}).with_overrides(**{
        # One video port per endpoint: the loader never double-books an endpoint but ignores the bridge's
        # ports, so with fewer ports than endpoints every window would already be over capacity.
        "database.url": url,
        "bridges": [{"name": "mcu", "video_ports": args.endpoints, "url": "http://127.0.0.1:1/RPC2"}]})
    t0 = time.perf_counter()
    if args.populated:  # a database this script filled before (same --occurrences): measure again
        with engine.connect() as conn:
            n_slots = int(conn.execute(text("SELECT count(*) FROM endpoint_slots")).scalar_one())
    else:
        n_slots = populate(factory, args.occurrences, n_endpoints=args.endpoints)
    populate_s = time.perf_counter() - t0
    # Settle the database after the bulk load (statistics, no autovacuum or checkpoint mid-measurement)
    # and keep the loader's garbage out of the timed loops.
    if url.startswith("sqlite"):
        import sqlite3

        raw = sqlite3.connect(url.split("///", 1)[1])  # outside any transaction (ours begin IMMEDIATE)
        raw.execute("ANALYZE")
        raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        raw.close()
    else:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
    gc.collect()
    gc.freeze()
    print(f"database: {engine.dialect.name}; {args.occurrences} occurrences, {n_slots} endpoint slots on "
          f"{args.endpoints} endpoints; populated in {populate_s:.1f} s")

    rnd = random.Random(11)
    weeks = [(sorted(rnd.sample(range(1, args.endpoints + 1), 20)),
              BASE + timedelta(days=7 * rnd.randrange(0, 50))) for _ in range(args.probes)]
    session = factory()

    def ours_availability(i: int) -> None:
        ids, start = weeks[i]
        busy_intervals(session, settings, ids, start, start + timedelta(days=7))
        session.rollback()

    span = timedelta(hours=settings.booking.max_duration_hours, minutes=240)

    def bare_availability(i: int) -> None:
        ids, start = weeks[i]
        with engine.connect() as conn:
            conn.execute(text(BARE_RANGE.format(ids=",".join(map(str, ids)))),
                         {"frm": _p(url, start), "to": _p(url, start + timedelta(days=7)),
                          "lo": _p(url, start - span)}).fetchall()
            conn.rollback()

    series = [(rnd.sample(range(1, args.endpoints + 1), 5), BASE + timedelta(days=rnd.randrange(0, 7),
                                                                          hours=rnd.choice(HOURS)))
              for _ in range(args.probes)]

    def windows_of(start: datetime) -> list[Window]:
        return [Window(start + timedelta(weeks=k) - timedelta(minutes=15), start + timedelta(weeks=k, minutes=45))
                for k in range(40)]

    def ours_conflicts(i: int) -> None:
        ids, start = series[i]
        ws = windows_of(start)
        find_conflicts(session, settings, ids, ws)
        check_capacity(session, settings, "mcu", ws, len(ids))
        session.rollback()

    def bare_conflicts(i: int) -> None:
        ids, start = series[i]
        ws = windows_of(start)
        rows = ",".join(f"(:s{k}, :e{k}, :l{k})" for k in range(len(ws)))
        params = {}
        for k, w in enumerate(ws):
            params[f"s{k}"], params[f"e{k}"] = _p(url, w.start), _p(url, w.end)
            params[f"l{k}"] = _p(url, w.start - span)
        eps = ",".join(f"({i})" for i in ids)
        if url.startswith("sqlite"):
            sql = (f"WITH w(ws, we, lo) AS (VALUES {rows}), ep(id) AS (VALUES {eps}) "
                   "SELECT s.endpoint_id, s.meeting_id, s.window_start FROM w CROSS JOIN ep "
                   "JOIN endpoint_slots s ON s.endpoint_id = ep.id "
                   "AND s.window_start < w.we AND s.window_start > w.lo AND s.window_end > w.ws")
        else:  # the best plain form on PostgreSQL: one index range probe per (window, endpoint)
            sql = (f"WITH w(ws, we, lo) AS (VALUES {rows}), ep(id) AS (VALUES {eps}) "
                   "SELECT s.endpoint_id, s.meeting_id, s.window_start FROM w CROSS JOIN ep CROSS JOIN LATERAL "
                   "(SELECT * FROM endpoint_slots s WHERE s.endpoint_id = ep.id AND s.window_start < w.we "
                   "AND s.window_start > w.lo AND s.window_end > w.ws OFFSET 0) s")
        with engine.connect() as conn:
            conn.execute(text(sql), params).fetchall()
            conn.rollback()

    postgres = engine.dialect.name == "postgresql"
    load = os.getloadavg()[0]  # other work on the machine inflates every figure: say how much there was
    print(f"machine: {os.cpu_count()} CPUs, load average {load:.1f} at the start of the measurements")
    figures: dict[str, object] = {"bench": "availability", "database": engine.dialect.name, "load_avg": load,
                                  "occurrences": args.occurrences, "endpoints": args.endpoints, "slots": n_slots,
                                  "probes": args.probes,
                                  "populate_s": round(populate_s, 1)}
    all_ok = True
    for key, name, ours, bare, goal in (
        ("availability", "availability 20 endpoints x 1 week", ours_availability, bare_availability,
         15 if postgres else 20),
        ("conflicts", "conflict check, weekly series x40 on 5 endpoints", ours_conflicts, bare_conflicts,
         25 if postgres else 20),
    ):
        ours(0), bare(0)  # warm caches
        # Interleaved, probe by probe: a burst of other work on a shared machine hits both alike.
        a, b = timed_pair(ours, bare, args.probes)
        ratio_p50 = statistics.median(a) / statistics.median(b)
        ratio_p99 = pct(a, 99) / pct(b, 99)
        ok = pct(a, 99) <= goal
        all_ok = all_ok and ok
        print(f"{name}:")
        print(f"  confbridge  p50 {statistics.median(a):6.2f} ms   p99 {pct(a, 99):6.2f} ms")
        print(f"  bare SQL    p50 {statistics.median(b):6.2f} ms   p99 {pct(b, 99):6.2f} ms")
        print(f"  ratio       p50 {ratio_p50:5.2f}        p99 {ratio_p99:5.2f}   "
              f"(goal: p99 <= {goal} ms) -> {'OK' if ok else 'MISSED'}")
        figures.update({
            f"{key}_p50_ms": round(statistics.median(a), 3), f"{key}_p99_ms": round(pct(a, 99), 3),
            f"{key}_bare_p50_ms": round(statistics.median(b), 3), f"{key}_bare_p99_ms": round(pct(b, 99), 3),
            f"{key}_ratio_p50": round(ratio_p50, 2), f"{key}_ratio_p99": round(ratio_p99, 2),
            f"{key}_goal_p99_ms": goal,
        })
    session.close()
    engine.dispose()
    print(json.dumps({**figures, "ok": all_ok}))


def _p(url: str, value: datetime) -> object:
    # SQLite stores naive UTC text (see confbridge.db.UTCDateTime); PostgreSQL takes aware datetimes.
    return value.replace(tzinfo=None).isoformat(sep=" ") if url.startswith("sqlite") else value


if __name__ == "__main__":
    main()
