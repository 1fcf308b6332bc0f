"""National scale: many endpoints, several bridges, a storm of launches in one minute, each part its own process.

Everything on 127.0.0.1, each its own OS process: PostgreSQL (a throwaway cluster, or ``--database-url``),
Redis (a throwaway ``redis-server``, or ``--redis-url``), ``confbridge web`` (gunicorn, ``--web-workers``),
``--live`` live servers (``confbridge live --port P``, fed by Redis), ``--schedulers`` schedulers
(``confbridge scheduler``, metrics port from ``CONFBRIDGE_SCHEDULER_METRICS_PORT`` as the systemd unit
sets it) sharing ``--bridges`` MCU emulators (each its own process on its own RPC and control ports,
``--concurrency`` requests at once, ``--latency-ms`` per call) through the per-bridge leases.

``--endpoints`` endpoints; ``--conferences`` conferences of ``--min-size``–``--max-size`` endpoints (each
endpoint in one conference), spread round-robin over the bridges, all due at one instant (setup time
reached ``--lead-seconds`` after booking).  Measured:

- launched exactly once: every emulator's call log and ``conference.create`` count against the runs and
  legs confbridge planned (duplicates, missed, conferences on the wrong bridge);
- per bridge, the time from the planned instant to the last leg connected on that bridge (its control
  API ``/state``, read every ``--sample-seconds``), and its ratio to that bridge's floor
  (create + dial calls × latency ÷ concurrency); also when confbridge had recorded every leg connected;
- console latency: dropped calls injected through the emulators' control API (``POST /calls/drop``)
  until the ``call_dropped`` alarm reaches a WebSocket client of EACH live server (the browser's
  protocol: a one-time token from ``POST /api/v1/live/token`` with a bearer token, sent as the first
  message), p50/p99/max;
- CPU seconds (storm and whole run) and peak RSS (``VmHWM``) of each scheduler, live and web process
  (``/proc``), and the machine's CPU busy share during the storm (``/proc/stat``);
- which scheduler held which bridges (the ``bridge:<name>`` leases) at the instant and at the end, and
  the hand-overs logged.

The path of a dropped call to the console (read from confbridge/monitor and confbridge/scheduler): the
emulator pushes ``eventNotification`` (``participantLeft``, coalesced 50 ms) to the feedback receiver the
bridge's scheduler configured (``feedbackReceiver.configure``) → ``MonitorLoop.hint`` → a monitor
pass at once (hinted passes begin at most every 0.5 s): a delta participant read
(``participant.enumerate`` with ``lastRevision``) → the ``call_dropped`` alarm committed → Redis → each
live server flushes every ``live.flush_ms`` → clients.
Without a hint the drop is found by the monitor's poll (``monitor.poll_seconds``) or the launch engine's
leg poll (``launch.poll_seconds``).  ``--no-feedback`` makes the emulators refuse
``feedbackReceiver.configure`` (polling only) to measure what the hints save.

    python bench/national.py            # 10,000 endpoints, 10 bridges, 500 conferences, 3 schedulers …
    python bench/national.py --quick    # 200 endpoints, 3 bridges, 20 conferences, 2 schedulers (CI)

Ends with one JSON line ``{"bench": "national", …}``; exits 1 when a launch was duplicated or missed or a
drop never reached a client.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session, sessionmaker

import confbridge.model_registry  # noqa: F401 - every table known before the first query
from confbridge.auth.service import create_user, issue_token
from confbridge.booking.models import EndpointSlot, Meeting, Occurrence
from confbridge.bridges.emulator.launcher import EmulatorProcess, start_emulator
from confbridge.db import make_engine, make_session_factory
from confbridge.directory.models import Endpoint, Site
from confbridge.launch.models import CallLeg, ConferenceRun, LegState, SchedulerLease
from confbridge.migrate import upgrade

FULL = {"endpoints": 10_000, "bridges": 10, "conferences": 500, "min_size": 4, "max_size": 20, "schedulers": 3,
        "live": 2, "web_workers": 2, "latency_ms": 150, "concurrency": 4, "drops": 100, "drop_interval": 0.4,
        "lead_seconds": 45.0}
QUICK = {"endpoints": 200, "bridges": 3, "conferences": 20, "min_size": 4, "max_size": 8, "schedulers": 2,
         "live": 1, "web_workers": 1, "latency_ms": 40, "concurrency": 4, "drops": 9, "drop_interval": 0.3,
         "lead_seconds": 12.0}
CLK_TCK = os.sysconf("SC_CLK_TCK")


# ---- processes and services ----------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Proc:
    """One confbridge process, its output in a log file; SIGTERM to its group, SIGKILL if it hangs."""

    def __init__(self, name: str, args: list[str], folder: Path, env: dict[str, str]) -> None:
        self.name = name
        self.log_path = folder / f"{name}.log"
        self._log = open(self.log_path, "ab")
        environ = {k: v for k, v in os.environ.items() if not k.startswith("CONFBRIDGE_")} | env
        self.proc = subprocess.Popen(args, cwd=folder, env=environ, stdout=self._log,
                                     stderr=subprocess.STDOUT, start_new_session=True)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def terminate(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        self._log.close()

    def tail(self, chars: int = 3000) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")[-chars:]


def port_open(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
        return True
    except OSError:
        return False


def wait_for(predicate: Callable[[], bool], timeout: float, what: str, interval: float = 0.1,
             procs: list[Proc] | None = None) -> float:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return time.monotonic()
        for proc in procs or []:
            if proc.proc.poll() is not None:
                raise SystemExit(f"{proc.name} exited ({proc.proc.returncode}) before {what}:\n{proc.tail()}")
        time.sleep(interval)
    raise SystemExit(f"timed out after {timeout:.0f} s waiting for {what}")


def http(method: str, url: str, body: Any = None, headers: dict[str, str] | None = None,
         timeout: float = 30) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers={
        **({"Content-Type": "application/json"} if data is not None else {}), **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            raw = response.read()
            return response.status, json.loads(raw) if raw[:1] in (b"{", b"[") else raw
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
    except OSError as exc:
        return 0, str(exc)


def ready(port: int) -> bool:
    return http("GET", f"http://127.0.0.1:{port}/readyz", timeout=2)[0] == 200


# ---- /proc -------------------------------------------------------------------------------------------
def cpu_seconds(pid: int) -> float:
    """User + system CPU of *pid* and its reaped children (gunicorn workers are the web's children)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    # fields[0] is field 3 (state): utime 14, stime 15, cutime 16, cstime 17.
    return sum(int(fields[i]) for i in (11, 12)) / CLK_TCK


def tree_cpu_seconds(pid: int) -> float:
    """CPU of *pid* and its live descendants (a gunicorn master and its workers)."""
    total = cpu_seconds(pid)
    for child in children(pid):
        total += tree_cpu_seconds(child)
    return total


def children(pid: int) -> list[int]:
    out: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            out += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return out


def peak_rss_mib(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def machine_ticks() -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return sum(values) - idle, sum(values)


# ---- the data ----------------------------------------------------------------------------------------
def make_endpoints(factory: sessionmaker[Session], n: int) -> list[int]:
    per_site = 100
    tag = uuid.uuid4().hex[:6]
    with factory.begin() as s:
        sites = [Site(name=f"Cụm {i + 1} {tag}") for i in range(n // per_site + 1)]
        s.add_all(sites)
        s.flush()
        s.execute(insert(Endpoint), [
            {"name": f"Điểm cầu {i + 1} {tag}", "site_id": sites[i // per_site].id, "protocol": "sip",
             "address": f"n{i + 1}-{tag}@127.0.0.1"} for i in range(n)])
        return list(s.scalars(select(Endpoint.id).where(Endpoint.name.like(f"% {tag}")).order_by(Endpoint.id)))


def book(factory: sessionmaker[Session], organiser: int, planned: datetime,
         groups: list[tuple[str, list[int]]]) -> list[int]:
    """One meeting per (bridge, endpoints) whose setup time is *planned*; returns the occurrence ids."""
    start = planned + timedelta(minutes=1)
    end = start + timedelta(minutes=60)
    with factory.begin() as s:
        meetings = [Meeting(uid=f"{uuid.uuid4()}@national", title=f"Giao ban toàn quốc {i + 1}",
                            organiser_id=organiser, start=start, end=end, timezone="Asia/Ho_Chi_Minh",
                            setup_minutes=1, exdates=[], status="planned", bridge_name=bridge)
                    for i, (bridge, _) in enumerate(groups)]
        s.add_all(meetings)
        s.flush()
        occurrences = [Occurrence(meeting_id=m.id, original_start=start, start=start, end=end, setup_minutes=1,
                                  status="planned") for m in meetings]
        s.add_all(occurrences)
        s.flush()
        s.execute(insert(EndpointSlot), [
            {"occurrence_id": occ.id, "meeting_id": occ.meeting_id, "endpoint_id": e, "bridge_name": bridge,
             "window_start": planned, "window_end": end}
            for occ, (bridge, eps) in zip(occurrences, groups, strict=True) for e in eps])
        return [occ.id for occ in occurrences]


def move(factory: sessionmaker[Session], occurrence_ids: list[int], planned: datetime) -> None:
    """Move the booked occurrences so that their setup time is *planned* (the runs follow at the next tick)."""
    start = planned + timedelta(minutes=1)
    end = start + timedelta(minutes=60)
    with factory.begin() as s:
        meeting_ids = list(s.scalars(select(Occurrence.meeting_id).where(Occurrence.id.in_(occurrence_ids))))
        s.execute(update(Occurrence).where(Occurrence.id.in_(occurrence_ids)).values(
            start=start, end=end))
        s.execute(update(Meeting).where(Meeting.id.in_(meeting_ids)).values(start=start, end=end))
        s.execute(update(EndpointSlot).where(EndpointSlot.occurrence_id.in_(occurrence_ids)).values(
            window_start=planned, window_end=end))


def plan_groups(endpoint_ids: list[int], bridges: list[str], conferences: int, lo: int, hi: int,
                rng: random.Random) -> list[tuple[str, list[int]]]:
    sizes = [rng.randint(lo, hi) for _ in range(conferences)]
    if sum(sizes) > len(endpoint_ids):
        raise SystemExit(f"{conferences} conferences of {lo}–{hi} endpoints need {sum(sizes)} endpoints; "
                         f"only {len(endpoint_ids)} (--endpoints)")
    out, at = [], 0
    for i, size in enumerate(sizes):
        out.append((bridges[i % len(bridges)], endpoint_ids[at:at + size]))
        at += size
    return out


def write_config(path: Path, *, db_url: str, redis_url: str, web_port: int, web_workers: int,
                 bridges: list[dict[str, Any]]) -> None:
    """The one settings file every process reads (as /etc/confbridge/confbridge.toml): production
    defaults except loopback ports, no pre-flight test calls (they would add calls to the storm) and a
    lenient bridge timeout (a bridge's queue of requests is long during the storm)."""
    sections: dict[str, dict[str, Any]] = {
        "database": {"url": db_url},
        "web": {"host": "127.0.0.1", "port": web_port, "workers": web_workers,
                "secret_key_file": str(path.parent / "secret_key")},
        "emulator": {"enabled": False},
        "launch": {"preflight_minutes": 0},
        "mail": {"outbox_dir": str(path.parent / "mail")},
        "live": {"host": "127.0.0.1", "bus": "redis", "redis_url": redis_url},
        "logging": {"format": "json", "level": "INFO"},
    }
    lines = ['timezone = "Asia/Ho_Chi_Minh"', f"data_dir = {json.dumps(str(path.parent / 'data'))}"]
    for name, values in sections.items():
        lines.append(f"[{name}]")
        lines += [f"{k} = {json.dumps(v)}" for k, v in values.items()]
    for bridge in bridges:
        lines.append("[[bridges]]")
        lines += [f"{k} = {json.dumps(v)}" for k, v in bridge.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


# ---- live clients ------------------------------------------------------------------------------------
class Listener:
    """A console's connection to one live server: records when each alarm event arrives (monotonic)."""

    def __init__(self, url: str, token: str) -> None:
        from websockets.sync.client import connect

        self.url = url
        self._connection = connect(url, open_timeout=20, max_size=None)
        self.ws = self._connection.__enter__()
        self.ws.send(json.dumps({"type": "auth", "token": token}))
        first = json.loads(self.ws.recv(timeout=30))
        if first.get("type") != "snapshot":
            raise SystemExit(f"live server {url}: expected a snapshot, got {first!r}")
        self.dropped: dict[int, float] = {}  # endpoint id → first call_dropped alarm seen
        self.frames = 0
        self._thread = threading.Thread(target=self._read, daemon=True, name=f"listener-{url}")
        self._thread.start()

    def _read(self) -> None:
        try:
            for raw in self.ws:
                now = time.monotonic()
                self.frames += 1
                message = json.loads(raw)
                for event in message["events"] if message.get("type") == "batch" else [message]:
                    alarm = event.get("alarm") or {}
                    if (event.get("type") == "alarm" and event.get("action") == "raised"
                            and alarm.get("kind") == "call_dropped"):
                        self.dropped.setdefault(int(alarm.get("endpoint_id") or 0), now)
        except Exception:  # closed at the end
            return

    def close(self) -> None:
        self._connection.__exit__(None, None, None)


class BusTap:
    """A subscriber on the live servers' Redis channel: when each call_dropped alarm was published (after
    the scheduler's commit), to split the console latency into bridge → scheduler → database → bus and
    bus → live server → client."""

    def __init__(self, redis_url: str) -> None:
        import redis

        from confbridge.live.bus import CHANNEL

        self._redis = redis.Redis.from_url(redis_url)
        self._pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        self._pubsub.subscribe(CHANNEL)
        self.dropped: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read, daemon=True, name="bus-tap")
        self._thread.start()

    def _read(self) -> None:
        while not self._stop.is_set():
            try:
                message = self._pubsub.get_message(timeout=0.5)
            except Exception:  # closed at the end
                return
            if message is None:
                continue
            now = time.monotonic()
            event = json.loads(message["data"])
            payload = event.get("payload") or {}
            alarm = payload.get("alarm") or {}
            if (event.get("type") == "alarm" and payload.get("action") == "raised"
                    and alarm.get("kind") == "call_dropped"):
                self.dropped.setdefault(int(alarm.get("endpoint_id") or 0), now)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self._pubsub.close()
        self._redis.close()


# ---- figures -----------------------------------------------------------------------------------------
def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


@dataclass
class Bridge:
    name: str
    emulator: EmulatorProcess
    conferences: int = 0
    legs: int = 0
    connected_at: float | None = None  # monotonic
    recorded_at: float | None = None
    figures: dict[str, Any] = field(default_factory=dict)

    def control(self, method: str, path: str, body: Any = None) -> Any:
        status, answer = http(method, self.emulator.control_url + path, body)
        if status != 200:
            raise RuntimeError(f"{self.name} {method} {path}: {status} {answer!r}")
        return answer


def holders(factory: sessionmaker[Session], pids: dict[int, str]) -> dict[str, str]:
    """bridge → the scheduler (by its name here) holding its unexpired lease."""
    now = datetime.now(UTC)
    with factory() as s:
        rows = s.execute(select(SchedulerLease.name, SchedulerLease.holder, SchedulerLease.expires_at)).all()
    out = {}
    for r in rows:
        if r.name.startswith("bridge:") and r.expires_at >= now:
            pid = int(r.holder.split(":")[-2])  # host:pid:node
            out[r.name.removeprefix("bridge:")] = pids.get(pid, r.holder)
    return dict(sorted(out.items()))


def parse_args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="the small CI run: " + json.dumps(QUICK))
    for name, value in FULL.items():
        ap.add_argument("--" + name.replace("_", "-"), type=type(value), default=None,
                        help=f"default {value} (--quick: {QUICK[name]})")
    ap.add_argument("--page-size", type=int, default=5, help="emulator enumerate page size (as a Cisco MCU)")
    ap.add_argument("--sample-seconds", type=float, default=0.25, help="how often the bridges are read")
    ap.add_argument("--no-feedback", action="store_true", help="emulators refuse feedback receivers")
    ap.add_argument("--storm-timeout", type=float, default=900, help="seconds the storm may take at most")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--keep", action="store_true", help="keep the processes' logs (the folder is printed)")
    ap.add_argument("--database-url", default=None, help="an empty PostgreSQL database (default: a throwaway "
                                                         "cluster)")
    ap.add_argument("--redis-url", default=None, help="default: a throwaway redis-server")
    args = ap.parse_args()
    profile = QUICK if args.quick else FULL
    for name, value in profile.items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    return args


def main() -> int:
    # SIGTERM ends the benchmark through its finally-blocks: every child process is stopped too.
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(SystemExit(143)))
    args = parse_args()
    with ExitStack() as stack:
        if args.database_url:
            db_url = args.database_url
        else:
            sys.path.insert(0, str(Path(__file__).resolve().parent))
            from pgcluster import throwaway_postgres

            db_url = stack.enter_context(throwaway_postgres("max_connections=400"))
        from redisserver import throwaway_redis

        redis_url = args.redis_url or stack.enter_context(throwaway_redis())
        return run(args, db_url, redis_url, stack)


def run(args: argparse.Namespace, db_url: str, redis_url: str, stack: ExitStack) -> int:
    began = time.monotonic()
    load_at_start = [round(x, 2) for x in os.getloadavg()]
    folder = Path(tempfile.mkdtemp(prefix="confbridge-national-"))
    if args.keep:
        print(f"logs and settings kept in {folder}", flush=True)
    else:
        stack.callback(shutil.rmtree, folder, True)
    engine = make_engine(db_url)
    stack.callback(engine.dispose)
    if engine.dialect.name != "postgresql":
        raise SystemExit("the national benchmark runs on PostgreSQL (--database-url postgresql+psycopg://…)")
    upgrade(engine)
    factory = make_session_factory(engine)
    rng = random.Random(args.seed)

    # ---- the bridges: one emulator process each, on its own ports -----------------------------------
    password_env = "NATIONAL_MCU_PASSWORD"
    os.environ[password_env] = secrets.token_urlsafe(12)
    bridges: list[Bridge] = []
    for i in range(args.bridges):
        emulator = start_emulator([
            "--port", "0", "--control-port", "0", "--username", "admin", "--password-env", password_env,
            "--latency-ms", str(args.latency_ms), "--max-concurrent", str(args.concurrency),
            "--page-size", str(args.page_size), "--answer-delay", "0.2", "--video-ports", "100000",
            "--max-conferences", "10000", "--max-participants", "100000"], env=dict(os.environ))
        stack.callback(emulator.stop)
        bridges.append(Bridge(f"mcu-{i + 1:02d}", emulator))
        if args.no_feedback:
            bridges[-1].control("POST", "/faults", {"fail": {"method": "feedbackReceiver.configure", "code": 2,
                                                             "count": 100000}})
    by_name = {b.name: b for b in bridges}

    # ---- the data ------------------------------------------------------------------------------------
    endpoint_ids = make_endpoints(factory, args.endpoints)
    with factory.begin() as s:
        organiser = create_user(s, f"thuky-{uuid.uuid4().hex[:6]}", secrets.token_hex(12), "secretary").id
        technician = create_user(s, f"kythuat-{uuid.uuid4().hex[:6]}", secrets.token_hex(12), "technician")
        api_token, _ = issue_token(s, technician, hours=4)
    groups = plan_groups(endpoint_ids, [b.name for b in bridges], args.conferences, args.min_size,
                         args.max_size, rng)

    # ---- the processes -------------------------------------------------------------------------------
    web_port = free_port()
    config = folder / "confbridge.toml"
    write_config(config, db_url=db_url, redis_url=redis_url, web_port=web_port, web_workers=args.web_workers,
                 bridges=[{"name": b.name, "driver": "cisco-mcu", "url": b.emulator.url, "username": "admin",
                           "password_env": password_env, "max_concurrent_requests": args.concurrency,
                           "timeout_seconds": 60, "video_ports": 100000, "default": i == 0}
                          for i, b in enumerate(bridges)])
    base = [sys.executable, "-m", "confbridge.cli"]
    env = {"CONFBRIDGE_CONFIG": str(config), password_env: os.environ[password_env]}
    procs: list[Proc] = []

    def start(name: str, argv: list[str], extra: dict[str, str] | None = None) -> Proc:
        proc = Proc(name, base + argv, folder, env | (extra or {}))
        procs.append(proc)
        stack.callback(proc.stop)
        return proc

    web = start("web", ["web"])
    live_ports = [free_port() for _ in range(args.live)]
    lives = [start(f"live-{p}", ["live", "--port", str(p)]) for p in live_ports]
    scheduler_ports = [free_port() for _ in range(args.schedulers)]
    schedulers = [start(f"scheduler-{i + 1}", ["scheduler"], {"CONFBRIDGE_SCHEDULER_METRICS_PORT": str(p)})
                  for i, p in enumerate(scheduler_ports)]
    for port in [web_port, *live_ports, *scheduler_ports]:
        wait_for(partial(ready, port), 90, f"/readyz on port {port}", 0.2, procs)
    def terminate_all() -> None:  # all at once; each stop() then waits for its own
        for proc in procs:
            proc.terminate()

    stack.callback(terminate_all)
    names = {p.pid: p.name for p in schedulers}
    share = -(-args.bridges // args.schedulers)

    def balanced() -> bool:
        held = holders(factory, names)
        counts = Counter(held.values())
        return len(held) == args.bridges and len(counts) == min(args.schedulers, args.bridges) and \
            max(counts.values()) <= share

    wait_for(balanced, 60, "every bridge held, a fair share per scheduler", 0.5, procs)
    started_s = time.monotonic() - began

    # ---- consoles: a client on each live server, authenticated as the browser is -------------------
    listeners: list[Listener] = []
    for port in live_ports:
        status, answer = http("POST", f"http://127.0.0.1:{web_port}/api/v1/live/token",
                              headers={"Authorization": f"Bearer {api_token}"})
        if status != 201:
            raise SystemExit(f"POST /api/v1/live/token: {status} {answer!r}")
        listener = Listener(f"ws://127.0.0.1:{port}/", answer["token"])
        stack.callback(listener.close)
        listeners.append(listener)
    tap = BusTap(redis_url)
    stack.callback(tap.close)

    # ---- the storm -----------------------------------------------------------------------------------
    # Booked well ahead, as a Monday 07:30 is: the schedulers plan the runs (conference names, legs) when
    # they enter the lookahead window; then the instant is brought to --lead-seconds from now.
    booked_at = time.monotonic()
    occurrence_ids = book(factory, organiser, datetime.now(UTC) + timedelta(minutes=30), groups)
    booking_s = time.monotonic() - booked_at

    def runs_planned() -> int:
        with factory() as s:
            return int(s.scalar(select(func.count(func.distinct(CallLeg.run_id))).join(ConferenceRun).where(
                ConferenceRun.occurrence_id.in_(occurrence_ids))) or 0)

    planning_s = wait_for(lambda: runs_planned() >= len(occurrence_ids), args.storm_timeout,
                          "every run planned", 0.5, procs) - booked_at
    planned = (datetime.now(UTC) + timedelta(seconds=args.lead_seconds)).replace(microsecond=0)
    move(factory, occurrence_ids, planned)
    moved_at = time.monotonic()

    def replanned() -> bool:
        with factory() as s:
            return not s.scalar(select(func.count()).select_from(ConferenceRun).where(
                ConferenceRun.occurrence_id.in_(occurrence_ids), ConferenceRun.planned_start != planned))

    replanned_s = wait_for(replanned, args.lead_seconds * 4, "every run moved to the instant", 0.2,
                           procs) - moved_at
    for bridge_name, eps in groups:
        by_name[bridge_name].conferences += 1
        by_name[bridge_name].legs += len(eps)
    total_legs = sum(len(eps) for _, eps in groups)
    wait_for(lambda: datetime.now(UTC) >= planned, args.lead_seconds + 60, "the planned instant", 0.01)
    t0 = time.monotonic() - (datetime.now(UTC) - planned).total_seconds()
    held_at_instant = holders(factory, names)
    cpu0 = {p.name: tree_cpu_seconds(p.pid) for p in procs}
    ticks0 = machine_ticks()

    def recorded_by_bridge() -> Counter[str]:
        with factory() as s:
            rows = s.execute(select(ConferenceRun.bridge_name, func.count()).join(CallLeg).where(
                CallLeg.state == LegState.CONNECTED, ConferenceRun.occurrence_id.in_(occurrence_ids))
                .group_by(ConferenceRun.bridge_name)).all()
        return Counter({str(b): int(n) for b, n in rows})

    floor_max = max(b.conferences + b.legs for b in bridges) * args.latency_ms / 1000 / args.concurrency
    deadline = time.monotonic() + max(args.storm_timeout, 10 * floor_max)
    connected: dict[str, int] = {}
    progress_at = time.monotonic() + 10
    while any(b.connected_at is None or b.recorded_at is None for b in bridges):
        now = time.monotonic()
        for b in bridges:
            if b.connected_at is None:
                parts = b.control("GET", "/state")["participants"]
                connected[b.name] = sum(1 for p in parts if p["callState"] == "connected")
                if connected[b.name] >= b.legs:
                    b.connected_at = now
        recorded = recorded_by_bridge()
        if now > progress_at or now > deadline:
            progress_at = now + 10
            with factory() as s:
                run_states = Counter(str(st) for st in s.scalars(select(ConferenceRun.state).where(
                    ConferenceRun.occurrence_id.in_(occurrence_ids))))
            behind = {b.name: f"{connected.get(b.name)}/{b.legs}" for b in bridges if not b.connected_at}
            print(f"  … {now - t0:.0f} s: connected on the bridges {sum(connected.values())}/{total_legs} "
                  f"(not done: {behind}), "
                  f"recorded {sum(recorded.values())}, runs {dict(run_states)}", flush=True)
        if now > deadline:
            # Reported, not hidden: the unfinished bridges' times are lower bounds, their legs counted missed.
            for b in bridges:
                if b.connected_at is None or b.recorded_at is None:
                    b.figures["complete"] = False
                    b.figures["not_connected"] = b.legs - connected.get(b.name, b.legs)
                    b.figures["not_recorded"] = b.legs - recorded.get(b.name, 0)
                    b.connected_at = b.connected_at or now
                    b.recorded_at = b.recorded_at or now
            print(f"  storm NOT complete after {now - t0:.0f} s (--storm-timeout)", flush=True)
            break
        for b in bridges:
            if b.recorded_at is None and recorded.get(b.name, 0) >= b.legs:
                b.recorded_at = now
        for proc in procs:
            if proc.proc.poll() is not None:
                raise SystemExit(f"{proc.name} exited during the storm:\n{proc.tail()}")
        time.sleep(args.sample_seconds)
    ticks1 = machine_ticks()
    cpu_storm = {p.name: tree_cpu_seconds(p.pid) - cpu0[p.name] for p in procs}
    machine_busy = (ticks1[0] - ticks0[0]) / max(1, ticks1[1] - ticks0[1])

    # ---- launched exactly once -----------------------------------------------------------------------
    with factory() as s:
        runs = s.execute(select(ConferenceRun.id, ConferenceRun.bridge_name, ConferenceRun.conference_name,
                                ConferenceRun.state).where(ConferenceRun.occurrence_id.in_(occurrence_ids))).all()
        legs = s.execute(select(CallLeg.run_id, CallLeg.participant_name, CallLeg.endpoint_id).join(ConferenceRun)
                         .where(ConferenceRun.occurrence_id.in_(occurrence_ids))).all()
    run_bridge = {r.id: (r.bridge_name, r.conference_name) for r in runs}
    states = Counter(str(r.state) for r in runs)
    expected: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for leg in legs:
        bridge_name, conference = run_bridge[leg.run_id]
        expected[bridge_name].add((conference, leg.participant_name))
    duplicates = {"dials": 0, "conferences": 0}
    extra_creates = 0
    missed = {"runs": len(occurrence_ids) - len(runs), "dials": 0, "conferences": 0}
    wrong_bridge = 0
    all_conferences = {r.conference_name: r.bridge_name for r in runs}
    for b in bridges:
        calls = b.control("GET", "/calls")["calls"]
        state = b.control("GET", "/state")
        dialled = Counter((c["conference"], c["participant"]) for c in calls)
        creates = int(state["stats"]["calls"].get("conference.create", 0))
        on_bridge = [c["name"] for c in state["conferences"]]
        mine = {r.conference_name for r in runs if r.bridge_name == b.name}
        b.figures.update({
            "conferences": b.conferences, "legs": b.legs, "creates": creates, "dials": sum(dialled.values()),
            "duplicate_dials": sum(n - 1 for n in dialled.values() if n > 1),
            "missed_dials": len(expected[b.name] - set(dialled)),
            "missed_conferences": len(mine - set(on_bridge)),
            # A create sent again by a new holder after a hand-over: the bridge refuses the name (fault 2,
            # names are derived from the occurrence) and the engine adopts the conference; not a duplicate.
            "extra_create_calls": max(0, creates - len(mine)),
            "duplicate_conferences": len(on_bridge) - len(set(on_bridge)),
        })
        wrong_bridge += sum(1 for name in on_bridge if all_conferences.get(name, b.name) != b.name)
        duplicates["dials"] += b.figures["duplicate_dials"]
        duplicates["conferences"] += b.figures["duplicate_conferences"]
        extra_creates += b.figures["extra_create_calls"]
        missed["dials"] += b.figures["missed_dials"]
        missed["conferences"] += b.figures["missed_conferences"]
        floor = (b.conferences + b.legs) * args.latency_ms / 1000 / args.concurrency
        assert b.connected_at is not None and b.recorded_at is not None
        b.figures.update({
            "floor_s": round(floor, 2), "bridge_s": round(b.connected_at - t0, 2),
            "recorded_s": round(b.recorded_at - t0, 2), "ratio_bridge": round((b.connected_at - t0) / floor, 3),
            "ratio_recorded": round((b.recorded_at - t0) / floor, 3),
            "requests": sum(state["stats"]["calls"].values()), "max_in_flight": state["stats"]["max_in_flight"],
            "rejected_busy": state["stats"]["rejected_busy"],
        })
    missed["legs_planned"] = total_legs - len(legs)
    missed["legs_not_connected_at_timeout"] = sum(b.figures.get("not_connected", 0) for b in bridges)
    missed["runs_not_live"] = sum(n for st, n in states.items() if st != "live")

    # ---- console latency: dropped calls to a client of every live server ---------------------------
    time.sleep(2.0)  # the storm's last polls settle; the engines have no dials left
    by_run_bridge: dict[str, list[tuple[str, str, int]]] = defaultdict(list)
    for leg in legs:
        bridge_name, conference = run_bridge[leg.run_id]
        by_run_bridge[bridge_name].append((conference, leg.participant_name, int(leg.endpoint_id)))
    for pool in by_run_bridge.values():
        rng.shuffle(pool)
    injected: dict[int, tuple[str, float]] = {}  # endpoint → (bridge, monotonic instant)
    order = [b.name for b in bridges]
    for i in range(args.drops):
        bridge_name = order[i % len(order)]
        if not by_run_bridge[bridge_name]:
            continue
        conference, participant, endpoint_id = by_run_bridge[bridge_name].pop()
        at = time.monotonic()
        try:
            by_name[bridge_name].control("POST", "/calls/drop", {"conference": conference,
                                                                 "participant": participant})
        except RuntimeError as exc:  # not in a call (an unfinished storm): counted, not measured
            print(f"  drop refused: {exc}", flush=True)
            continue
        injected[endpoint_id] = (bridge_name, at)
        time.sleep(args.drop_interval)

    def all_seen() -> bool:
        return all(all(e in listener.dropped for e in injected) for listener in listeners)

    try:
        wait_for(all_seen, 20, "every drop at every console", 0.1)
    except SystemExit:
        pass  # reported as unseen below
    latency: dict[str, list[float]] = {}
    unseen = 0
    for port, listener in zip(live_ports, listeners, strict=True):
        seen = [listener.dropped[e] - at for e, (_, at) in injected.items() if e in listener.dropped]
        unseen += len(injected) - len(seen)
        latency[f"live@{port}"] = seen
    every = [v for values in latency.values() for v in values]
    to_bus = [tap.dropped[e] - at for e, (_, at) in injected.items() if e in tap.dropped]
    bus_to_client = [listener.dropped[e] - tap.dropped[e] for listener in listeners for e in injected
                     if e in tap.dropped and e in listener.dropped]
    deliveries = {b.name: len(b.control("GET", "/state")["deliveries"]) for b in bridges}
    receivers = {b.name: len(b.control("GET", "/state")["receivers"]) for b in bridges}
    for b in bridges:
        # Per bridge: a bridge that changed hands keeps its former holder's feedback receiver configured.
        at_bus = [tap.dropped[e] - at for e, (name, at) in injected.items() if name == b.name and e in tap.dropped]
        b.figures.update({"drops": len(at_bus), "to_bus_p50_s": round(pct(at_bus, 0.5), 3),
                          "to_bus_max_s": round(max(at_bus, default=float("nan")), 3),
                          "feedback_receivers": receivers[b.name]})

    # ---- processes: CPU and memory; who held what ----------------------------------------------------
    held_at_end = holders(factory, names)
    usage = {p.name: {"cpu_s": round(tree_cpu_seconds(p.pid), 1), "storm_cpu_s": round(cpu_storm[p.name], 1),
                      "peak_rss_mib": round(peak_rss_mib(p.pid), 1)} for p in procs}
    logs = {p.name: p.tail(10**9) for p in schedulers}
    handovers = {name: {"took": log.count("drives bridge"), "gave": log.count("gives bridge"),
                        "lost": log.count("lost bridge"), "expired_locally": log.count("lease expired locally")}
                 for name, log in logs.items()}
    emulator_cpu = sum(tree_cpu_seconds(b.emulator.process.pid) for b in bridges)
    total_s = time.monotonic() - began
    _ = (web, lives)

    # ---- report --------------------------------------------------------------------------------------
    per_bridge = {b.name: b.figures for b in bridges}
    ratios = [b.figures["ratio_bridge"] for b in bridges]
    print(f"national: {args.endpoints} endpoints, {args.bridges} bridges ({args.latency_ms} ms/call, "
          f"{args.concurrency} concurrent, page {args.page_size}), {args.conferences} conferences of "
          f"{args.min_size}–{args.max_size} endpoints ({total_legs} legs) due at one instant; PostgreSQL + Redis; "
          f"web ×{args.web_workers} workers, {args.live} live, {args.schedulers} schedulers; {os.cpu_count()} CPUs, "
          f"load average at start {load_at_start}")
    print(f"  start-up {started_s:.1f} s; booking {args.conferences} meetings {booking_s:.1f} s; every run planned "
          f"(conference, legs) {planning_s:.1f} s after booking; moved to the instant, every run followed in "
          f"{replanned_s:.1f} s")
    print(f"  launched exactly once: duplicates {duplicates}, missed {missed}, on a wrong bridge {wrong_bridge}; "
          f"conference.create sent again after a hand-over (refused by name, adopted) {extra_creates}; "
          f"runs {dict(states)}")
    print(f"  storm: every leg connected on every bridge {max(b.connected_at or 0 for b in bridges) - t0:.1f} s "
          f"after the instant, recorded {max(b.recorded_at or 0 for b in bridges) - t0:.1f} s; "
          f"machine CPU busy {machine_busy:.0%} of {os.cpu_count()} cores during the storm")
    print("  bridge    confs  legs  floor s  bridge s  ratio  recorded s  ratio  requests  held by (instant → end)")
    for b in bridges:
        f = b.figures
        print(f"  {b.name:8} {f['conferences']:6} {f['legs']:5} {f['floor_s']:8.1f} {f['bridge_s']:9.1f} "
              f"{f['ratio_bridge']:6.2f} {f['recorded_s']:11.1f} {f['ratio_recorded']:6.2f} {f['requests']:9}  "
              f"{held_at_instant.get(b.name)} → {held_at_end.get(b.name)}")
    print(f"  ratio to the floor (bridge side): median {statistics.median(ratios):.2f}, max {max(ratios):.2f}")
    print(f"  console latency, dropped call → call_dropped alarm at a client ({len(injected)} drops, every "
          f"{args.drop_interval} s round-robin over the bridges): p50 {pct(every, 0.5):.3f} s, "
          f"p99 {pct(every, 0.99):.3f} s, max {max(every, default=float('nan')):.3f} s; unseen {unseen}")
    print(f"    drop → alarm published on Redis (bridge push, scheduler monitor pass, commit): "
          f"p50 {pct(to_bus, 0.5):.3f} s, p99 {pct(to_bus, 0.99):.3f} s; Redis → client (live server "
          f"flush): p50 {pct(bus_to_client, 0.5):.3f} s, p99 {pct(bus_to_client, 0.99):.3f} s")
    for name, values in latency.items():
        print(f"    {name}: p50 {pct(values, 0.5):.3f} s, p99 {pct(values, 0.99):.3f} s ({len(values)} seen)")
    print("  drop → Redis per bridge (receivers configured on it): " + ", ".join(
        f"{b.name} {b.figures['to_bus_p50_s']:.2f}/{b.figures['to_bus_max_s']:.2f} s ({receivers[b.name]})"
        for b in bridges) + "  (p50/max)")
    print(f"  feedback hints: receivers configured {receivers}, pushes delivered {deliveries}"
          + (" (refused: --no-feedback, polling only)" if args.no_feedback else ""))
    for p in procs:
        u = usage[p.name]
        print(f"  {p.name:16} CPU {u['cpu_s']:7.1f} s (storm {u['storm_cpu_s']:6.1f} s), peak RSS "
              f"{u['peak_rss_mib']:6.1f} MiB" + (f", hand-overs {handovers[p.name]}" if p.name in handovers else ""))
    print(f"  emulators: CPU {emulator_cpu:.1f} s in all; whole run {total_s:.0f} s")
    launched_once = not any(duplicates.values()) and not any(missed.values()) and wrong_bridge == 0
    ok = launched_once and unseen == 0 and len(injected) == args.drops
    summary = {
        "bench": "national", "quick": args.quick, "endpoints": args.endpoints, "bridges": args.bridges,
        "conferences": args.conferences, "legs": total_legs, "schedulers": args.schedulers, "live_servers": args.live,
        "web_workers": args.web_workers, "latency_ms": args.latency_ms, "concurrency": args.concurrency,
        "cpus": os.cpu_count(), "load_average_at_start": load_at_start, "feedback": not args.no_feedback,
        "launched_once": launched_once,
        "duplicates": duplicates, "missed": missed, "wrong_bridge": wrong_bridge, "extra_create_calls": extra_creates,
        "runs": dict(states),
        "storm_complete": all(b.figures.get("complete", True) for b in bridges),
        "storm_bridge_s": round(max(b.connected_at or 0 for b in bridges) - t0, 2),
        "storm_recorded_s": round(max(b.recorded_at or 0 for b in bridges) - t0, 2),
        "ratio_bridge_median": round(statistics.median(ratios), 3), "ratio_bridge_max": round(max(ratios), 3),
        "machine_cpu_busy_storm": round(machine_busy, 3), "per_bridge": per_bridge,
        "drops": len(injected), "drops_unseen": unseen,
        "console_p50_s": round(pct(every, 0.5), 3), "console_p99_s": round(pct(every, 0.99), 3),
        "console_max_s": round(max(every, default=float("nan")), 3),
        "console_by_live": {k: {"seen": len(v), "p50_s": round(pct(v, 0.5), 3), "p99_s": round(pct(v, 0.99), 3)}
                            for k, v in latency.items()},
        "to_bus_p50_s": round(pct(to_bus, 0.5), 3), "to_bus_p99_s": round(pct(to_bus, 0.99), 3),
        "bus_to_client_p50_s": round(pct(bus_to_client, 0.5), 3),
        "bus_to_client_p99_s": round(pct(bus_to_client, 0.99), 3),
        "feedback_receivers": receivers, "feedback_deliveries": deliveries,
        "processes": usage, "handovers": handovers, "held_at_instant": held_at_instant, "held_at_end": held_at_end,
        "emulator_cpu_s": round(emulator_cpu, 1), "startup_s": round(started_s, 1),
        "planning_s": round(planning_s, 1), "replanned_s": round(replanned_s, 1), "total_s": round(total_s, 1),
    }
    print(json.dumps(summary, ensure_ascii=False))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
