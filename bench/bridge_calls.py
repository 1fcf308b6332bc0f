"""Benchmark: dial 200 participants across 40 conferences through the Cisco MCU driver.

The emulator (a real subprocess on loopback) adds 150 ms to every API call and allows 4 concurrent
requests, like a busy MCU.  The floor is ``calls × 0.15 s ÷ 4``; the goal is total/floor ≤ 1.2.

    .venv/bin/python bench/bridge_calls.py [--latency-ms 150] [--conferences 40] [--participants 200]
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from confbridge.bridges.base import DialTarget
from confbridge.bridges.emulator.launcher import start_emulator
from confbridge.bridges.naming import participant_name
from confbridge.bridges.registry import make_driver
from confbridge.settings import BridgeSettings


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--latency-ms", type=int, default=150)
    parser.add_argument("--concurrent", type=int, default=4)
    parser.add_argument("--conferences", type=int, default=40)
    parser.add_argument("--participants", type=int, default=200)
    parser.add_argument("--workers", type=int, default=16)
    args = parser.parse_args()

    password = secrets.token_urlsafe(12)
    os.environ["BENCH_MCU_PASSWORD"] = password  # this process only: the driver reads it
    emulator = start_emulator(["--port", "0", "--control-port", "0", "--password-env", "BENCH_MCU_PASSWORD",
                               "--latency-ms", str(args.latency_ms), "--max-concurrent", str(args.concurrent),
                               "--max-participants", str(max(500, args.participants)),
                               "--answer-delay", "0.5"])
    try:
        settings = BridgeSettings.model_validate({
            "name": "bench", "url": emulator.url, "username": "admin",
            "password_env": "BENCH_MCU_PASSWORD", "max_concurrent_requests": args.concurrent,
            "timeout_seconds": 10})
        driver = make_driver(settings)
        conferences = [f"cb-{9000 + i}-20261201T0030Z" for i in range(args.conferences)]
        per_conf = args.participants // args.conferences
        dials = [(conf, DialTarget(participant_name(i * 100 + j), "sip", f"ep{i}-{j}@vc.example"))
                 for i, conf in enumerate(conferences) for j in range(per_conf)]

        def launch(conf: str) -> None:
            driver.ensure_conference(conf, duration_seconds=3600, ports=per_conf)

        started = time.monotonic()
        with ThreadPoolExecutor(args.workers) as pool:
            list(pool.map(launch, conferences))
            list(pool.map(lambda d: driver.ensure_participant(*d), dials))
        total = time.monotonic() - started

        import json
        import urllib.request

        with urllib.request.urlopen(emulator.control_url + "/state", timeout=10) as resp:
            stats = json.loads(resp.read())["stats"]
        calls = sum(stats["calls"].values())
        floor = calls * args.latency_ms / 1000 / args.concurrent
        print(f"conferences:            {args.conferences}")
        print(f"participants dialled:   {len(dials)}")
        print(f"API calls made:         {calls} {stats['calls']}")
        print(f"max in flight (device): {stats['max_in_flight']}  "
              f"rejected (fault 203): {stats['rejected_busy']}")
        print(f"total time:             {total:.2f} s")
        print(f"floor calls×{args.latency_ms / 1000:g}s÷{args.concurrent}:    {floor:.2f} s")
        print(f"ratio:                  {total / floor:.3f}  (goal ≤ 1.2)")
        summary = json.dumps({"bench": "bridge_calls", "conferences": args.conferences, "participants": len(dials),
                          "calls": calls, "max_in_flight": stats["max_in_flight"],
                          "rejected_busy": stats["rejected_busy"], "total_s": round(total, 3),
                          "floor_s": round(floor, 3), "ratio": round(total / floor, 3),
                          "ok": total / floor <= 1.2})
        driver.close()
        return 0 if total / floor <= 1.2 else 1
    finally:
        emulator.stop()
        if "summary" in locals():
            print(summary)  # the last line, after the emulator's own farewell


if __name__ == "__main__":
    sys.exit(main())
