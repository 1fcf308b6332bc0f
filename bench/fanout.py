"""Fan-out: 10,000 endpoints, 1,000 status changes per second, 200 connected dashboard clients.

Everything on 127.0.0.1: a throwaway redis-server, a migrated SQLite database with the endpoints, the live
server as its own process (``confbridge live`` with ``live.bus = "redis"``), the publisher in this
process (events on the Redis channel, as web and scheduler processes publish them), and the clients in
``--procs`` worker processes (real WebSocket clients: first-message token auth, snapshot, events).

Then the same events, in the same run, through a baseline server: plain ``websockets.broadcast`` of
every event to every client as it arrives (no coalescing, no per-client bound, no auth).

Prints, per server: event-to-client latency p50/p99/max, frames and events per client per second, the
server process's CPU (% of one core) and memory (RSS peak), dropped clients, and whether every client's
final state equals the source's.  Goal: p99 <= 500 ms, equal final state, live process <= 300 MiB.

    python bench/fanout.py [--endpoints 10000] [--rate 1000] [--clients 200] [--seconds 20] [--procs 2]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from redisserver import throwaway_redis

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

STATUSES = ("idle", "dialling", "in_call", "muted", "degraded", "failed", "offline")


# ---- setup ---------------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, proc: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("server did not open its port")


def make_database(path: Path, endpoints: int, clients: int) -> tuple[str, list[str]]:
    from sqlalchemy import insert

    from confbridge.auth.service import create_user
    from confbridge.db import make_engine, make_session_factory
    from confbridge.directory.models import Endpoint, Site
    from confbridge.live.tokens import issue_live_token
    from confbridge.migrate import upgrade
    from confbridge.settings import LiveSettings

    url = f"sqlite:///{path}"
    engine = make_engine(url)
    upgrade(engine)
    factory = make_session_factory(engine)
    per_site = 100
    with factory.begin() as s:
        s.execute(insert(Site), [{"id": i + 1, "name": f"Cụm {i + 1}"} for i in range(endpoints // per_site + 1)])
        s.execute(insert(Endpoint), [
            {"id": i + 1, "name": f"Điểm cầu {i + 1}", "site_id": i // per_site + 1, "protocol": "sip",
             "address": f"ep{i + 1}@vc.bench.example", "kind": "", "seats": 0, "enabled": True}
            for i in range(endpoints)])
        user = create_user(s, "kythuat", "bench-password-123", "technician")
        # Tokens live long enough for the whole setup (the default 60 s is for browsers).
        tokens = [issue_live_token(s, user, LiveSettings(token_seconds=3600))[0] for _ in range(clients)]
    engine.dispose()
    return url, tokens


# ---- clients (worker processes) ------------------------------------------------------------------------
def client_process(url: str, tokens: list[str], with_auth: bool, results: Any, control: Any) -> None:
    asyncio.run(_clients(url, tokens, with_auth, results, control))


async def _clients(url: str, tokens: list[str], with_auth: bool, results: Any, control: Any) -> None:
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed

    n = len(tokens)
    states: list[dict[int, str]] = [{} for _ in range(n)]
    latencies: list[float] = []
    frames = [0] * n
    events = [0] * n
    gaps = [0] * n
    closed = [False] * n
    window = {"start": None, "end": None}
    ready = asyncio.Event()
    done = asyncio.Event()
    snapshots = 0

    async def one(i: int, token: str) -> None:
        nonlocal snapshots
        try:
            async with connect(url, max_size=None, open_timeout=120, ping_interval=None,
                               compression=None) as ws:
                if with_auth:
                    await ws.send(json.dumps({"type": "auth", "token": token}))
                    snap = json.loads(await ws.recv())
                    seq = snap["seq"]
                    states[i] = {e["id"]: e["status"] for e in snap["endpoints"]}
                else:
                    seq = None
                snapshots += 1
                if snapshots == n:
                    ready.set()
                async for raw in ws:
                    now = time.time()
                    msg = json.loads(raw)
                    batch = msg["events"] if msg.get("type") == "batch" else [msg]
                    in_window = window["start"] is not None and window["end"] is None
                    if in_window:
                        frames[i] += 1
                        events[i] += len(batch)
                    for ev in batch:
                        if seq is not None and ev["seq"] != seq + 1:
                            gaps[i] += 1
                        seq = ev["seq"]
                        states[i][ev["endpoint_id"]] = ev["status"]
                        if in_window and i % 10 == 0:  # a sample of clients: enough points, less CPU
                            latencies.append(now - ev["t"])
        except ConnectionClosed:
            closed[i] = True

    tasks = []
    for i, token in enumerate(tokens):
        tasks.append(asyncio.create_task(one(i, token)))
        await asyncio.sleep(0.01)
    await asyncio.wait_for(ready.wait(), 600)
    results.put(("ready", None))
    loop = asyncio.get_running_loop()

    def wait_control() -> None:
        while True:
            command, payload = control.get()
            if command == "start":
                loop.call_soon_threadsafe(window.__setitem__, "start", time.time())
            elif command == "end":
                loop.call_soon_threadsafe(window.__setitem__, "end", time.time())
            elif command == "final":
                window["final"] = payload
                loop.call_soon_threadsafe(done.set)
                return

    threading.Thread(target=wait_control, daemon=True).start()
    await done.wait()
    final: dict[int, str] = window["final"]  # type: ignore[assignment]
    mismatched = sum(1 for st in states if any(st.get(k) != v for k, v in final.items()))
    for t in tasks:
        t.cancel()
    seconds = (window["end"] or time.time()) - (window["start"] or time.time())
    results.put(("done", {"latencies": latencies, "frames": frames, "events": events, "gaps": sum(gaps),
                          "closed": sum(closed), "mismatched": mismatched, "seconds": seconds}))


# ---- baseline server -----------------------------------------------------------------------------------
def baseline_server(port: int, redis_url: str) -> None:
    """Every bus event broadcast at once to every client with ``websockets.broadcast``."""
    import redis.asyncio as aioredis
    from websockets.asyncio.server import broadcast, serve

    clients: set[Any] = set()

    async def handler(ws: Any) -> None:
        clients.add(ws)
        try:
            await ws.wait_closed()
        finally:
            clients.discard(ws)

    async def main() -> None:
        r = aioredis.Redis.from_url(redis_url)
        pubsub = r.pubsub(ignore_subscribe_messages=True)
        await pubsub.subscribe("confbridge:events")
        seq = 0
        async with serve(handler, "127.0.0.1", port, compression=None, ping_interval=None):
            async for message in pubsub.listen():
                data = json.loads(message["data"])
                seq += 1
                broadcast(clients, json.dumps({**data["payload"], "type": data["type"], "seq": seq},
                                              separators=(",", ":")))

    asyncio.run(main())


# ---- measuring -----------------------------------------------------------------------------------------
class ProcSampler(threading.Thread):
    """CPU and RSS of one process from /proc (no dependency)."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.rss_peak = 0
        self.rss_peak_window = 0
        self.cpu: list[float] = []
        self.stop = threading.Event()
        self.measure = threading.Event()
        self.tick = os.sysconf("SC_CLK_TCK")

    def _cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / self.tick

    def _rss(self) -> int:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        return 0

    def run(self) -> None:
        last_cpu, last_t = self._cpu_seconds(), time.monotonic()
        while not self.stop.wait(0.5):
            try:
                cpu, t = self._cpu_seconds(), time.monotonic()
                rss = self._rss()
            except (OSError, IndexError):
                return
            self.rss_peak = max(self.rss_peak, rss)
            if self.measure.is_set():
                self.rss_peak_window = max(self.rss_peak_window, rss)
                self.cpu.append(100 * (cpu - last_cpu) / (t - last_t))
            last_cpu, last_t = cpu, t


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def run_one(name: str, url: str, tokens: list[str], with_auth: bool, server_pid: int, redis_url: str,
            args: argparse.Namespace) -> dict[str, Any]:
    import redis

    from confbridge.events import Event
    from confbridge.live.bus import CHANNEL, encode_event

    ctx = mp.get_context("spawn")
    results = ctx.Queue()
    controls = [ctx.Queue() for _ in range(args.procs)]
    chunks = [tokens[i::args.procs] for i in range(args.procs)]
    procs = [ctx.Process(target=client_process, args=(url, chunk, with_auth, results, control))
             for chunk, control in zip(chunks, controls, strict=True)]
    sampler = ProcSampler(server_pid)
    sampler.start()
    started = time.monotonic()
    for p in procs:
        p.start()
    client_samplers = [ProcSampler(p.pid) for p in procs if p.pid is not None]
    for cs in client_samplers:
        cs.start()
    for _ in procs:
        kind, _payload = results.get(timeout=900)
        assert kind == "ready"
    setup_s = time.monotonic() - started
    print(f"[{name}] {len(tokens)} clients connected with their snapshot in {setup_s:.1f} s", flush=True)

    r = redis.Redis.from_url(redis_url)
    rng = random.Random(7)
    source: dict[int, str] = {}
    for c in controls:
        c.put(("start", None))
    time.sleep(0.2)  # the workers' control threads mark the window open
    sampler.measure.set()
    for cs in client_samplers:
        cs.measure.set()
    total = args.rate * args.seconds
    t0 = time.monotonic()
    step = 0.01
    per_step = max(1, int(args.rate * step))
    sent = 0
    while sent < total:
        pipe = r.pipeline(transaction=False)
        for _ in range(per_step):
            endpoint = rng.randint(1, args.endpoints)
            status = rng.choice(STATUSES)
            source[endpoint] = status
            sent += 1
            pipe.publish(CHANNEL, encode_event(Event("endpoint.status", {
                "endpoint_id": endpoint, "status": status, "t": time.time(), "n": sent})))
        pipe.execute()
        delay = t0 + sent / args.rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
    publish_s = time.monotonic() - t0
    time.sleep(2.0)  # let the last flushes arrive
    for c in controls:
        c.put(("end", None))
    sampler.measure.clear()
    for cs in client_samplers:
        cs.measure.clear()
    time.sleep(1.0)
    for c in controls:
        c.put(("final", source))
    collected = [results.get(timeout=120)[1] for _ in procs]
    for p in procs:
        p.join(30)
    sampler.stop.set()
    r.close()
    latencies = [x for c in collected for x in c["latencies"]]
    frames = [x for c in collected for x in c["frames"]]
    evs = [x for c in collected for x in c["events"]]
    seconds = publish_s  # frames arrive while publishing (plus at most one flush after it)
    return {
        "name": name, "clients": len(tokens), "published": sent, "publish_rate": sent / publish_s,
        "setup_s": setup_s,
        "p50_ms": 1000 * percentile(latencies, 50), "p99_ms": 1000 * percentile(latencies, 99),
        "max_ms": 1000 * max(latencies) if latencies else float("nan"),
        "frames_per_client_s": statistics.mean(frames) / seconds if frames else 0.0,
        "events_per_client_s": statistics.mean(evs) / seconds if evs else 0.0,
        "cpu_pct": statistics.mean(sampler.cpu) if sampler.cpu else float("nan"),
        "rss_peak_mib": sampler.rss_peak / 2**20, "rss_window_mib": sampler.rss_peak_window / 2**20,
        "client_cpu_pct": [statistics.mean(cs.cpu) if cs.cpu else float("nan") for cs in client_samplers],
        "closed": sum(c["closed"] for c in collected), "gaps": sum(c["gaps"] for c in collected),
        "mismatched_clients": sum(c["mismatched"] for c in collected),
    }


def report(r: dict[str, Any]) -> None:
    print(f"\n== {r['name']} ==")
    print(f"  published            {r['published']} events at {r['publish_rate']:.0f}/s to {r['clients']} clients")
    print(f"  latency              p50 {r['p50_ms']:.0f} ms   p99 {r['p99_ms']:.0f} ms   max {r['max_ms']:.0f} ms")
    print(f"  per client           {r['frames_per_client_s']:.1f} frames/s, {r['events_per_client_s']:.0f} events/s")
    print(f"  server process       CPU {r['cpu_pct']:.0f}% of one core; RSS peak {r['rss_peak_mib']:.0f} MiB "
          f"(while publishing {r['rss_window_mib']:.0f} MiB)")
    print("  client processes     CPU " + ", ".join(f"{c:.0f}%" for c in r["client_cpu_pct"]) + " of one core each")
    print(f"  clients dropped      {r['closed']}   seq gaps seen {r['gaps']}")
    print(f"  final state          {r['clients'] - r['mismatched_clients']}/{r['clients']} clients equal "
          "to the source")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--endpoints", type=int, default=10_000)
    parser.add_argument("--rate", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--procs", type=int, default=2)
    parser.add_argument("--mode", choices=("both", "live", "baseline"), default="both")
    parser.add_argument("--baseline-server", nargs=2, metavar=("PORT", "REDIS_URL"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.baseline_server:
        baseline_server(int(args.baseline_server[0]), args.baseline_server[1])
        return

    tmp = Path(tempfile.mkdtemp(prefix="confbridge-fanout-"))
    print(f"setup: {args.endpoints} endpoints, {args.clients} clients, {args.rate} changes/s for "
          f"{args.seconds} s, {os.cpu_count()} CPUs; work dir {tmp}", flush=True)
    db_url, tokens = make_database(tmp / "fanout.db", args.endpoints, args.clients)
    with throwaway_redis() as redis_url:
        results = []
        servers: list[subprocess.Popen[bytes]] = []
        try:
            if args.mode in ("both", "live"):
                port = free_port()
                env = {**os.environ, "CONFBRIDGE_DATABASE_URL": db_url, "CONFBRIDGE_LIVE_BUS": "redis",
                       "CONFBRIDGE_LIVE_REDIS_URL": redis_url, "CONFBRIDGE_LIVE_PORT": str(port),
                       "PYTHONPATH": str(ROOT)}
                live = subprocess.Popen([sys.executable, "-m", "confbridge.cli", "live"], cwd=tmp, env=env,
                                        stdout=subprocess.DEVNULL, stderr=open(tmp / "live.log", "wb"))
                servers.append(live)
                wait_port(port, live)
                time.sleep(1.0)  # the Redis subscription is confirmed shortly after the port opens
                results.append(run_one("confbridge live (coalesced, 250 ms flush)", f"ws://127.0.0.1:{port}/",
                                       tokens, True, live.pid, redis_url, args))
                live.terminate()
                live.wait(15)
            if args.mode in ("both", "baseline"):
                port = free_port()
                base = subprocess.Popen([sys.executable, __file__, "--baseline-server", str(port), redis_url],
                                        cwd=tmp, env={**os.environ, "PYTHONPATH": str(ROOT)},
                                        stderr=open(tmp / "baseline.log", "wb"))
                servers.append(base)
                wait_port(port, base)
                time.sleep(1.0)
                results.append(run_one("baseline: websockets.broadcast per event", f"ws://127.0.0.1:{port}/",
                                       tokens, False, base.pid, redis_url, args))
                base.terminate()
                base.wait(15)
        finally:
            for proc in servers:
                if proc.poll() is None:
                    proc.kill()
    for r in results:
        report(r)
    live_result = next((r for r in results if r["name"].startswith("confbridge")), None)
    if live_result is not None:
        ok = (live_result["p99_ms"] <= 500 and live_result["mismatched_clients"] == 0
              and live_result["rss_peak_mib"] <= 300)
        print(f"\ngoal (p99 <= 500 ms, equal final state, <= 300 MiB): {'met' if ok else 'NOT met'}")
    summary: dict[str, Any] = {"bench": "fanout", "endpoints": args.endpoints, "clients": args.clients,
                               "rate": args.rate, "seconds": args.seconds}
    for r in results:
        key = "live" if r["name"].startswith("confbridge") else "baseline"
        summary.update({f"{key}_{k}": (round(v, 2) if isinstance(v, float) else v) for k, v in r.items()
                        if k not in ("name", "client_cpu_pct")})
    if live_result is not None:
        summary["ok"] = ok
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
