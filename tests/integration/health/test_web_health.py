"""Web /healthz, /readyz and /metrics: what a load balancer and a Prometheus server see."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text

from confbridge.app import create_app
from confbridge.db import make_engine
from confbridge.settings import Settings
from tests.conftest import both_databases
from tests.services import free_port


def samples(body: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(body):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def value(body: str, name: str, **labels: str) -> float:
    return samples(body).get((name, tuple(sorted(labels.items()))), 0.0)


@both_databases
def test_healthz_and_readyz_answer_on_a_migrated_database(client: FlaskClient) -> None:
    up = client.get("/healthz")
    assert up.status_code == 200 and up.get_json() == {"status": "up"}
    ready = client.get("/readyz")
    assert ready.status_code == 200, ready.get_json()
    assert ready.get_json()["status"] == "ready"
    assert ready.headers["Cache-Control"] == "no-store"


@both_databases
def test_readyz_is_503_when_the_schema_is_behind(client: FlaskClient, engine: Any) -> None:
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0003'"))
    ready = client.get("/readyz")
    assert ready.status_code == 503
    body = ready.get_json()
    assert body["reason"] == "schema_not_at_head"
    assert "0003" in body["detail"] and "confbridge db upgrade" in body["detail"]
    assert client.get("/healthz").status_code == 200  # up, just not ready


def test_readyz_is_503_when_the_database_is_unreachable(settings: Settings) -> None:
    dead = f"postgresql+psycopg://nobody@127.0.0.1:{free_port()}/confbridge"
    engine = make_engine(dead)
    try:
        app = create_app(settings.with_overrides(**{"database.url": dead}), engine=engine, testing=True)
        client = app.test_client()
        assert client.get("/healthz").status_code == 200
        ready = client.get("/readyz")
        assert ready.status_code == 503
        assert ready.get_json()["reason"] == "database_unreachable"
        assert "nobody" not in ready.get_data(as_text=True)  # no connection string leaks
        # The metrics still answer without the database gauges.
        metrics = client.get("/metrics")
        assert metrics.status_code == 200
        assert "confbridge_conferences_active" not in metrics.get_data(as_text=True)
    finally:
        engine.dispose()


@both_databases
def test_metrics_for_loopback_with_request_durations_and_database_gauges(client: FlaskClient) -> None:
    client.get("/healthz")
    client.get("/api/v1/meetings")  # 401: still timed, by route and status
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain; version=")
    body = response.get_data(as_text=True)
    assert value(body, "confbridge_http_request_duration_seconds_count",
                 method="GET", route="/healthz", status="200") >= 1
    assert value(body, "confbridge_http_request_duration_seconds_count",
                 method="GET", route="/api/v1/meetings", status="401") >= 1
    assert value(body, "confbridge_conferences_active") == 0
    assert value(body, "confbridge_outbox_pending") == 0
    for name in ("confbridge_scheduler_leader", "confbridge_launch_lateness_seconds",
                 "confbridge_dial_attempts_total", "confbridge_live_clients", "confbridge_live_events_total"):
        assert f"# TYPE {name}" in body  # every process speaks the same names


def test_metrics_are_not_found_outside_the_allowed_networks(client: FlaskClient, app: Any,
                                                           settings: Settings, engine: Any) -> None:
    outside = client.get("/metrics", environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert outside.status_code == 404
    assert "confbridge_" not in outside.get_data(as_text=True)
    assert client.get("/healthz", environ_base={"REMOTE_ADDR": "203.0.113.9"}).status_code == 200
    opened = create_app(settings.with_overrides(**{"metrics.allowed_networks": ["203.0.113.0/24"]}),
                        engine=engine, testing=True).test_client()
    assert opened.get("/metrics", environ_base={"REMOTE_ADDR": "203.0.113.9"}).status_code == 200
    assert opened.get("/metrics").status_code == 404  # loopback is no longer in the list


@both_databases
def test_metrics_gauges_count_active_conferences_and_pending_mail(client: FlaskClient, session_factory: Any,
                                                                 settings: Settings) -> None:
    from datetime import UTC, datetime, timedelta

    from confbridge.booking.models import Occurrence
    from confbridge.invites.models import OutboxMessage, OutboxStatus
    from confbridge.launch.models import RunState
    from confbridge.launch.planner import create_run
    from tests.integration.launch.helpers import book, make_endpoints

    now = datetime.now(UTC)
    eps = make_endpoints(session_factory, 2)
    _m1, occ1 = book(session_factory, now + timedelta(minutes=5), endpoints=eps[:1])
    m2, occ2 = book(session_factory, now + timedelta(minutes=5), endpoints=eps[1:])
    with session_factory.begin() as s:
        live = create_run(s, settings, s.get(Occurrence, occ1))
        live.state = RunState.LIVE
        create_run(s, settings, s.get(Occurrence, occ2))  # scheduled: not active yet
        for i, status in enumerate([OutboxStatus.QUEUED, OutboxStatus.SENDING, OutboxStatus.SENT]):
            s.add(OutboxMessage(meeting_id=m2, recipient=f"a{i}@ubnd.example", recipient_name="A",
                                method="REQUEST", kind="new", sequence=0, subject="s",
                                message_id=f"<m{i}@test>", raw=b"x", status=status, attempts=0,
                                next_attempt_at=now, created_at=now))
    body = client.get("/metrics").get_data(as_text=True)
    assert value(body, "confbridge_conferences_active") == 1
    assert value(body, "confbridge_outbox_pending") == 2
