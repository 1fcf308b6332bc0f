"""The national benchmark's small run in CI (issue 16): ``bench/national.py --quick`` as a subprocess.

200 endpoints, 3 emulated bridges, 20 conferences due at one instant, 2 schedulers, 1 live server and 1 web
worker, each its own OS process, on this session's PostgreSQL (a fresh database) and Redis.  Its final
JSON line must say: every conference created once on its own bridge, every endpoint dialled once, none
missed, every bridge held by a scheduler, and every injected dropped call seen by the live client.
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from tests import services

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.redis]
ROOT = Path(__file__).resolve().parents[3]


def test_national_quick(postgres_server: services.Postgres, postgres_template: str,
                        redis_server: services.Redis) -> None:
    database = f"national_{uuid.uuid4().hex[:8]}"
    admin = create_engine(postgres_server.url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{database}" TEMPLATE "{postgres_template}"'))
    try:
        done = subprocess.run(
            [sys.executable, str(ROOT / "bench" / "national.py"), "--quick",
             "--database-url", postgres_server.url(database), "--redis-url", redis_server.url],
            cwd=ROOT, capture_output=True, text=True, timeout=240, check=False)
        print(done.stdout)
        lines = [line for line in done.stdout.splitlines() if line.startswith('{"bench"')]
        assert lines, f"no JSON line (exit {done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-5000:]}"
        figures: dict[str, Any] = json.loads(lines[-1])
        assert figures["bench"] == "national" and figures["quick"] is True
        assert figures["duplicates"] == {"dials": 0, "conferences": 0}, figures["duplicates"]
        assert not any(figures["missed"].values()), figures["missed"]
        assert figures["wrong_bridge"] == 0
        assert figures["runs"] == {"live": figures["conferences"]}
        assert figures["launched_once"] is True
        for name, bridge in figures["per_bridge"].items():
            # Each bridge got its conferences once (a create sent again after a hand-over is refused by
            # name and adopted) and one dial per endpoint.
            assert bridge["duplicate_conferences"] == 0 and bridge["missed_conferences"] == 0, (name, bridge)
            assert bridge["creates"] == bridge["conferences"] + bridge["extra_create_calls"], (name, bridge)
            assert bridge["dials"] == bridge["legs"], (name, bridge)
            assert bridge["ratio_bridge"] > 1.0, (name, bridge)  # nothing beats the floor
        assert sum(b["legs"] for b in figures["per_bridge"].values()) == figures["legs"]
        # Every bridge is held by one of the schedulers, and both schedulers drive some.
        assert set(figures["held_at_instant"]) == set(figures["per_bridge"])
        assert set(figures["held_at_instant"].values()) == {"scheduler-1", "scheduler-2"}
        # Every dropped call reached the console on every live server.
        assert figures["drops"] >= 9 and figures["drops_unseen"] == 0
        assert all(live["seen"] == figures["drops"] for live in figures["console_by_live"].values())
        for name, usage in figures["processes"].items():
            if name.startswith("scheduler-"):
                assert usage["cpu_s"] > 0 and usage["peak_rss_mib"] > 0, (name, usage)
        assert done.returncode == 0, done.stderr[-5000:]
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        admin.dispose()
