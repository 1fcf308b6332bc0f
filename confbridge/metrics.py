"""Prometheus metrics (``prometheus_client``): the definitions, the text exposition, who may read it.

Every process exposes the same names; each sets the ones it owns:

- scheduler: ``confbridge_scheduler_leader`` (1 on the holder of the global lease, 0 on standbys),
  ``confbridge_bridge_lease{bridge}`` (1 for each bridge whose lease this scheduler holds),
  ``confbridge_launch_lateness_seconds`` (first bridge call vs planned start),
  ``confbridge_dial_attempts_total{outcome}``;
- live server: ``confbridge_live_clients``, ``confbridge_live_events_total``;
- web: ``confbridge_http_request_duration_seconds{method,route,status}``;
- every process with a database: ``confbridge_conferences_active`` and ``confbridge_outbox_pending``,
  counted from our tables at scrape time (the database is the source of truth, not a process's memory).

Several gunicorn workers share one exposition through ``prometheus_client``'s multiprocess mode: set
``PROMETHEUS_MULTIPROC_DIR`` to an empty folder before the workers start (``confbridge web`` does when
``[web] workers`` > 1; see deploy/README.md), and call :func:`worker_exit` from gunicorn's ``child_exit``.

``/metrics`` answers only clients in ``[metrics] allowed_networks`` (loopback by default); others get 404.
"""

from __future__ import annotations

import ipaddress
import logging
import os
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

log = logging.getLogger(__name__)

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = CONTENT_TYPE_LATEST

SCHEDULER_LEADER = Gauge(
    "confbridge_scheduler_leader", "1 while this scheduler holds the launch lease (active), 0 on standby.",
    multiprocess_mode="liveall",
)
BRIDGE_LEASE = Gauge(
    "confbridge_bridge_lease", "1 while this scheduler holds the lease of the bridge (drives its launches).",
    ["bridge"], multiprocess_mode="liveall",
)
LAUNCH_LATENESS = Histogram(
    "confbridge_launch_lateness_seconds",
    "Delay between a conference's planned start and the first call to its bridge.",
    buckets=(0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900),
)
DIAL_ATTEMPTS = Counter(
    "confbridge_dial_attempts_total", "Dial attempts sent to a bridge, by outcome (ok or the fault kind).",
    ["outcome"],
)
LIVE_CLIENTS = Gauge(
    "confbridge_live_clients", "Authenticated dashboards connected to this live server.",
    multiprocess_mode="livesum",
)
LIVE_EVENTS = Counter("confbridge_live_events_total", "Events received from the bus by this live server.")
HTTP_DURATION = Histogram(
    "confbridge_http_request_duration_seconds", "Web request duration, by method, route and status.",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)


class DatabaseCollector(Collector):
    """Gauges counted from our tables when scraped; a database that cannot answer leaves them out."""

    def __init__(self, session_factory: Callable[[], Any]) -> None:
        self._factory = session_factory

    def collect(self) -> Iterable[GaugeMetricFamily]:
        from sqlalchemy import func, select

        from confbridge.invites.models import OutboxMessage, OutboxStatus
        from confbridge.launch.models import ACTIVE_STATES, ConferenceRun

        try:
            with self._factory() as session:
                active = session.scalar(select(func.count()).select_from(ConferenceRun)
                                        .where(ConferenceRun.state.in_(list(ACTIVE_STATES))))
                pending = session.scalar(select(func.count()).select_from(OutboxMessage).where(
                    OutboxMessage.status.in_([OutboxStatus.QUEUED, OutboxStatus.SENDING])))
        except Exception as exc:  # the scrape still answers; readiness reports the database
            log.warning("metrics: database gauges unavailable: %s", type(exc).__name__)
            return
        yield GaugeMetricFamily("confbridge_conferences_active",
                                "Conference runs starting, live or ending (from the database).", value=active or 0)
        yield GaugeMetricFamily("confbridge_outbox_pending",
                                "Invitation e-mails queued or being sent (from the database).", value=pending or 0)


def multiprocess() -> bool:
    return bool(os.environ.get(MULTIPROC_ENV))


def render(session_factory: Callable[[], Any] | None = None) -> bytes:
    """The Prometheus text exposition of this process (or of all gunicorn workers, in multiprocess mode)."""
    if multiprocess():
        from prometheus_client import multiprocess as mp

        registry = CollectorRegistry()
        mp.MultiProcessCollector(registry)
        body = generate_latest(registry)
    else:
        body = generate_latest(REGISTRY)
    if session_factory is not None:
        extra = CollectorRegistry()
        extra.register(DatabaseCollector(session_factory))
        body += generate_latest(extra)
    return body


def prepare_multiprocess() -> str:
    """Make the gunicorn master's ``PROMETHEUS_MULTIPROC_DIR`` an empty folder (a new temporary one when
    unset) before it forks workers; returns it.  Stale files of an earlier run would be summed in."""
    import tempfile
    from pathlib import Path

    folder = os.environ.get(MULTIPROC_ENV) or tempfile.mkdtemp(prefix="confbridge-metrics-")
    os.environ[MULTIPROC_ENV] = folder
    for stale in Path(folder).glob("*.db"):
        stale.unlink(missing_ok=True)
    _use_value_class()
    return folder


def _use_value_class() -> None:
    """prometheus_client picks its value storage when imported: follow the environment as it is now."""
    from prometheus_client import values

    values.ValueClass = values.get_value_class()
    # Labelled metrics make their children (and storage) on first use; unlabelled ones made theirs at
    # import: make them again with the storage now chosen.
    for metric in (SCHEDULER_LEADER, LAUNCH_LATENESS, LIVE_CLIENTS, LIVE_EVENTS):
        metric._metric_init()


def worker_exit(pid: int) -> None:
    """gunicorn ``child_exit`` hook: drop a dead worker's live gauges from the shared exposition."""
    if multiprocess():
        from prometheus_client import multiprocess as mp

        mp.mark_process_dead(pid)


Networks = Sequence[ipaddress.IPv4Network | ipaddress.IPv6Network]


def parse_networks(values: Iterable[str]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(v, strict=False) for v in values)


def allowed(address: str | None, networks: Networks) -> bool:
    """Whether a client address may read /metrics (IPv4-mapped IPv6 addresses count as IPv4)."""
    if not address:
        return False
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip.version == net.version and ip in net for net in networks)
