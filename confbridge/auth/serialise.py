"""Accounts as JSON.

The convention of every package: JSON shapes are ``x_dict(...)`` functions in the package's
``serialise.py``; views call them, services return domain objects.
"""

from __future__ import annotations

from typing import Any

from confbridge.auth.models import User


def user_dict(user: User) -> dict[str, Any]:
    return {"id": user.id, "username": user.username, "email": user.email, "display_name": user.display_name,
            "role": user.role, "active": user.active, "locale": user.locale, "timezone": user.timezone}
