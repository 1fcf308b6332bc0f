"""Page access: anonymous visitors are sent to sign-in, the wrong role gets the 403 page."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

from flask import redirect, request, url_for
from flask_babel import gettext as _

from confbridge.auth import access
from confbridge.auth.web import optional_user
from confbridge.errors import Forbidden

F = TypeVar("F", bound=Callable[..., Any])
SECRETARY_ROLES = access.BOOKERS
ANY_ROLE = access.ANY_ROLE


def role_label(role: str) -> str:
    labels = {"secretary": _("Thư ký"), "admin": _("Quản trị viên"), "technician": _("Kỹ thuật viên"),
              "approver": _("Người phê duyệt")}
    return labels.get(role, role)


def safe_next(target: str | None) -> str | None:
    """*target* when it is a path on this site ("/calendar?week=1"), else None (go home).

    Browsers and Werkzeug drop TAB/CR/LF inside a URL and read "\\" as "/", so "/%09/evil.example/" would
    leave as "//evil.example/" (another site) and "/%0a/x" would break the Location header: any control
    character, space or backslash refuses the target, and what remains must be a bare path.
    """
    if not target or len(target) > 2000:
        return None
    if any(ord(ch) < 0x21 or ord(ch) == 0x7F for ch in target) or "\\" in target:
        return None
    if not target.startswith("/") or target.startswith("//"):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def page_roles(*roles: str) -> Callable[[F], F]:
    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            user = optional_user()
            if user is None:
                return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
            if roles and user.role not in roles:
                names = ", ".join(role_label(r) for r in roles)
                raise Forbidden(_("Trang này chỉ dành cho: %(roles)s.", roles=names))
            return view(*args, **kwargs)

        return cast(F, wrapper)

    return decorate
