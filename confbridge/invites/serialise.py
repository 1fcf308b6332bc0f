"""Calendar feeds as JSON.

The convention of every package: JSON shapes are ``x_dict(...)`` functions in the package's
``serialise.py``; views call them, services return domain objects.
"""

from __future__ import annotations

from typing import Any

from confbridge.auth.models import ApiToken
from confbridge.invites.subscriptions import FeedTarget


def feed_dict(row: ApiToken) -> dict[str, Any]:
    feed = FeedTarget.of(row)
    return {"id": row.id, "kind": feed.kind, "target": feed.target, "created_at": row.created_at.isoformat(),
            "revoked": row.revoked, "owner": row.user.username}
