"""Endpoints as JSON.

The convention of every package: JSON shapes are ``x_dict(...)`` functions in the package's
``serialise.py``; views call them, services return domain objects.
"""

from __future__ import annotations

from typing import Any

from confbridge.directory.models import Endpoint


def endpoint_dict(endpoint: Endpoint) -> dict[str, Any]:
    return {
        "id": endpoint.id, "name": endpoint.name, "site": endpoint.site.name, "site_id": endpoint.site_id,
        "kind": endpoint.kind, "protocol": endpoint.protocol, "address": endpoint.address,
        "seats": endpoint.seats, "enabled": endpoint.enabled,
        "contact_name": endpoint.contact_name, "contact_email": endpoint.contact_email,
        "contact_phone": endpoint.contact_phone,
        "requires_approval": endpoint.requires_approval,
    }
