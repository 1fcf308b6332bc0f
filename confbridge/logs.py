"""Logging for every process: text or JSON lines, request/conference context, secrets redacted.

- ``[logging] format = "text"`` (default) writes one readable line per record, ``"json"`` one JSON object
  per line: ``time level logger message`` plus, where they apply, ``request_id`` (web requests; also
  echoed as ``X-Request-ID``), ``conference_id`` / ``run_id`` and ``bridge`` (launch engine), and
  ``exception`` for a traceback.
- Context travels in context variables (:func:`log_context`), so code deep in a service needs no logger
  argument.
- A redaction filter sits on the handler, so *every* record — ours, werkzeug's, gunicorn's, a library's —
  loses ``token=…`` values, passwords, secrets and bearer tokens before it is written.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import re
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, TextIO

from confbridge.settings import LoggingSettings

CONTEXT_KEYS = ("request_id", "conference_id", "run_id", "bridge")
_context: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar("confbridge_log_context",
                                                                               default=None)
REDACTED = "[redacted]"
# key=value / key: value pairs whose value is a secret (query strings, form bodies, repr()s, JSON).
_SECRET_PAIR = re.compile(
    r"""(?P<key>["']?\b(?:[\w-]*token|password|passwd|secret|secret_key|api_key|pin)["']?)"""
    r"""(?P<sep>\s*[=:]\s*["']?)(?P<value>[^\s&"',;}]+)""",
    re.IGNORECASE,
)
_BEARER = re.compile(r"\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+", re.IGNORECASE)
# Userinfo in URLs: postgresql://user:secret@host → postgresql://user:[redacted]@host
_URL_PASSWORD = re.compile(r"(?P<head>[a-z][a-z0-9+.-]*://[^/\s:@]+:)[^@\s/]+@", re.IGNORECASE)


def redact(text: str) -> str:
    """*text* with token/password/secret values replaced by ``[redacted]``."""
    text = _SECRET_PAIR.sub(lambda m: f"{m.group('key')}{m.group('sep')}{REDACTED}", text)
    text = _BEARER.sub(lambda m: f"{m.group(1)} {REDACTED}", text)
    return _URL_PASSWORD.sub(lambda m: f"{m.group('head')}{REDACTED}@", text)


def current_context() -> dict[str, Any]:
    return dict(_context.get() or {})


@contextlib.contextmanager
def log_context(**values: Any) -> Iterator[None]:
    """Records logged inside carry *values* (``conference_id=…, run_id=…, bridge=…``)."""
    merged = {**(_context.get() or {}), **{k: v for k, v in values.items() if v is not None}}
    token = _context.set(merged)
    try:
        yield
    finally:
        _context.reset(token)


def bind_context(**values: Any) -> contextvars.Token[dict[str, Any] | None]:
    """Set context values until :func:`unbind_context` (a web request's ``request_id``)."""
    return _context.set({**(_context.get() or {}), **values})


def unbind_context(token: contextvars.Token[dict[str, Any] | None]) -> None:
    _context.reset(token)


class RedactingFilter(logging.Filter):
    """Rewrites the record's message (and traceback) with secrets redacted; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        for key, value in current_context().items():
            if not hasattr(record, key):
                setattr(record, key, value)
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in CONTEXT_KEYS:
            value = getattr(record, key, None)
            if value is not None:
                data[key] = value
        if record.exc_text:
            data["exception"] = record.exc_text
        elif record.exc_info:
            data["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(data, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        extras = " ".join(f"{k}={getattr(record, k)}" for k in CONTEXT_KEYS
                          if getattr(record, k, None) is not None)
        if not extras:
            return line
        first, newline, rest = line.partition("\n")
        return f"{first} [{extras}]{newline}{rest}"


class _ConfbridgeHandler(logging.StreamHandler):
    """Marks the handler we installed, so configuring again replaces it instead of adding another."""


# Their INFO lines (every job run, every migration plugin, every request of the development server)
# drown what an operator needs to see; requests are logged by confbridge.access instead.
_QUIET = ("apscheduler", "alembic", "werkzeug")


def configure_logging(settings: LoggingSettings, stream: TextIO | None = None) -> logging.Handler:
    """Install the process's log handler on the root logger (idempotent: replaces a previous one)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if isinstance(handler, _ConfbridgeHandler):
            root.removeHandler(handler)
    handler = _ConfbridgeHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if settings.format == "json" else TextFormatter())
    handler.addFilter(RedactingFilter())
    root.addHandler(handler)
    root.setLevel(settings.level)
    for name in _QUIET:
        logging.getLogger(name).setLevel(max(logging.WARNING, logging.getLevelName(settings.level)))
    return handler
