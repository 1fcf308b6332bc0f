"""Factories for directory and booking objects used across tests."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from confbridge.auth.models import User
from confbridge.booking import service
from confbridge.booking.models import Meeting
from confbridge.booking.validation import MeetingInput
from confbridge.directory.service import create_endpoint
from confbridge.settings import Settings


def make_endpoints(session: Session, n: int, site: str = "TP Rạch Giá", prefix: str = "UBND huyện") -> list[int]:
    ids = []
    for i in range(n):
        ep = create_endpoint(session, {
            "name": f"{prefix} {i + 1:03d}", "site": site, "protocol": "sip",
            "address": f"ep{i + 1}-{abs(hash(prefix)) % 10000}@vc.kiengiang.example", "seats": 30,
        }, None)
        ids.append(ep.id)
    return ids


def book(
    session: Session, settings: Settings, user: User, *, title: str = "Giao ban tuần", start: datetime,
    end: datetime, endpoint_ids: list[int], **kwargs: Any,
) -> Meeting:
    return service.create_meeting(session, settings, user, MeetingInput(
        title=title, start=start, end=end, endpoint_ids=endpoint_ids, **kwargs,
    ))


def seed_endpoints(factory: sessionmaker[Session], n: int = 5) -> list[int]:
    with factory.begin() as s:
        return make_endpoints(s, n)
