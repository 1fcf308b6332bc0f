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

from confbridge.db import make_engine, make_session_factory
from confbridge.resources import resource_dir
from confbridge.settings import Settings

WEB_ROOT = resource_dir("web")

# Feature modules that contribute REST blueprints (``blp``) and/or page blueprints (``bp``).
API_MODULES = (
    "confbridge.auth.api",
    "confbridge.directory.api",
    "confbridge.booking.api",
    "confbridge.alarms.api",
    "confbridge.launch.api",
    "confbridge.invites.api",
    "confbridge.live.api",
)
PAGE_MODULES = (
    "confbridge.ui.views",
    "confbridge.invites.feeds",
    "confbridge.live.console",
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
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(key)
    return key


def create_app(settings: Settings, *, engine: Engine | None = None, testing: bool = False) -> Flask:
    app = Flask(
        "confbridge",
        template_folder=str(WEB_ROOT / "templates"),
        static_folder=str(WEB_ROOT / "static"),
    )
    engine = engine or make_engine(settings.database.url, settings.database.echo)
    app.extensions["confbridge"] = AppState(settings, engine, make_session_factory(engine))
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
    api = Api(app, spec_kwargs={
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
        "security": [{"bearer": []}],
    })

    from confbridge.api.common import install_request_handling

    install_request_handling(app)
    from confbridge.invites.hooks import install as install_invitations

    # Booking changes made through this app queue invitations in the same transaction.
    install_invitations(settings)
    for name in API_MODULES:
        api.register_blueprint(importlib.import_module(name).blp)
    for name in PAGE_MODULES:
        importlib.import_module(name).init_app(app)
    return app


def app_state(app: Flask) -> AppState:
    state: AppState = app.extensions["confbridge"]
    return state
