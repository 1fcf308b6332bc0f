"""Sites and endpoints (điểm cầu)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from confbridge import clock
from confbridge.db import Base, UTCDateTime

PROTOCOLS = ("sip", "h323")


class Site(Base):
    __tablename__ = "sites"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)

    endpoints: Mapped[list[Endpoint]] = relationship(back_populates="site")


class Endpoint(Base):
    __tablename__ = "endpoints"
    __table_args__ = (
        CheckConstraint("protocol IN ('sip', 'h323')", name="protocol"),
        CheckConstraint("seats >= 0", name="seats"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40), default="")
    protocol: Mapped[str] = mapped_column(String(8))
    address: Mapped[str] = mapped_column(String(255), unique=True)
    seats: Mapped[int] = mapped_column(Integer, default=0)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # A booking that includes this endpoint waits for an approver (booking.approval).
    requires_approval: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    # The room's local technician: receives the invitations (optional attendee) and the reminder e-mail.
    contact_name: Mapped[str] = mapped_column(String(200), default="", server_default="")
    contact_email: Mapped[str] = mapped_column(String(254), default="", server_default="")
    contact_phone: Mapped[str] = mapped_column(String(40), default="", server_default="")

    site: Mapped[Site] = relationship(back_populates="endpoints", lazy="joined")

    @property
    def site_name(self) -> str:
        return self.site.name
