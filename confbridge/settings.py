"""Typed settings: ``config/confbridge.toml`` (or ``$CONFBRIDGE_CONFIG``) plus ``CONFBRIDGE_*`` overrides.

Rules:
- unknown keys and invalid values stop start-up with a message naming the key (``SettingsError``);
- ``CONFBRIDGE_<SECTION>_<KEY>`` overrides one key of a section, ``CONFBRIDGE_<KEY>`` a top-level key
  (``CONFBRIDGE_DATABASE_URL``, ``CONFBRIDGE_WEB_PORT``, ``CONFBRIDGE_TIMEZONE``);
- secrets are never values here: only the *name* of an environment variable or of a file holding them.

Settings are loaded explicitly (``load_settings()``), never at import time.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from confbridge.limits import MAX_SETUP_MINUTES
from confbridge.resources import resource_root

PROJECT_ROOT = resource_root()  # the checkout, or the resources bundled in an installed wheel
DEFAULT_CONFIG = PROJECT_ROOT / "config" / "confbridge.toml"
ENV_PREFIX = "CONFBRIDGE_"
# Environment variables with our prefix that are not setting overrides (CONFBRIDGE_LANG: the command
# line's language, confbridge.i18n.cli_locale).
_NOT_OVERRIDES = {"CONFBRIDGE_CONFIG", "CONFBRIDGE_CLOCK_OFFSET_SECONDS", "CONFBRIDGE_LANG"}


class SettingsError(Exception):
    """Settings cannot be used; the message names the offending key."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DatabaseSettings(_Section):
    url: str = "sqlite:///data/confbridge.db"
    echo: bool = False


class WebSettings(_Section):
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=1, le=65535)
    # File holding the Flask secret key; created (0600) with a random key when missing.
    secret_key_file: str = "data/secret_key"  # noqa: S105 - a path, not a secret
    # Set when served behind TLS (cookies Secure, HSTS).
    tls: bool = False
    api_token_hours: int = Field(12, ge=1, le=24 * 30)
    # Failed sign-ins per client address per minute (hard: 429); per username they only slow down.
    login_attempts_per_minute: int = Field(5, ge=1, le=1000)
    # Reverse proxies in front of the app (nginx: 1): X-Forwarded-For/-Proto are trusted from that many
    # hops (werkzeug ProxyFix); 0 trusts none (the app faces clients directly).
    trusted_proxies: int = Field(0, ge=0, le=10)
    # `confbridge web` serves with gunicorn when > 1 (the development server otherwise).
    workers: int = Field(1, ge=1, le=64)
    # Password verifications (Argon2, ~0.2 s CPU each) running at once per process; the excess gets 429.
    concurrent_password_checks: int = Field(4, ge=1, le=256)


class BookingSettings(_Section):
    default_setup_minutes: int = Field(15, ge=0, le=MAX_SETUP_MINUTES)
    max_duration_hours: float = Field(12, gt=0, le=72)
    horizon_days: int = Field(365, ge=1, le=3660)
    max_occurrences: int = Field(400, ge=1, le=5000)
    # Dial-in numbers (the MCU's numericId) are handed out from this range, "first-last", each unique
    # among the conferences overlapping it; dial_in_domain builds the SIP URI ("" → number only).
    dial_in_range: str = "7000-7999"
    dial_in_domain: str = Field("", max_length=200)
    # Public holidays of this country (the ``holidays`` package's code, e.g. "VN"; "" = none): a series
    # skips its occurrences on them unless booked with on_holidays "keep"; a one-off gets a warning.
    holidays: str = Field("VN", max_length=8)

    @field_validator("holidays")
    @classmethod
    def _holidays(cls, value: str) -> str:
        import holidays as holiday_calendars

        value = value.strip().upper()
        if value and value not in holiday_calendars.list_supported_countries():
            raise ValueError('a country code the "holidays" package knows (e.g. "VN"), or "" for none')
        return value

    @field_validator("dial_in_range")
    @classmethod
    def _range(cls, value: str) -> str:
        match = re.fullmatch(r"\s*([0-9]{1,12})\s*-\s*([0-9]{1,12})\s*", value)
        if match is None or len(match.group(1)) != len(match.group(2)) \
                or int(match.group(1)) > int(match.group(2)):
            raise ValueError('"first-last" with digits of the same length, first <= last (e.g. "7000-7999")')
        return f"{match.group(1)}-{match.group(2)}"

    @field_validator("dial_in_domain")
    @classmethod
    def _domain(cls, value: str) -> str:
        if value and not re.fullmatch(r"[A-Za-z0-9](?:[A-Za-z0-9.\-]*[A-Za-z0-9])?", value):
            raise ValueError("a DNS domain such as vc.example.gov.vn")
        return value

    @property
    def dial_in_numbers(self) -> range:
        first, last = self.dial_in_range.split("-")
        return range(int(first), int(last) + 1)

    @property
    def dial_in_width(self) -> int:
        return len(self.dial_in_range.split("-")[0])


class BridgeSettings(_Section):
    name: str = Field(min_length=1, max_length=64)
    driver: Literal["cisco-mcu", "emulator"] = "cisco-mcu"
    url: str = ""
    username: str = ""
    password_env: str | None = None
    password_file: str | None = None
    max_concurrent_requests: int = Field(4, ge=1, le=64)
    timeout_seconds: float = Field(10.0, gt=0, le=300)
    video_ports: int | None = Field(None, ge=1, le=100000)
    default: bool = False
    # Tries per API call for transient/ambiguous failures (capped exponential backoff with jitter).
    retry_attempts: int = Field(5, ge=1, le=20)
    # PEM bundle of a private CA that signed the bridge's https certificate (default: the system CAs).
    ca_file: str | None = None

    def password(self) -> str:
        """The bridge password, read from the environment or a file at call time (never stored)."""
        if self.password_env:
            value = os.environ.get(self.password_env)
            if value is None:
                raise SettingsError(
                    f"bridges[{self.name}].password_env: environment variable {self.password_env} is not set"
                )
            return value
        if self.password_file:
            try:
                return Path(self.password_file).read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise SettingsError(
                    f"bridges[{self.name}].password_file: cannot read {self.password_file}: {exc.strerror}"
                ) from None
        return ""


class EmulatorSettings(_Section):
    """The built-in MCU emulator that `confbridge run` starts (embedded default only)."""

    enabled: bool = False
    host: str = "127.0.0.1"
    port: int = Field(8091, ge=1, le=65535)
    control_port: int = Field(8092, ge=1, le=65535)
    username: str = "admin"
    password_env: str | None = None
    password_file: str | None = None
    latency_ms: int = Field(0, ge=0, le=60000)
    scenario: str = "demo"


class LaunchSettings(_Section):
    dial_attempts: int = Field(3, ge=1, le=20)
    dial_backoff_seconds: float = Field(20.0, ge=0, le=3600)
    reconcile_interval_seconds: float = Field(15.0, gt=0, le=3600)
    lease_seconds: float = Field(10.0, gt=0, le=600)
    lookahead_minutes: int = Field(60, ge=1, le=24 * 60)
    # Occurrences that ended up to this long ago without a launch are recorded as missed (with an alarm).
    missed_lookback_hours: int = Field(24, ge=1, le=24 * 30)
    # A launch starting later than this after its planned instant is flagged late (timeline + alarm).
    late_after_seconds: float = Field(60.0, ge=0, le=3600)
    # How often the bridge's participant list is read while legs are dialling or live.
    poll_seconds: float = Field(2.0, gt=0, le=600)
    # Pause before re-trying a bridge-level step after "unreachable"/"timeout" / after "capacity exceeded".
    unreachable_retry_seconds: float = Field(5.0, ge=0, le=3600)
    capacity_retry_seconds: float = Field(60.0, ge=0, le=3600)
    # Worker threads for bridge calls (0: twice the sum of the bridges' max_concurrent_requests, min 4).
    workers: int = Field(0, ge=0, le=256)
    # Pre-flight test call this many minutes before the setup time (0: off); each endpoint gets
    # preflight_answer_seconds to answer before it is recorded failed (no answer).
    preflight_minutes: int = Field(60, ge=0, le=24 * 60)
    preflight_answer_seconds: float = Field(45.0, gt=0, le=600)


class MailSettings(_Section):
    host: str = ""
    port: int = Field(25, ge=1, le=65535)
    # Transport security: "starttls" (port 587), "implicit" (SMTPS, port 465) or "none".  Unset: the older
    # ``starttls`` switch decides.
    tls: Literal["starttls", "implicit", "none"] | None = None
    starttls: bool = False
    # PEM bundle of a private CA for the SMTP server's certificate (default: the system CAs).
    ca_file: str | None = None
    # When set, invitations go only to addresses in these domains (e.g. ["kiengiang.gov.vn"]).
    allowed_recipient_domains: list[str] = Field(default_factory=list)
    # Invitation recipients one organiser may add per day (0: no limit).
    recipients_per_user_per_day: int = Field(0, ge=0, le=100000)
    username: str | None = None
    password_env: str | None = None
    sender: str = "confbridge@localhost"
    # Embedded default: no SMTP server; messages are written as .eml files into this folder.
    outbox_dir: str = "data/mail"
    helpdesk: str = ""
    max_attempts: int = Field(8, ge=1, le=100)
    # Dial-in address printed in invitations (e.g. "sip:hoinghi@mcu.example"); empty: not shown.
    dial_in: str = ""
    # Minutes before the start at which calendars remind the attendee (VALARM).
    reminder_minutes: int = Field(15, ge=0, le=7 * 24 * 60)
    # Minutes before the setup time at which each booked endpoint's contact is e-mailed a reminder
    # (meeting, setup time, dial-in, helpdesk) through the outbox; 0: off.
    contact_reminder_minutes: int = Field(60, ge=0, le=7 * 24 * 60)
    # Retries back off exponentially from retry_base_seconds, capped at retry_max_seconds.
    retry_base_seconds: float = Field(30.0, gt=0, le=86400)
    retry_max_seconds: float = Field(3600.0, gt=0, le=7 * 86400)
    timeout_seconds: float = Field(30.0, gt=0, le=600)
    # How often the outbox worker looks for due messages.
    poll_seconds: float = Field(5.0, gt=0, le=3600)

    @property
    def tls_mode(self) -> str:
        return self.tls or ("starttls" if self.starttls else "none")


class LiveSettings(_Section):
    host: str = "127.0.0.1"
    port: int = Field(default=8765, ge=1, le=65535)
    # Browser origins allowed besides the web's own (derived from [web] host/port/tls and public_url).
    allowed_origins: list[str] = Field(default_factory=list)
    # What browsers connect to (e.g. "wss://hoinghi.example.vn/live" behind a proxy); empty: derived
    # from host/port, wss:// when [web] tls = true.
    public_url: str = ""
    bus: Literal["memory", "redis"] = "memory"
    redis_url: str = "redis://127.0.0.1:6379/0"
    token_seconds: int = Field(default=60, ge=5, le=3600)
    # Updates to the same object within one flush are coalesced; each client gets <= 1 frame per flush.
    flush_ms: int = Field(default=250, ge=10, le=5000)
    # Frames waiting for one client; a client this far behind is dropped (bounded memory per client).
    client_queue_frames: int = Field(default=64, ge=2, le=10000)
    # Bytes the socket may buffer for one client before its writer waits (websockets write_limit).
    write_limit_bytes: int = Field(default=65536, ge=1024, le=16 * 1024 * 1024)
    # Clients only send small control messages (auth, resync, ping).
    max_message_bytes: int = Field(default=4096, ge=256, le=1024 * 1024)
    auth_timeout_seconds: float = Field(default=5.0, gt=0, le=120)
    ping_interval_seconds: float = Field(default=20.0, gt=0, le=600)
    ping_timeout_seconds: float = Field(default=20.0, gt=0, le=600)
    # Non-browser clients (scripts, the benchmark) send no Origin header; browsers always do, and a
    # browser Origin outside allowed_origins is refused either way.
    allow_missing_origin: bool = True
    # Snapshots built or being sent at the same time (bounds memory when many clients (re)connect).
    snapshot_concurrency: int = Field(default=4, ge=1, le=256)
    # Conferences shown from this long before their planned start (the console's "imminent").
    imminent_minutes: int = Field(default=60, ge=0, le=24 * 60)
    # Open connections whose user was locked or changed role are closed (4401) within this many seconds
    # (and at their next resync).
    session_check_seconds: float = Field(default=60.0, gt=0, le=3600)

    @field_validator("public_url")
    @classmethod
    def _ws_url(cls, value: str) -> str:
        if value and not value.startswith(("ws://", "wss://")):
            raise ValueError("must start with ws:// or wss://")
        return value

    @field_validator("allowed_origins", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value


class MonitorSettings(_Section):
    poll_seconds: float = Field(default=5.0, gt=0, le=3600)
    probe_seconds: float = Field(default=60.0, gt=0, le=86400)
    offline_alarm_minutes: int = Field(default=30, ge=0, le=24 * 60)
    # How idle endpoints are checked: "none" (only calls tell), "tcp" (connect to the address's host on
    # probe_port), "emulator" (ask the MCU emulator's control API at probe_url which endpoints it
    # simulates as offline — the embedded default, where every endpoint is simulated).
    probe: Literal["none", "tcp", "emulator"] = "none"
    probe_url: str = ""
    probe_port: int = Field(default=5060, ge=1, le=65535)
    probe_timeout_seconds: float = Field(default=2.0, gt=0, le=60)
    # The scheduler's leader lease older than this raises "scheduler_heartbeat".
    heartbeat_stale_seconds: float = Field(default=60.0, gt=0, le=3600)


class LoggingSettings(_Section):
    # "text": one human-readable line per record; "json": one JSON object per line (for collectors).
    format: Literal["text", "json"] = "text"
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    @field_validator("level", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value


# Listening on every interface (not an address a bridge can call back).
WILDCARD_HOSTS = frozenset({"0.0.0.0", "::", ""})  # noqa: S104


class SchedulerSettings(_Section):
    # Port of the scheduler's health/metrics HTTP endpoint (/healthz, /readyz, /metrics); 0: off.
    metrics_port: int = Field(default=0, ge=0, le=65535)
    metrics_host: str = "127.0.0.1"
    # Bridge feedback (push hints: a Cisco MCU's eventNotification calls): the scheduler listens on
    # feedback_host, one receiver per bridge it drives, each on a free port (within feedback_ports,
    # "first-last", when a firewall between the bridges and the scheduler needs a range).  The bridge
    # is given http://<feedback_address>:<port>/RPC2: the scheduler's address as the bridge reaches it
    # (empty: feedback_host).  On loopback only an emulator on the same machine can push; a real MCU
    # needs the scheduler's LAN address, or monitoring falls back to polling.
    feedback_host: str = "127.0.0.1"
    feedback_address: str = ""
    feedback_ports: str = Field(default="", pattern=r"^(|\d{1,5}-\d{1,5})$")

    @model_validator(mode="after")
    def _feedback(self) -> SchedulerSettings:
        first, last = self.feedback_port_range()
        if first > last or last > 65535 or (first == 0 and self.feedback_ports):
            raise ValueError("scheduler: feedback_ports must be a range first-last within 1-65535")
        if self.feedback_host in WILDCARD_HOSTS and not self.feedback_address:
            raise ValueError("scheduler: feedback_address must be set when feedback_host listens on every "
                             "interface (the bridges cannot call a wildcard address)")
        return self

    def feedback_port_range(self) -> tuple[int, int]:
        """``(first, last)`` of the receivers' ports; ``(0, 0)``: any free port."""
        if not self.feedback_ports:
            return 0, 0
        first, last = self.feedback_ports.split("-")
        return int(first), int(last)

    def feedback_uri_host(self) -> str:
        host = self.feedback_address or self.feedback_host
        return f"[{host}]" if ":" in host and not host.startswith("[") else host


class MetricsSettings(_Section):
    # Client networks allowed to read /metrics (web, live port, scheduler metrics_port); others get 404.
    allowed_networks: list[str] = Field(default_factory=lambda: ["127.0.0.0/8", "::1/128"])

    @field_validator("allowed_networks", mode="before")
    @classmethod
    def _split_networks(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("allowed_networks")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        import ipaddress

        for item in value:
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError(f"not an IP network: {item!r}") from None
        return value


class AuditSettings(_Section):
    # Audit entries older than this are purged by the scheduler leader (daily); 1825 days: five years.
    retention_days: int = Field(default=1825, ge=30, le=36500)


class ReportSettings(_Section):
    # Office hours (in `timezone`, Monday–Friday without public holidays): the base of "share of office
    # hours used" in the usage report.
    office_day_start: str = Field(default="07:30", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    office_day_end: str = Field(default="17:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")

    @model_validator(mode="after")
    def _order(self) -> ReportSettings:
        if self.office_day_end <= self.office_day_start:
            raise ValueError("reports: office_day_end must be after office_day_start")
        return self


ALARM_SEVERITIES = ("info", "minor", "major", "critical")  # lowest first


class AlertSettings(_Section):
    # Alarms at or above min_severity are e-mailed (through the outbox) to `email` once when raised;
    # if still open and unacknowledged after escalate_after_minutes, to `escalate_email` once.
    email: list[str] = Field(default_factory=list, max_length=50)
    escalate_email: list[str] = Field(default_factory=list, max_length=50)
    escalate_after_minutes: int = Field(default=10, ge=1, le=24 * 60)
    min_severity: Literal["info", "minor", "major", "critical"] = "major"

    @field_validator("email", "escalate_email")
    @classmethod
    def _addresses(cls, value: list[str]) -> list[str]:
        from confbridge.text import valid_email

        bad = [a for a in value if not valid_email(a)]
        if bad:
            raise ValueError(f"not plain e-mail addresses: {', '.join(repr(a) for a in bad)}")
        return value


class Settings(_Section):
    timezone: str = "Asia/Ho_Chi_Minh"
    data_dir: str = "data"
    endpoints_file: str | None = None
    database: DatabaseSettings = DatabaseSettings()
    web: WebSettings = WebSettings()
    booking: BookingSettings = BookingSettings()
    bridges: list[BridgeSettings] = Field(default_factory=list)
    emulator: EmulatorSettings = EmulatorSettings()
    launch: LaunchSettings = LaunchSettings()
    mail: MailSettings = MailSettings()
    live: LiveSettings = LiveSettings()
    monitor: MonitorSettings = MonitorSettings()
    logging: LoggingSettings = LoggingSettings()
    scheduler: SchedulerSettings = SchedulerSettings()
    metrics: MetricsSettings = MetricsSettings()
    audit: AuditSettings = AuditSettings()
    reports: ReportSettings = ReportSettings()
    alerts: AlertSettings = AlertSettings()

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @model_validator(mode="after")
    def _unique_bridges(self) -> Settings:
        names = [b.name for b in self.bridges]
        if len(names) != len(set(names)):
            raise ValueError("bridges: names must be unique")
        if sum(1 for b in self.bridges if b.default) > 1:
            raise ValueError("bridges: at most one bridge may set default = true")
        return self

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def default_bridge(self) -> BridgeSettings | None:
        for bridge in self.bridges:
            if bridge.default:
                return bridge
        return self.bridges[0] if self.bridges else None

    def bridge(self, name: str | None) -> BridgeSettings | None:
        if name is None:
            return self.default_bridge()
        return next((b for b in self.bridges if b.name == name), None)

    def path(self, value: str) -> Path:
        """Resolve a path setting: absolute as given; relative to the working directory (data folders),
        or to the project checkout for shipped files (``config/…``) when not found there."""
        p = Path(value)
        if p.is_absolute():
            return p
        here = Path.cwd() / p
        if here.exists() or not (PROJECT_ROOT / p).exists():
            return here
        return PROJECT_ROOT / p

    def with_overrides(self, **changes: Any) -> Settings:
        """A copy with top-level or dotted keys replaced (tests): ``with_overrides(**{"web.port": 1})``."""
        raw = self.model_dump()
        for dotted, value in changes.items():
            _set_dotted(raw, dotted.split("."), value)
        return _validate(raw)


def _set_dotted(raw: dict[str, Any], parts: list[str], value: Any) -> None:
    target = raw
    for part in parts[:-1]:
        target = target.setdefault(part, {})
    target[parts[-1]] = value


def _parse_env_value(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def _sections() -> dict[str, type[BaseModel]]:
    out: dict[str, type[BaseModel]] = {}
    for name, field in Settings.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            out[name] = annotation
    return out


def apply_env_overrides(raw: dict[str, Any], environ: Mapping[str, str]) -> dict[str, Any]:
    """Fold ``CONFBRIDGE_*`` variables into *raw*; an unknown key is an error naming the variable."""
    sections = _sections()
    top_level = {n for n in Settings.model_fields if n not in sections and n != "bridges"}
    for var, text in sorted(environ.items()):
        if not var.startswith(ENV_PREFIX) or var in _NOT_OVERRIDES:
            continue
        rest = var[len(ENV_PREFIX):].lower()
        if rest in top_level:
            raw[rest] = text
            continue
        for section, model in sections.items():
            if rest.startswith(section + "_"):
                key = rest[len(section) + 1:]
                if key not in model.model_fields:
                    raise SettingsError(f"{var}: unknown setting {section}.{key}")
                raw.setdefault(section, {})[key] = _parse_env_value(text)
                break
        else:
            raise SettingsError(f"{var}: unknown setting (no section or key named by it)")
    return raw


def _validate(raw: dict[str, Any]) -> Settings:
    try:
        return Settings.model_validate(raw)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = ".".join(str(p) for p in err["loc"]) or "(top level)"
            msg = "unknown key" if err["type"] == "extra_forbidden" else err["msg"]
            problems.append(f"{loc}: {msg}")
        raise SettingsError("invalid settings — " + "; ".join(problems)) from None


def load_settings(
    path: str | os.PathLike[str] | None = None, environ: Mapping[str, str] | None = None
) -> Settings:
    """Load settings from *path* (default ``$CONFBRIDGE_CONFIG`` or the embedded default) and the env."""
    env = os.environ if environ is None else environ
    config_path = Path(path or env.get("CONFBRIDGE_CONFIG") or DEFAULT_CONFIG)
    try:
        raw: dict[str, Any] = tomllib.loads(config_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SettingsError(f"CONFBRIDGE_CONFIG: file not found: {config_path}") from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{config_path}: not valid TOML: {exc}") from None
    raw = apply_env_overrides(raw, env)
    return _validate(raw)
