"""The Flask application factory.  No side effects at import; ``create_app`` neither migrates nor
connects to a bridge."""

from __future__ import annotations

import importlib
import os
import secrets
from dataclasses import dataclass

from flask import Flask
from flask_smorest import Api
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.middleware.proxy_fix import ProxyFix

from confbridge.files import private_dir
from confbridge.resources import resource_dir
from confbridge.runtime import Runtime, open_runtime
from confbridge.settings import Settings

WEB_ROOT = resource_dir("web")

# Feature modules that contribute REST blueprints (``blp``) and/or page blueprints (``bp``).
API_MODULES = (
    "confbridge.auth.api",
    "confbridge.directory.api",
    "confbridge.booking.api",
    "confbridge.alarms.api",
    "confbridge.launch.api",
    "confbridge.launch.preflight_api",
    "confbridge.invites.api",
    "confbridge.live.api",
    "confbridge.reports.api",
    "confbridge.reports.audit_api",
    "confbridge.directory.groups_api",
    "confbridge.booking.templates_api",
    "confbridge.maintenance.api",
)
PAGE_MODULES = (
    "confbridge.ui.views",
    "confbridge.invites.feeds",
    "confbridge.live.console",
    "confbridge.reports.views",
    "confbridge.reports.audit_views",
    "confbridge.ui.preset_views",
)


@dataclass
class AppState:
    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]


def _secret_key(settings: Settings) -> str:
    path = settings.path(settings.web.secret_key_file)
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    private_dir(path.parent)
    key = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(key)
    return key


def create_app(settings: Settings, *, engine: Engine | None = None, testing: bool = False,
               runtime: Runtime | None = None) -> Flask:
    """The app for *runtime* (the process's composition root); without one, a ``web`` runtime is opened
    here (on *engine* when given) — logging is then left to the host when *testing*."""
    if runtime is None:
        runtime = open_runtime(settings, "web", engine=engine, configure_logging=not testing)
    app = Flask(
        "confbridge",
        template_folder=str(WEB_ROOT / "templates"),
        static_folder=str(WEB_ROOT / "static"),
    )
    app.extensions["confbridge"] = AppState(settings, runtime.engine, runtime.session_factory)
    app.extensions["confbridge_runtime"] = runtime
    app.config.update(
        SECRET_KEY=_secret_key(settings),
        TESTING=testing,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.web.tls,
        SESSION_COOKIE_NAME="confbridge_session",
        PERMANENT_SESSION_LIFETIME=12 * 3600,
        MAX_CONTENT_LENGTH=2 * 1024 * 1024,
        JSON_SORT_KEYS=False,
        API_TITLE="confbridge",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api/v1",
        OPENAPI_JSON_PATH="openapi.json",
        WTF_CSRF_CHECK_DEFAULT=False,
        WTF_CSRF_TIME_LIMIT=None,
    )
    from confbridge.auth.ratelimit import install as install_sign_in_guard

    install_sign_in_guard(app, settings.web.login_attempts_per_minute, settings.web.concurrent_password_checks)
    api = Api(app, spec_kwargs={
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
        "security": [{"bearer": []}],
    })

    from confbridge.api.common import install_request_handling, install_unit_of_work

    install_request_handling(app)
    install_unit_of_work(app)
    from confbridge.health import init_app as install_health

    install_health(app)  # /healthz, /readyz, /metrics and the request-duration histogram
    from confbridge.request_log import install_request_log

    install_request_log(app)
    for name in API_MODULES:
        api.register_blueprint(importlib.import_module(name).blp)
    for name in PAGE_MODULES:
        importlib.import_module(name).init_app(app)
    if settings.web.trusted_proxies:
        # Behind nginx: the client's address and scheme come from the proxy's X-Forwarded-* headers,
        # trusted from exactly that many hops (a client cannot forge them past the last proxy).
        hops = settings.web.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
    return app


def app_state(app: Flask) -> AppState:
    state: AppState = app.extensions["confbridge"]
    return state
