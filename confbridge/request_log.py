"""Per request: an id (``X-Request-ID``, taken from a proxy or made here, echoed on the answer) bound to
every log record of the request, and one access line (``confbridge.access``) with the query redacted."""

from __future__ import annotations

import contextlib
import logging
import re
import time
import uuid
from typing import Any

from flask import Flask, g, request

from confbridge.logs import bind_context, redact, unbind_context

access_log = logging.getLogger("confbridge.access")
HEADER = "X-Request-ID"
_VALID_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def request_id_from(header: str | None) -> str:
    """The proxy's request id when it is a plain token, else a new one (never echo arbitrary text)."""
    if header and _VALID_ID.match(header):
        return header
    return uuid.uuid4().hex


def install_request_log(app: Flask) -> None:
    @app.before_request
    def _start() -> None:
        g.request_id = request_id_from(request.headers.get(HEADER))
        g.request_started = time.monotonic()
        g.log_token = bind_context(request_id=g.request_id)

    @app.after_request
    def _finish(response: Any) -> Any:
        request_id = g.get("request_id")
        if request_id is not None:
            response.headers[HEADER] = request_id
            elapsed_ms = (time.monotonic() - g.get("request_started", time.monotonic())) * 1000
            path = request.full_path if request.query_string else request.path
            access_log.info("%s %s %s %d %.0f ms", request.remote_addr, request.method, redact(path),
                            response.status_code, elapsed_ms)
        return response

    @app.teardown_request
    def _unbind(_exc: BaseException | None) -> None:
        token = g.pop("log_token", None)
        if token is not None:
            with contextlib.suppress(ValueError):  # a server that ran the hooks in another context
                unbind_context(token)
