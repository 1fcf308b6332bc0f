"""The web under load: the request rate a secretary/technician mix sustains at p99 ≤ 200 ms.

Starts a throwaway PostgreSQL cluster (or takes ``--url``, an empty database), books a year of meetings
on 200 endpoints (``availability.populate``), then serves ``confbridge web`` with gunicorn (2 workers,
gthread, as deployed) and, the same way (gunicorn, same worker count, class and threads), a trivial Flask
endpoint: the ceiling of this machine's HTTP stack. An asyncio client (aiohttp, open loop: requests are
sent on a fixed schedule and timed from their scheduled instant, so a slow server cannot slow the
offered load down) offers rising rates to each and keeps the highest at which p99 ≤ 200 ms with no
error. The mix, with API tokens of a secretary and a technician:

- the calendar week page (``/calendar?date=…``), the availability grid page (``/availability?date=…``),
- the occurrences of a week (``GET /api/v1/occurrences``), the conference list of a day
  (``GET /api/v1/conferences``), a booking check of a weekly series (``POST /api/v1/meetings/check``).

Goal (issue 16): confbridge's rate ≥ 50 % of the trivial endpoint's. The client shares the machine's
cores with the servers (for both targets alike). The last line is JSON: ``{"bench": "web_load", …}``.

    .venv/bin/python bench/web_load.py [--url URL] [--occurrences 10000] [--seconds 8] [--workers 2]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

P99_GOAL_MS = 200.0
ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def trivial_server(port: int, workers: int) -> None:
    """A one-route Flask app under gunicorn with confbridge's own gunicorn options (the ceiling)."""
    from flask import Flask
    from gunicorn.app.base import BaseApplication

    from confbridge.settings import load_settings
    from confbridge.webserver import gunicorn_options

    settings = load_settings(environ={}).with_overrides(**{"web.port": port, "web.host": "127.0.0.1",
                                                           "web.workers": workers})
    app = Flask("trivial")

    @app.get("/ok")
    def ok() -> dict[str, str]:
        return {"status": "ok"}

    class _App(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            options = {k: v for k, v in gunicorn_options(settings).items() if k != "child_exit"}
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self) -> Any:
            return app

    _App().run()


def prepare(url: str, occurrences: int) -> tuple[dict[str, str], int]:
    """Schema, a year of bookings, the users and their API tokens."""
    import availability
    from sqlalchemy import text

    import confbridge.model_registry  # noqa: F401
    from confbridge.auth.service import create_user, issue_token
    from confbridge.db import make_engine, make_session_factory
    from confbridge.migrate import upgrade

    engine = make_engine(url)
    upgrade(engine)
    factory = make_session_factory(engine)
    slots = availability.populate(factory, occurrences)
    tokens = {}
    if engine.dialect.name == "postgresql":  # the loader gave explicit ids: move the sequences past them
        with factory.begin() as s:
            for table in ("sites", "endpoints", "users", "meetings", "occurrences"):
                s.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                               f"(SELECT max(id) FROM {table}))"))
    with factory.begin() as s:
        # The meetings' endpoint lists (the bench's loader fills the slots only).
        s.execute(text("INSERT INTO meeting_endpoints (meeting_id, endpoint_id) "
                       "SELECT DISTINCT meeting_id, endpoint_id FROM endpoint_slots"))
        for name, role in (("thuky", "secretary"), ("kythuat", "technician")):
            user = create_user(s, name, "mat-khau-dai-" + name + "-2027", role)
            tokens[role], _row = issue_token(s, user, hours=24)
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
    engine.dispose()
    return tokens, slots


def wait_port(port: int, proc: subprocess.Popen[bytes], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited ({proc.returncode}) before listening on {port}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"nothing listening on {port} after {seconds} s")


def confbridge_mix(base: str, tokens: dict[str, str], seed: int = 5) -> list[tuple[str, str, str, Any, str]]:
    """(kind, method, url, json body, token) requests of the mix, in a random order."""
    from availability import BASE, HOURS, N_ENDPOINTS

    rnd = random.Random(seed)
    sec, tech = tokens["secretary"], tokens["technician"]
    out: list[tuple[str, str, str, Any, str]] = []
    for _ in range(2000):
        day = (BASE + timedelta(days=rnd.randrange(0, 350))).date()
        monday = BASE + timedelta(weeks=rnd.randrange(0, 50))
        kind = rnd.choices(["calendar_week", "availability_grid", "occurrences", "conferences", "booking_check"],
                           [25, 20, 20, 20, 15])[0]
        if kind == "calendar_week":
            out.append((kind, "GET", f"{base}/calendar?date={day.isoformat()}", None, sec))
        elif kind == "availability_grid":
            out.append((kind, "GET", f"{base}/availability?date={day.isoformat()}", None, sec))
        elif kind == "occurrences":
            q = f"from={_q(monday)}&to={_q(monday + timedelta(days=7))}"
            out.append((kind, "GET", f"{base}/api/v1/occurrences?{q}", None, rnd.choice([sec, tech])))
        elif kind == "conferences":
            day0 = datetime.combine(day, datetime.min.time(), tzinfo=UTC)
            q = f"from={_q(day0)}&to={_q(day0 + timedelta(days=1))}"
            out.append((kind, "GET", f"{base}/api/v1/conferences?{q}", None, tech))
        else:
            first = BASE + timedelta(weeks=rnd.randrange(0, 20))  # the series ends inside the booking horizon
            start = first + timedelta(days=rnd.randrange(0, 5), hours=rnd.choice(HOURS), minutes=30)
            body = {"title": "Giao ban tuần", "start": start.isoformat(),
                    "end": (start + timedelta(minutes=60)).isoformat(), "timezone": "Asia/Ho_Chi_Minh",
                    "endpoint_ids": rnd.sample(range(1, N_ENDPOINTS + 1), 5), "rrule": "FREQ=WEEKLY;COUNT=20"}
            out.append((kind, "POST", f"{base}/api/v1/meetings/check", body, sec))
    return out


def _q(value: datetime) -> str:
    return value.isoformat().replace("+", "%2B")


async def offer(requests: list[tuple[str, str, str, Any, str]], rate: float, seconds: float,
                ok_statuses: frozenset[int] = frozenset({200})) -> dict[str, Any]:
    """Open loop: request i is due at i/rate; its latency counts from when it was due."""
    import aiohttp

    n = max(1, int(rate * seconds))
    latencies: list[float] = []
    by_kind: dict[str, list[float]] = {}
    errors: dict[str, int] = {}
    timeout = aiohttp.ClientTimeout(total=30)
    connector = aiohttp.TCPConnector(limit=400, force_close=False)
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as client:
        loop = asyncio.get_running_loop()
        t0 = loop.time() + 0.05

        async def one(i: int) -> None:
            kind, method, url, body, token = requests[i % len(requests)]
            due = t0 + i / rate
            await asyncio.sleep(max(0.0, due - loop.time()))
            try:
                async with client.request(method, url, json=body,
                                          headers={"Authorization": f"Bearer {token}"}) as resp:
                    await resp.read()
                    status = resp.status
            except (aiohttp.ClientError, TimeoutError) as exc:
                status = type(exc).__name__  # type: ignore[assignment]
            ms = (loop.time() - due) * 1000
            latencies.append(ms)
            by_kind.setdefault(kind, []).append(ms)
            if status not in ok_statuses:
                errors[f"{kind} {status}"] = errors.get(f"{kind} {status}", 0) + 1

        await asyncio.gather(*(one(i) for i in range(n)))
    return {"rate": rate, "n": n, "p50_ms": pct(latencies, 50), "p99_ms": pct(latencies, 99),
            "errors": errors, "kinds": {k: (pct(v, 50), pct(v, 99)) for k, v in sorted(by_kind.items())}}


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))] if ordered else float("nan")


def max_rate(name: str, requests: list[tuple[str, str, str, Any, str]], seconds: float, start: float,
             ) -> tuple[float, dict[str, Any] | None]:
    """Raise the rate ×1.5 while p99 ≤ 200 ms with no error, then bisect three times."""
    good: dict[str, Any] | None = None
    bad: float | None = None
    rate = start
    asyncio.run(offer(requests, min(rate, 20), 2))  # warm up: connections, worker caches

    def run(r: float) -> bool:
        nonlocal good
        for _attempt in range(2):  # a rate fails only if it fails twice (a burst of other work on the machine)
            res = asyncio.run(offer(requests, r, seconds))
            ok = res["p99_ms"] <= P99_GOAL_MS and not res["errors"]
            kinds = "  ".join(f"{k} {p99:.0f}" for k, (_p50, p99) in res["kinds"].items())
            kinds = kinds if len(res["kinds"]) > 1 else ""
            print(f"  {name:10} {r:8.1f} req/s: p50 {res['p50_ms']:7.1f} ms  p99 {res['p99_ms']:7.1f} ms"
                  f"{'  errors ' + str(res['errors']) if res['errors'] else ''}  {'ok' if ok else 'over'}"
                  f"{'  (p99 ms: ' + kinds + ')' if kinds else ''}", flush=True)
            if ok:
                if good is None or r > good["rate"]:
                    good = res
                return True
        return False

    while run(rate):
        rate *= 1.5
    bad = rate
    low = good["rate"] if good else 0.0
    for _ in range(3):
        mid = (low + bad) / 2
        if mid < 1:
            break
        if run(mid):
            low = mid
        else:
            bad = mid
    return (good["rate"] if good else 0.0), good


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--url", help="an empty PostgreSQL database (default: a throwaway cluster)")
    ap.add_argument("--occurrences", type=int, default=10_000)
    ap.add_argument("--seconds", type=float, default=8.0, help="seconds per offered rate")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--trivial-server", nargs=2, type=int, metavar=("PORT", "WORKERS"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.trivial_server:
        trivial_server(*args.trivial_server)
        return
    with ExitStack() as stack:
        url = args.url
        if not url:
            from pgcluster import throwaway_postgres

            url = stack.enter_context(throwaway_postgres("shared_buffers=256MB"))
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="confbridge-webload-")))
        run(args, url, tmp)


def _start(cmd: list[str], tmp: Path, log: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(cmd, cwd=tmp, env=env, stdout=subprocess.DEVNULL,
                            stderr=open(tmp / log, "wb"), start_new_session=True)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)


def run(args: argparse.Namespace, url: str, tmp: Path) -> None:
    t0 = time.perf_counter()
    tokens, slots = prepare(url, args.occurrences)
    print(f"database: {url.split('://')[0]}; {args.occurrences} occurrences, {slots} endpoint slots; "
          f"prepared in {time.perf_counter() - t0:.1f} s; {os.cpu_count()} CPUs; gunicorn {args.workers} "
          "workers (gthread) for both servers", flush=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONFBRIDGE_")}
    env["PYTHONPATH"] = str(ROOT)
    results: dict[str, Any] = {}
    # The ceiling: a trivial Flask endpoint, served the same way.
    port = free_port()
    trivial = _start([sys.executable, __file__, "--trivial-server", str(port), str(args.workers)], tmp,
                     "trivial.log", env)
    try:
        wait_port(port, trivial)
        print("trivial Flask endpoint (GET /ok):", flush=True)
        results["trivial"] = max_rate("trivial", [("ok", "GET", f"http://127.0.0.1:{port}/ok", None, "-")],
                                      args.seconds, 100)
    finally:
        _stop(trivial)
    port = free_port()
    config = tmp / "confbridge.toml"
    config.write_text("\n".join([
        f'data_dir = "{tmp / "data"}"', "[database]", f'url = "{url}"',
        "[web]", 'host = "127.0.0.1"', f"port = {port}", f"workers = {args.workers}",
        f'secret_key_file = "{tmp / "secret"}"', "[live]", 'host = "127.0.0.1"', f"port = {free_port()}",
        "[emulator]", "enabled = false", "[logging]", 'level = "WARNING"',
        "[[bridges]]", 'name = "mcu"', "video_ports = 200", 'url = "http://127.0.0.1:1/RPC2"', "",
    ]), encoding="utf-8")
    web = _start([sys.executable, "-m", "confbridge.cli", "--config", str(config), "web"], tmp, "web.log", env)
    try:
        wait_port(port, web)
        mix = confbridge_mix(f"http://127.0.0.1:{port}", tokens)
        print("confbridge mix (calendar week, availability grid, occurrences, conferences, booking check):",
              flush=True)
        results["confbridge"] = max_rate("confbridge", mix, args.seconds, 10)
    finally:
        _stop(web)
    ceiling, trivial_res = results["trivial"]
    ours, ours_res = results["confbridge"]
    ratio = ours / ceiling if ceiling else 0.0
    print(f"trivial endpoint: {ceiling:.0f} req/s at p99 ≤ {P99_GOAL_MS:.0f} ms")
    print(f"confbridge mix:   {ours:.0f} req/s at p99 ≤ {P99_GOAL_MS:.0f} ms")
    if ours_res:
        for kind, (p50, p99) in ours_res["kinds"].items():
            print(f"  {kind:18} p50 {p50:7.1f} ms  p99 {p99:7.1f} ms")
    print(f"machine load average at the end: {os.getloadavg()[0]:.1f} (other work inflates every figure)")
    print(f"ratio: {ratio:.2%} of the ceiling (goal ≥ 50 %) -> {'OK' if ratio >= 0.5 else 'MISSED'}")
    print(json.dumps({
        "bench": "web_load", "database": url.split("://")[0], "occurrences": args.occurrences,
        "workers": args.workers, "cpus": os.cpu_count(),
        "load_avg_end": round(os.getloadavg()[0], 1), "trivial_rps": round(ceiling, 1),
        "confbridge_rps": round(ours, 1), "ratio": round(ratio, 3),
        "trivial_p99_ms": round(trivial_res["p99_ms"], 1) if trivial_res else None,
        "confbridge_p99_ms": round(ours_res["p99_ms"], 1) if ours_res else None,
        "confbridge_kinds_p99_ms": {k: round(v[1], 1) for k, v in ours_res["kinds"].items()} if ours_res else {},
        "ok": ratio >= 0.5,
    }))


if __name__ == "__main__":
    main()
