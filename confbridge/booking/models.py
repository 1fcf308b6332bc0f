"""Meetings, their attendees, their expanded occurrences and the endpoint slots they hold.

A meeting is the series (or a one-off): its first occurrence's start/end, its IANA zone and its RRULE.
Occurrences are materialised rows (every series ends inside the booking horizon), keyed by their
``original_start`` (the iCalendar RECURRENCE-ID) so a per-occurrence change or cancellation keeps its
identity.  ``EndpointSlot`` rows are what conflicts are checked against: one per (occurrence, endpoint)
holding the window ``[start - setup, end)``; PostgreSQL guards them with an exclusion constraint.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from confbridge import clock
from confbridge.auth.models import User
from confbridge.db import Base, UTCDateTime
from confbridge.directory.models import Endpoint


class MeetingStatus(StrEnum):
    PLANNED = "planned"
    CANCELLED = "cancelled"


class OccurrenceStatus(StrEnum):
    PLANNED = "planned"
    CANCELLED = "cancelled"


meeting_endpoints = Table(
    "meeting_endpoints",
    Base.metadata,
    Column("meeting_id", ForeignKey("meetings.id", ondelete="CASCADE"), primary_key=True),
    Column("endpoint_id", ForeignKey("endpoints.id"), primary_key=True),
)


meeting_co_organisers = Table(
    "meeting_co_organisers",
    Base.metadata,
    Column("meeting_id", ForeignKey("meetings.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
)


class Meeting(Base):
    __tablename__ = "meetings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[str] = mapped_column(String(255), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    organiser_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    host_endpoint_id: Mapped[int | None] = mapped_column(ForeignKey("endpoints.id"))
    bridge_name: Mapped[str | None] = mapped_column(String(64))
    start: Mapped[datetime] = mapped_column(UTCDateTime)  # first occurrence (DTSTART)
    end: Mapped[datetime] = mapped_column(UTCDateTime)
    timezone: Mapped[str] = mapped_column(String(64))
    setup_minutes: Mapped[int] = mapped_column(Integer)
    pin: Mapped[str | None] = mapped_column(String(16))
    # Everyone but the host joins with the microphone muted on the bridge (audioRxMuted).
    join_muted: Mapped[bool] = mapped_column(Boolean, default=False)
    # The MCU numericId participants dial in with, unique among the conferences overlapping this
    # meeting's (booking.dial_in_range), and its SIP URI (booking.dial_in_domain) as printed in invitations.
    dial_in_number: Mapped[str | None] = mapped_column(String(16))
    dial_in_uri: Mapped[str | None] = mapped_column(String(255))
    # Participants outside the directory dialled at launch: [{"name", "address", "protocol", "uplink"}],
    # at most one uplink (the higher-level conference relayed).  Not conflict-checked.
    external_participants: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    rrule: Mapped[str | None] = mapped_column(String(500))
    exdates: Mapped[list[str]] = mapped_column(JSON, default=list)  # UTC ISO instants
    status: Mapped[str] = mapped_column(String(20), default=MeetingStatus.PLANNED)
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    # "skip" (occurrences on a public holiday become EXDATEs) or "keep" (booking.holidays).
    on_holidays: Mapped[str] = mapped_column(String(10), default="skip", server_default="skip")
    # Set on the second half of a "this and following" split: the series it was cut from.
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("meetings.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now, onupdate=clock.now)
    # Booking on behalf and approval (booking.organisers, booking.approval).  ``booked_by_id`` is who
    # made the booking (NULL on rows older than it: the organiser); ``approval`` is NULL when no booked
    # endpoint needs approval, else "pending" | "approved" | "rejected".
    booked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approval: Mapped[str | None] = mapped_column(String(20), index=True)
    approval_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approval_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    approval_reason: Mapped[str | None] = mapped_column(Text)

    organiser: Mapped[User] = relationship(lazy="joined", foreign_keys=[organiser_id])
    booked_by: Mapped[User | None] = relationship(lazy="selectin", foreign_keys=[booked_by_id])
    approval_by: Mapped[User | None] = relationship(lazy="selectin", foreign_keys=[approval_by_id])
    co_organisers: Mapped[list[User]] = relationship(
        secondary=meeting_co_organisers, lazy="selectin", order_by=User.id
    )
    host_endpoint: Mapped[Endpoint | None] = relationship(lazy="joined")
    endpoints: Mapped[list[Endpoint]] = relationship(
        secondary=meeting_endpoints, lazy="selectin", order_by=Endpoint.id
    )
    attendees: Mapped[list[Attendee]] = relationship(
        back_populates="meeting", cascade="all, delete-orphan", lazy="selectin", order_by="Attendee.id"
    )
    occurrences: Mapped[list[Occurrence]] = relationship(
        back_populates="meeting", cascade="all, delete-orphan", order_by="Occurrence.original_start"
    )

    @property
    def duration(self) -> timedelta:
        return self.end - self.start

    @property
    def is_series(self) -> bool:
        return bool(self.rrule)

    @property
    def endpoint_ids(self) -> list[int]:
        return [e.id for e in self.endpoints]

    @property
    def co_organiser_ids(self) -> list[int]:
        return [u.id for u in self.co_organisers]

    @property
    def dial_in(self) -> dict[str, str | None] | None:
        if not self.dial_in_number:
            return None
        return {"number": self.dial_in_number, "uri": self.dial_in_uri}


class Attendee(Base):
    __tablename__ = "attendees"
    __table_args__ = (UniqueConstraint("meeting_id", "email"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(254))
    name: Mapped[str] = mapped_column(String(200), default="")

    meeting: Mapped[Meeting] = relationship(back_populates="attendees")


class Occurrence(Base):
    __tablename__ = "occurrences"
    __table_args__ = (
        UniqueConstraint("meeting_id", "original_start"),
        Index("ix_occurrences_status_start", "status", "start"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    original_start: Mapped[datetime] = mapped_column(UTCDateTime)  # RECURRENCE-ID
    start: Mapped[datetime] = mapped_column(UTCDateTime)
    end: Mapped[datetime] = mapped_column(UTCDateTime)
    setup_minutes: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), default=OccurrenceStatus.PLANNED)
    # True when this occurrence was changed on its own (time moved): iCalendar needs a RECURRENCE-ID VEVENT.
    overridden: Mapped[bool] = mapped_column(Boolean, default=False)
    # Extra minutes granted live by a technician (the launch engine ends at end + extension).
    extension_minutes: Mapped[int] = mapped_column(Integer, default=0)
    # Bumped whenever this occurrence's time or status changes (RECURRENCE-ID VEVENT's SEQUENCE).
    sequence: Mapped[int] = mapped_column(Integer, default=0)

    meeting: Mapped[Meeting] = relationship(back_populates="occurrences")
    slots: Mapped[list[EndpointSlot]] = relationship(
        back_populates="occurrence", cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def window_start(self) -> datetime:
        return self.start - timedelta(minutes=self.setup_minutes)

    @property
    def effective_end(self) -> datetime:
        return self.end + timedelta(minutes=self.extension_minutes)

    @property
    def endpoint_ids(self) -> list[int]:
        return sorted(s.endpoint_id for s in self.slots)


class EndpointSlot(Base):
    """One endpoint held by one planned occurrence over ``[window_start, window_end)``."""

    __tablename__ = "endpoint_slots"
    __table_args__ = (
        UniqueConstraint("occurrence_id", "endpoint_id"),
        # Covering on PostgreSQL (migration 0016): availability and conflict probes read the index only.
        Index("ix_endpoint_slots_endpoint_window", "endpoint_id", "window_start", "window_end",
              postgresql_include=["occurrence_id", "meeting_id"]),
        Index("ix_endpoint_slots_bridge_window", "bridge_name", "window_start", "window_end"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    occurrence_id: Mapped[int] = mapped_column(ForeignKey("occurrences.id", ondelete="CASCADE"))
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("endpoints.id"))
    bridge_name: Mapped[str | None] = mapped_column(String(64))
    window_start: Mapped[datetime] = mapped_column(UTCDateTime)
    window_end: Mapped[datetime] = mapped_column(UTCDateTime)

    occurrence: Mapped[Occurrence] = relationship(back_populates="slots")
