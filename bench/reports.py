"""Reports at national scale: a month's call detail records for 10,000 endpoints and 20,000 runs.

Populates a fresh database (SQLite file by default, or ``--url postgresql+psycopg://…``, which must be an
empty database) with 10,000 endpoints on 700 sites, 20,000 ended conference runs in November 2026 with
``--legs`` call legs each (some failed busy, some dropped), then times, best of ``--repeat``:

- a page of the month's CDR as the REST API answers it (1000 runs with their legs, JSON), the first page
  and the last one (keyset paging: the last costs what the first does);
- the whole month's CDR in one JSON document (what a client that reads every page gets in total);
- the same as CSV (one row per leg);
- the usage report by site and the reliability report.

Goal (issue 15): the month's CDR answers in under 2 s on PostgreSQL, page by page.  Prints figures, then one JSON line.

    .venv/bin/python bench/reports.py [--postgres | --url URL] [--runs 20000] [--endpoints 10000] [--legs 10]
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert

import confbridge.model_registry  # noqa: F401
from confbridge import clock
from confbridge.auth.models import User
from confbridge.booking.models import Meeting, Occurrence
from confbridge.db import make_engine, make_session_factory
from confbridge.directory.models import Endpoint, Site
from confbridge.launch.models import CallLeg, ConferenceRun
from confbridge.migrate import upgrade
from confbridge.reports import export, service
from confbridge.reports.labels import CDR_COLUMNS
from confbridge.reports.period import parse_period
from confbridge.reports.rows import cdr_rows
from confbridge.settings import load_settings

MONTH = datetime(2026, 11, 1, tzinfo=UTC)


def populate(factory: Any, runs: int, endpoints: int, legs: int, seed: int = 15) -> int:
    rnd = random.Random(seed)
    with factory.begin() as s:
        s.execute(insert(User), [{"id": 1, "username": "admin", "password_hash": "-", "role": "admin",
                                  "display_name": "Quản trị", "active": True}])
        s.execute(insert(Site), [{"id": i + 1, "name": f"Xã {i + 1}"} for i in range(700)])
        s.execute(insert(Endpoint), [{"id": i + 1, "name": f"Điểm cầu {i + 1}", "site_id": i % 700 + 1, "kind": "",
                                      "protocol": "sip", "address": f"ep{i + 1}@127.0.0.1", "seats": 10,
                                      "enabled": True} for i in range(endpoints)])
    total_legs = 0
    batch = 2000
    for first in range(0, runs, batch):
        meetings, occs, run_rows, leg_rows = [], [], [], []
        for n in range(first, min(runs, first + batch)):
            rid = n + 1
            start = MONTH + timedelta(days=n % 30, hours=1 + n % 9, minutes=(n * 7) % 60)
            end = start + timedelta(minutes=60)
            meetings.append({"id": rid, "uid": f"m{rid}@bench", "title": f"Họp số {rid}", "organiser_id": 1,
                             "start": start, "end": end, "timezone": "Asia/Ho_Chi_Minh", "setup_minutes": 10,
                             "exdates": [], "status": "planned", "sequence": 0})
            occs.append({"id": rid, "meeting_id": rid, "original_start": start, "start": start, "end": end,
                         "setup_minutes": 10, "status": "planned"})
            run_rows.append({"id": rid, "occurrence_id": rid, "meeting_id": rid, "bridge_name": f"mcu-{n % 4}",
                             "conference_name": f"cb-{rid}", "state": "ended",
                             "planned_start": start - timedelta(minutes=10), "planned_end": end,
                             "first_call_at": start - timedelta(minutes=10, seconds=-1), "lateness_ms": 1000,
                             "late": False, "ended_at": end, "conference_ready": False})
            for ep in rnd.sample(range(1, endpoints + 1), legs):
                ok = rnd.random() > 0.05
                leg_rows.append({"run_id": rid, "endpoint_id": ep, "participant_name": f"p{ep}", "protocol": "sip",
                                 "address": f"ep{ep}@127.0.0.1", "display_name": "", "state": "disconnected"
                                 if ok else "failed", "wanted": True, "attempts": 1 if ok else 3,
                                 "first_connected_at": start if ok else None,
                                 "first_connect_attempt": 1 if ok else None,
                                 "connected_seconds": 3600 if ok else 0, "drops": int(rnd.random() < 0.02),
                                 "fail_reason": None if ok else "busy", "on_bridge": False,
                                 "audio_muted": False, "video_muted": False})
        with factory.begin() as s:
            s.execute(insert(Meeting), meetings)
            s.execute(insert(Occurrence), occs)
            s.execute(insert(ConferenceRun), run_rows)
            s.execute(insert(CallLeg), leg_rows)
        total_legs += len(leg_rows)
    return total_legs


def best(repeat: int, fn: Any) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return min(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default=None)
    parser.add_argument("--runs", type=int, default=20_000)
    parser.add_argument("--endpoints", type=int, default=10_000)
    parser.add_argument("--legs", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--postgres", action="store_true", help="start a throwaway PostgreSQL cluster for the run")
    args = parser.parse_args()
    with ExitStack() as stack:
        url = args.url
        if args.postgres:
            from pgcluster import throwaway_postgres

            url = stack.enter_context(throwaway_postgres("shared_buffers=256MB"))
        run(args, url or f"sqlite:///{Path(stack.enter_context(tempfile.TemporaryDirectory())) / 'reports.db'}")


def run(args: argparse.Namespace, url: str) -> None:
    settings = load_settings(environ={}).with_overrides(**{"database.url": url, "bridges": []})
    engine = make_engine(url)
    upgrade(engine)
    factory = make_session_factory(engine)
    started = time.perf_counter()
    legs = populate(factory, args.runs, args.endpoints, args.legs)
    print(f"populated {args.runs} runs, {legs} legs, {args.endpoints} endpoints "
          f"in {time.perf_counter() - started:.1f} s ({engine.dialect.name})")
    with clock.use_clock(clock.FrozenClock(datetime(2026, 12, 2, tzinfo=UTC))), factory() as session:
        admin = session.get(User, 1)
        assert admin is not None
        period = parse_period("2026-11-01", "2026-11-30", settings.zone)

        def cdr_json() -> int:
            runs = service.fetch(session, admin, period)
            return len(json.dumps({"conferences": [r.as_dict() for r in runs]}, ensure_ascii=False))

        def cdr_csv() -> int:
            return len(export.to_csv(CDR_COLUMNS, cdr_rows(service.fetch(session, admin, period), "vi"), "vi",
                                     settings.zone))

        page = 1000  # the API's default page of conference runs
        everything = service.fetch(session, admin, period)
        last_start = everything[-page - 1] if len(everything) > page else None

        def cdr_page(after: service.RunRow | None) -> int:
            position = service.Position(after.planned_start, after.id) if after is not None else None
            runs = service.fetch(session, admin, period, after=position, limit=page + 1)[:page]
            return len(json.dumps({"conferences": [r.as_dict() for r in runs]}, ensure_ascii=False))

        figures: dict[str, float] = {}
        for name, fn in (("cdr_page_first", lambda: cdr_page(None)), ("cdr_page_last", lambda: cdr_page(last_start)),
                         ("cdr_json", cdr_json), ("cdr_csv", cdr_csv),
                         ("usage_site", lambda: len(service.usage(session, settings, admin, period, "site"))),
                         ("reliability", lambda: len(service.reliability(session, settings, admin, period)))):
            seconds, size = best(args.repeat, fn)
            figures[name] = round(seconds, 3)
            print(f"{name:12s} {seconds * 1000:8.0f} ms  ({size} {'bytes' if name.startswith('cdr') else 'items'})")
    # The API answers a month's CDR page by page (1000 runs each): the goal holds per page, first and last.
    ok = max(figures["cdr_page_first"], figures["cdr_page_last"]) < 2.0
    print(json.dumps({"bench": "reports", "database": engine.dialect.name, "runs": args.runs, "legs": legs,
                      "endpoints": args.endpoints, "seconds": figures, "goal_seconds": 2.0, "ok": ok}))


if __name__ == "__main__":
    main()
