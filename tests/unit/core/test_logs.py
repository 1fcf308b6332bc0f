"""Log lines as an operator's collector receives them: JSON fields, context, and no secrets."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from confbridge.logs import configure_logging, log_context, redact
from confbridge.settings import LoggingSettings


@pytest.fixture
def captured() -> Iterator[tuple[io.StringIO, logging.Handler]]:
    stream = io.StringIO()
    root = logging.getLogger()
    level = root.level
    handler = configure_logging(LoggingSettings(format="json", level="INFO"), stream)
    yield stream, handler
    root.removeHandler(handler)
    root.setLevel(level)


def lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_json_lines_carry_time_level_logger_message_and_the_conference_context(captured) -> None:
    stream, _ = captured
    with log_context(conference_id=42, run_id=42, bridge="mcu-tinh"):
        logging.getLogger("confbridge.launch.steps").warning("dial %s failed", "UBND huyện Phú Quốc")
    logging.getLogger("confbridge.other").info("outside")
    first, second = lines(stream)
    assert first["level"] == "WARNING" and first["logger"] == "confbridge.launch.steps"
    assert first["message"] == "dial UBND huyện Phú Quốc failed"
    assert (first["conference_id"], first["run_id"], first["bridge"]) == (42, 42, "mcu-tinh")
    assert str(first["time"]).endswith("+00:00")
    assert "conference_id" not in second


@pytest.mark.parametrize("message", [
    "GET /calendar/users/thuky.ics?token=Zx9-secret_Feed HTTP/1.1",
    "GET /calendar/endpoints/3.ics?a=1&token=Zx9-secret_Feed",
    "login failed: {'username': 'thuky', 'password': 'Zx9-secret_Feed'}",
    'payload {"token": "Zx9-secret_Feed"}',
    "Authorization: Bearer Zx9-secret_Feed",
    "connecting to postgresql+psycopg://confbridge:Zx9-secret_Feed@db/confbridge",
    "smtp password=Zx9-secret_Feed; secret_key=Zx9-secret_Feed",
])
def test_secrets_never_reach_a_log_line(captured, message: str) -> None:
    stream, _ = captured
    logging.getLogger("werkzeug").warning(message)  # a library's record passes the same filter
    logging.getLogger("confbridge").error("failed: %s", message)
    try:
        raise RuntimeError(message)
    except RuntimeError:
        logging.getLogger("confbridge").exception("unexpected")
    out = stream.getvalue()
    assert "Zx9-secret_Feed" not in out
    assert out.count("[redacted]") >= 3


def test_text_format_is_one_readable_line_with_context(capsys) -> None:
    stream = io.StringIO()
    handler = configure_logging(LoggingSettings(format="text", level="INFO"), stream)
    try:
        with log_context(bridge="mcu-tinh"):
            logging.getLogger("confbridge.x").info("polled token=abc")
    finally:
        logging.getLogger().removeHandler(handler)
    line = stream.getvalue().strip()
    assert line.endswith("INFO confbridge.x: polled token=[redacted] [bridge=mcu-tinh]")


def test_configuring_twice_replaces_the_handler() -> None:
    root = logging.getLogger()
    first = configure_logging(LoggingSettings(), io.StringIO())
    second = configure_logging(LoggingSettings(format="json"), io.StringIO())
    try:
        assert first not in root.handlers and second in root.handlers
    finally:
        root.removeHandler(second)


def test_redact_leaves_ordinary_text_alone() -> None:
    text = "scheduler lease launch lost by host:1 (fencing token 7); meeting 'Giao ban tuần'"
    assert redact(text) == text


@pytest.mark.parametrize(("variable", "value", "named"), [
    ("CONFBRIDGE_LOGGING_FORMAT", "xml", "logging.format"),
    ("CONFBRIDGE_WEB_TRUSTED_PROXIES", "-1", "web.trusted_proxies"),
    ("CONFBRIDGE_LIVE_PUBLIC_URL", "https://hoinghi.example.vn/live", "live.public_url"),
])
def test_bad_new_settings_stop_start_up_naming_the_key(variable: str, value: str, named: str) -> None:
    from confbridge.settings import SettingsError, load_settings

    with pytest.raises(SettingsError, match=named.replace(".", r"\.")):
        load_settings(environ={variable: value})
    assert load_settings(environ={"CONFBRIDGE_LOGGING_LEVEL": "debug"}).logging.level == "DEBUG"
