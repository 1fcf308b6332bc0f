"""Who is calling: the signed-in user of a request (API token or browser session) and role checks.

Views ask :func:`current_user` / :func:`optional_user`, and guard routes with :func:`roles_required`
(role groups and visibility rules are in ``confbridge.auth.access``).  This sits in ``auth`` so the
shared web plumbing (``confbridge.api.common``) needs no feature package.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar, cast

from flask import g, session

from confbridge.api.common import bearer_token, db
from confbridge.auth.models import User
from confbridge.errors import DomainError, Forbidden, Unauthorized
from confbridge.i18n import N_

F = TypeVar("F", bound=Callable[..., Any])


def _load_user() -> User | None:
    if "user" in g:
        return cast(User | None, g.user)
    from confbridge.auth.service import resolve_token

    user: User | None = None
    token = bearer_token()
    if token is not None:
        user, _row = resolve_token(db(), token, "api")
        g.auth_via = "token"
    else:
        from confbridge.auth.sessions import session_user_id

        user_id = session.get("user_id")
        # The cookie is signed, but only a live server-side session row makes it a sign-in: a cookie
        # replayed after sign-out (or a password/role change, a lock) is anonymous.
        if user_id is not None and session_user_id(db(), session.get("sid")) == user_id:
            candidate = db().get(User, user_id)
            if (
                candidate is not None and candidate.active
                and session.get("cv") == candidate.credentials_version
            ):
                user = candidate
                g.auth_via = "session"
    g.user = user
    return user


def current_user() -> User:
    user = _load_user()
    if user is None:
        raise Unauthorized.said(N_("Cần đăng nhập."))
    return user


def optional_user() -> User | None:
    try:
        return _load_user()
    except DomainError:
        return None


def roles_required(*roles: str) -> Callable[[F], F]:
    """Allow the view to callers holding one of *roles* (any signed-in user when none given)."""

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            user = current_user()
            if roles and user.role not in roles:
                raise Forbidden.said(N_("Thao tác này cần vai trò: %(roles)s."), roles=" / ".join(roles))
            return view(*args, **kwargs)

        return cast(F, wrapper)

    return decorate


