"""The one rule for a chosen list of endpoints: each must exist and be enabled (a booking, a group)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from confbridge.directory.models import Endpoint
from confbridge.errors import FieldError


def chosen_endpoints(session: Session, ids: list[int], errors: list[FieldError]) -> list[Endpoint]:
    """The endpoints of *ids* in that order; unknown or disabled ones are named in *errors* at
    ``endpoint_ids``."""
    if not ids:
        return []
    found = {e.id: e for e in session.scalars(select(Endpoint).where(Endpoint.id.in_(ids)))}
    missing = [i for i in ids if i not in found]
    disabled = [found[i].name for i in ids if i in found and not found[i].enabled]
    if missing:
        errors.append(FieldError.of("endpoint_ids", "unknown", ids=", ".join(map(str, missing))))
    elif disabled:
        errors.append(FieldError.of("endpoint_ids", "disabled", names=", ".join(disabled)))
    return [found[i] for i in ids if i in found]
