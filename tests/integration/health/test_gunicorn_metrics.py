"""`confbridge web` with two gunicorn workers: one scrape of /metrics counts the requests of every worker
(prometheus_client multiprocess mode), whichever worker answers it — even the requests of workers that
have died since (SIGKILL, replaced by gunicorn)."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from confbridge.settings import Settings
from tests import services
from tests.integration.health.test_web_health import value
from tests.integration.processes.procs import Proc, http, port_open, wait_until, write_config


@pytest.fixture
def procs() -> Iterator[list[Proc]]:
    started: list[Proc] = []
    yield started
    for proc in started:
        proc.stop()


@pytest.mark.slow
def test_one_scrape_sums_every_gunicorn_worker(tmp_path: Path, settings: Settings, procs: list[Proc]) -> None:
    web_port = services.free_port()
    config = write_config(tmp_path / "confbridge.toml", db_url=settings.database.url, web_port=web_port,
                          live_port=services.free_port(), web={"workers": 2})
    web = Proc.confbridge(config, "web", log_path=tmp_path / "web.log")
    procs.append(web)
    wait_until(lambda: port_open(web_port), 30, "gunicorn listening", web)
    wait_until(lambda: len(web.wired()) >= 2, 30, "both workers wired", web)
    base = f"http://127.0.0.1:{web_port}"
    for _ in range(15):
        assert http("GET", base + "/healthz").status_code == 200
    first = workers(web.proc.pid)
    assert len(first) == 2
    for pid in first:  # both workers die; gunicorn starts two new ones
        os.kill(pid, signal.SIGKILL)
    wait_until(lambda: len(workers(web.proc.pid)) == 2 and not set(workers(web.proc.pid)) & set(first), 30,
               "two new workers", web)
    wait_until(lambda: http("GET", base + "/healthz").status_code == 200, 30, "the new workers serving", web)
    for _ in range(14):
        assert http("GET", base + "/healthz").status_code == 200
    for _ in range(4):  # each scrape may land on either worker: every one sees all 30
        body = http("GET", base + "/metrics").text
        assert value(body, "confbridge_http_request_duration_seconds_count",
                     method="GET", route="/healthz", status="200") == 30, body[-2000:]
    assert http("GET", base + "/readyz").status_code == 200


def workers(master: int) -> list[int]:
    children = Path(f"/proc/{master}/task/{master}/children")
    return [int(pid) for pid in children.read_text().split()] if children.exists() else []
