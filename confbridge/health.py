"""Health, readiness and metrics endpoints for every process.

- ``GET /healthz``: the process is up (200, no database access);
- ``GET /readyz``: the database answers and its schema is at the code's Alembic head (200), else 503
  with a reason code (``database_unreachable``, ``schema_not_at_head``) a load balancer or an operator
  can act on;
- ``GET /metrics``: Prometheus text (``confbridge.metrics``), only for ``[metrics] allowed_networks``.

The web registers them with :func:`init_app`; the scheduler serves them on ``[scheduler] metrics_port``
with :class:`ProbeServer`; the live server answers them on its own port (``confbridge.live.server``).
Bodies are machine-readable codes, not sentences: no person reads them.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from flask import Flask, Response, g, request
from sqlalchemy import Engine, text

from confbridge import metrics

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Readiness:
    ready: bool
    reason: str = "ok"
    detail: str = ""

    def body(self) -> bytes:
        data = {"status": "ready" if self.ready else "unavailable", "reason": self.reason}
        if self.detail:
            data["detail"] = self.detail
        return json.dumps(data).encode()

    @property
    def status(self) -> int:
        return 200 if self.ready else 503


@lru_cache(maxsize=1)
def code_heads() -> frozenset[str]:
    from confbridge.migrate import heads

    return frozenset(heads())


def check_ready(engine: Engine) -> Readiness:
    """Database reachable and migrated to the head this code expects."""
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    except Exception as exc:
        text_ = str(exc).lower()
        if "alembic_version" in text_ and ("no such table" in text_ or "does not exist" in text_):
            return Readiness(False, "schema_not_at_head", "database not migrated (confbridge db upgrade)")
        return Readiness(False, "database_unreachable", type(exc).__name__)
    found, wanted = frozenset(rows), code_heads()
    if found != wanted:
        return Readiness(False, "schema_not_at_head",
                         f"database at {','.join(sorted(found)) or 'none'}, code at {','.join(sorted(wanted))} "
                         "(confbridge db upgrade)")
    return Readiness(True)


# ---- web (Flask) ------------------------------------------------------------------------------------------
def init_app(app: Flask) -> None:
    """Register /healthz, /readyz, /metrics and the request-duration histogram on the web app."""
    from confbridge.app import app_state

    networks = metrics.parse_networks(app_state(app).settings.metrics.allowed_networks)

    @app.before_request
    def _start_timer() -> None:
        g.request_started = time.perf_counter()

    @app.after_request
    def _observe(response: Response) -> Response:
        started = g.get("request_started")
        if started is not None:
            rule = request.url_rule.rule if request.url_rule is not None else "unmatched"
            metrics.HTTP_DURATION.labels(request.method, rule, str(response.status_code)).observe(
                time.perf_counter() - started)
        return response

    def healthz() -> Response:
        return Response(b'{"status": "up"}', 200, mimetype="application/json",
                        headers={"Cache-Control": "no-store"})

    def readyz() -> Response:
        state = check_ready(app_state(app).engine)
        return Response(state.body(), state.status, mimetype="application/json",
                        headers={"Cache-Control": "no-store"})

    def metrics_view() -> Response:
        if not metrics.allowed(request.remote_addr, networks):
            return Response(b"not found\n", 404, mimetype="text/plain")
        body = metrics.render(app_state(app).session_factory)
        return Response(body, 200, content_type=metrics.CONTENT_TYPE, headers={"Cache-Control": "no-store"})

    app.add_url_rule("/healthz", "healthz", healthz, methods=["GET"])
    app.add_url_rule("/readyz", "readyz", readyz, methods=["GET"])
    app.add_url_rule("/metrics", "metrics", metrics_view, methods=["GET"])


# ---- a small HTTP server for processes without one (the scheduler) ----------------------------------------
def probe_response(path: str, client: str | None, engine: Engine | None, session_factory: Any,
                   networks: metrics.Networks) -> tuple[int, str, bytes]:
    """(status, content type, body) for a probe path; shared by the scheduler and the live server."""
    path = path.split("?", 1)[0]
    if path == "/healthz":
        return 200, "application/json", b'{"status": "up"}'
    if path == "/readyz":
        if engine is None:
            return 200, "application/json", Readiness(True).body()
        state = check_ready(engine)
        return state.status, "application/json", state.body()
    if path == "/metrics" and metrics.allowed(client, networks):
        return 200, metrics.CONTENT_TYPE, metrics.render(session_factory)
    return 404, "text/plain; charset=utf-8", b"not found\n"


class ProbeServer:
    """/healthz, /readyz and /metrics on their own port, served from a daemon thread."""

    def __init__(self, host: str, port: int, engine: Engine | None, session_factory: Callable[[], Any] | None,
                 networks: metrics.Networks) -> None:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            server_version = "confbridge"
            sys_version = ""

            def do_GET(self) -> None:
                status, ctype, body = probe_response(self.path, self.client_address[0], outer.engine,
                                                     outer.session_factory, outer.networks)
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                log.debug("probe: " + format, *args)

        self.engine, self.session_factory, self.networks = engine, session_factory, networks
        self._httpd = ThreadingHTTPServer((host, port), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="probes", daemon=True)

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    def start(self) -> ProbeServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(5)
