"""Fixtures for the invitation tests: a small directory, a booking helper that goes through the real
booking service (so the hooks fire as in production), and the invitation hooks installed."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from confbridge import clock
from confbridge.auth.models import User
from confbridge.booking import service
from confbridge.booking.models import Meeting
from confbridge.booking.validation import MeetingInput
from confbridge.db import unit_of_work
from confbridge.directory.models import Endpoint, Site
from confbridge.invites import hooks
from confbridge.invites.models import OutboxMessage
from confbridge.settings import Settings


@pytest.fixture
def invites(settings: Settings) -> Iterator[None]:
    hooks.install(settings)
    yield
    hooks.uninstall()


@pytest.fixture
def endpoints(session_factory: sessionmaker[Session]) -> list[int]:
    """Three endpoints of two sites; the first is the provincial host room."""
    with unit_of_work(session_factory) as s:
        province = Site(name="UBND tỉnh Kiên Giang")
        district = Site(name="UBND huyện Phú Quốc")
        rows = [
            Endpoint(name="Phòng họp trực tuyến UBND tỉnh", site=province, protocol="sip",
                     address="sip:tinh@127.0.0.1", kind="room"),
            Endpoint(name="Điểm cầu huyện Phú Quốc", site=district, protocol="sip",
                     address="sip:phuquoc@127.0.0.1", kind="room"),
            Endpoint(name="Điểm cầu xã Dương Tơ", site=district, protocol="h323",
                     address="10.0.0.7@127.0.0.1", kind="room"),
        ]
        s.add_all(rows)
        s.flush()
        return [e.id for e in rows]


ALICE = ("an.nguyen@ubnd.example", "Nguyễn Văn An")
BINH = ("binh.tran@ubnd.example", "Trần Thị Bình")
CHI = ("chi.le@ubnd.example", "Lê Minh Chi")


@dataclass
class Booker:
    """Calls the real booking service, one committed unit of work per call (like one request)."""

    factory: sessionmaker[Session]
    settings: Settings
    actor_id: int
    endpoint_ids: list[int]

    def _actor(self, s: Session) -> User:
        user = s.get(User, self.actor_id)
        assert user is not None
        return user

    def create(self, start: datetime, end: datetime, **kw: Any) -> int:
        data = {"title": "Giao ban tuần", "endpoint_ids": self.endpoint_ids,
                "host_endpoint_id": self.endpoint_ids[0], "attendees": [ALICE, BINH],
                "description": "Báo cáo tình hình kinh tế - xã hội tuần.", "pin": "2468", **kw}
        with unit_of_work(self.factory) as s:
            meeting = service.create_meeting(s, self.settings, self._actor(s),
                                             MeetingInput(start=start, end=end, **data))
            return meeting.id

    def update(self, meeting_id: int, **changes: Any) -> None:
        with unit_of_work(self.factory) as s:
            service.update_meeting(s, self.settings, self._actor(s), service.get_meeting(s, meeting_id),
                                   changes)

    def move_occurrence(self, meeting_id: int, original: datetime, start: datetime, end: datetime) -> None:
        with unit_of_work(self.factory) as s:
            service.update_occurrence(s, self.settings, self._actor(s), service.get_meeting(s, meeting_id),
                                      original, service.OccurrenceChange(start=start, end=end))

    def cancel_occurrence(self, meeting_id: int, original: datetime) -> None:
        with unit_of_work(self.factory) as s:
            service.cancel_occurrence(s, self.settings, self._actor(s), service.get_meeting(s, meeting_id),
                                      original)

    def cancel(self, meeting_id: int) -> None:
        with unit_of_work(self.factory) as s:
            service.cancel_meeting(s, self.settings, self._actor(s), service.get_meeting(s, meeting_id))

    def meeting(self, meeting_id: int) -> Meeting:
        """The meeting, loaded and detached (the session is closed: SQLite takes its write lock on BEGIN)."""
        with self.factory() as s:
            meeting = s.get(Meeting, meeting_id)
            assert meeting is not None
            for occ in meeting.occurrences:
                _ = occ.slots
            _ = meeting.attendees, meeting.endpoints, meeting.organiser, meeting.host_endpoint
            if meeting.host_endpoint is not None:
                _ = meeting.host_endpoint.site
            for endpoint in meeting.endpoints:
                _ = endpoint.site
            return meeting

    def outbox(self, meeting_id: int | None = None) -> list[OutboxMessage]:
        with self.factory() as s:
            from sqlalchemy import select

            query = select(OutboxMessage).order_by(OutboxMessage.id)
            if meeting_id is not None:
                query = query.where(OutboxMessage.meeting_id == meeting_id)
            return list(s.scalars(query))


@pytest.fixture
def booker(frozen_clock: clock.FrozenClock, session_factory: sessionmaker[Session], settings: Settings,
           secretary: Any, endpoints: list[int], invites: None) -> Booker:
    """Books as the secretary "thuky"; time is frozen first (Mon 2026-11-30 07:00 in Hà Nội) so the
    users' API tokens are issued in the same frozen time."""
    return Booker(session_factory, settings, secretary.id, endpoints)


def calendar_part(msg: EmailMessage) -> tuple[bytes, str]:
    """The text/calendar alternative's bytes and its method parameter."""
    for part in msg.walk():
        if part.get_content_type() == "text/calendar":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload, str(part.get_param("method"))
    raise AssertionError("no text/calendar part")


def attachment(msg: EmailMessage) -> bytes:
    for part in msg.iter_attachments():
        if part.get_filename() == "invite.ics":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload
    raise AssertionError("no invite.ics attachment")
