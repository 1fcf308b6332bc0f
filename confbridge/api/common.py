"""The web plumbing every view shares: the request's database session and its unit of work, settings,
CSRF, error bodies.  The caller and role checks are ``confbridge.auth.web`` (this module imports no
feature package).

Views are thin: parse (marshmallow schema), call one service function, serialise.  They never commit:
:func:`install_unit_of_work` commits the request's session once the view returned a successful answer to
an unsafe request (POST, PUT, PATCH, DELETE) and rolls back otherwise (errors, every GET).  Events
queued by services are published by that commit (see ``confbridge.events``).  The one deliberate
exception is the launch engine (``launch/service.py``, ``launch/steps.py``): it commits mid-request so a
decision is durable before the bridge hears of it, and later changes are committed by the boundary.

Authentication: ``Authorization: Bearer <token>`` (API tokens), or the signed-in browser session (the
web pages' own JavaScript); session-authenticated unsafe requests must carry the CSRF token
(``X-CSRFToken`` header), bearer requests need none (no ambient credential).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, current_app, g, jsonify, request, session
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError, CSRFProtect
from sqlalchemy.orm import Session
from werkzeug.exceptions import HTTPException, UnprocessableEntity
from werkzeug.routing import IntegerConverter, Map

from confbridge.api.schema_errors import schema_field_errors
from confbridge.api.validators import DB_INT_MAX
from confbridge.errors import DomainError, generic_field_message, invalid_summary
from confbridge.i18n import negotiate
from confbridge.public_urls import live_connect_sources
from confbridge.settings import Settings

log = logging.getLogger(__name__)
F = TypeVar("F", bound=Callable[..., Any])
csrf = CSRFProtect()
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def get_settings() -> Settings:
    settings: Settings = current_app.extensions["confbridge"].settings
    return settings


def db() -> Session:
    """The request's session (one unit of work per request); closed at teardown."""
    if "db" not in g:
        g.db = current_app.extensions["confbridge"].session_factory()
    session: Session = g.db
    return session


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


def _error_response(exc: DomainError) -> ResponseReturnValue:
    response = jsonify(exc.as_dict(negotiate(request.headers.get("Accept-Language"))))
    response.status_code = exc.status
    if exc.status == 401:
        response.headers["WWW-Authenticate"] = "Bearer"
    if exc.status == 429 and "retry_after" in exc.extra:
        response.headers["Retry-After"] = str(exc.extra["retry_after"])
    return response


def _is_api_request() -> bool:
    return request.path.startswith("/api/")


class RowIdConverter(IntegerConverter):
    """``<int:…>`` in URLs: at most the largest database INTEGER, so ``/meetings/99999999999999999999``
    is an unknown page (404) instead of an overflow in the database driver (500)."""

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", DB_INT_MAX)
        super().__init__(map, *args, **kwargs)


def install_unit_of_work(app: Flask) -> None:
    """One unit of work per request: commit after a successful unsafe request, else roll back.

    Runs after the view (``after_request``), before the session is closed at teardown; a failing
    commit (a constraint, a lost connection) becomes the error answer instead of a false success.
    """

    @app.after_request
    def _commit_or_roll_back(response: Any) -> Any:
        session_ = g.get("db")
        if session_ is None:
            return response
        if request.method in UNSAFE_METHODS and response.status_code < 400:
            session_.commit()
        else:
            session_.rollback()
        return response


def install_request_handling(app: Flask) -> None:
    # Before any blueprint is registered: the rules pick their converters when they are added.
    app.url_map.converters["int"] = RowIdConverter
    csrf.init_app(app)

    @app.before_request
    def _csrf_for_sessions() -> None:
        if request.method not in UNSAFE_METHODS or bearer_token() is not None:
            return
        # An API call without the session's user carries no ambient credential to forge (it is
        # anonymous, or brings its credentials in the body, like POST /api/v1/auth/token).
        if _is_api_request() and session.get("user_id") is None:
            return
        csrf.protect()

    @app.teardown_request
    def _close_session(_exc: BaseException | None) -> None:
        session_ = g.pop("db", None)
        if session_ is not None:
            session_.rollback()
            session_.close()

    @app.errorhandler(DomainError)
    def _domain_error(exc: DomainError) -> ResponseReturnValue:
        if not _is_api_request():
            from flask import render_template
            from flask_babel import get_locale  # pages speak the user's language

            try:
                return render_template("error.html", error=exc,
                                       error_message=exc.text(str(get_locale() or "vi"))), exc.status
            except Exception:  # an error page must never fail: fall back to the JSON body
                log.exception("rendering error.html failed")
        return _error_response(exc)

    @app.errorhandler(UnprocessableEntity)
    def _unprocessable(exc: UnprocessableEntity) -> ResponseReturnValue:
        # webargs/marshmallow validation failures: {"json": {"field": ["message"]}, "query": {...}}; their
        # English messages become codes rendered in the caller's language, in the same shape as a
        # service's InvalidInput.
        data = getattr(exc, "data", None) or {}
        messages = data.get("messages", {}) if isinstance(data, dict) else {}
        locale = negotiate(request.headers.get("Accept-Language"))
        errors = [{"field": e.field, "code": e.code, **e.params,
                   "message": generic_field_message(locale, e.code, **e.params)}
                  for e in schema_field_errors(messages if isinstance(messages, dict) else {})]
        body = {"error": "invalid", "message": invalid_summary(locale, [e["field"] for e in errors]),
                "fields": {e["field"]: e["message"] for e in errors}, "errors": errors}
        return jsonify(body), 422

    @app.errorhandler(CSRFError)
    def _csrf_error(exc: CSRFError) -> ResponseReturnValue:
        if _is_api_request():
            return jsonify({"error": "csrf", "message": exc.description}), 400
        from flask import render_template
        from flask_babel import gettext  # pages speak the user's language (confbridge.ui.i18n selects it)

        page_error = DomainError(gettext("Phiên làm việc của biểu mẫu đã hết hạn; hãy tải lại trang và thử lại."))
        page_error.status = 400
        return render_template("error.html", error=page_error), 400

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> ResponseReturnValue:
        if _is_api_request():
            return jsonify({"error": (exc.name or "error").lower().replace(" ", "_"),
                            "message": exc.description}), exc.code or 500
        return exc

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> ResponseReturnValue:
        if isinstance(exc, HTTPException):
            return _http_error(exc)
        log.exception("unhandled error on %s %s", request.method, request.path)
        if _is_api_request():
            return jsonify({"error": "internal", "message": "internal error; it has been logged"}), 500
        return "Internal error", 500

    @app.after_request
    def _security_headers(response: Any) -> Any:
        headers = response.headers
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("X-Frame-Options", "DENY")
        connect = " ".join(live_connect_sources(get_settings()))
        headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            f"connect-src 'self' {connect}; frame-ancestors 'none'; base-uri 'self'; form-action 'self'",
        )
        if get_settings().web.tls:
            headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        return response
