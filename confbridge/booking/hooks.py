"""Booking change listeners, called inside the booking transaction.

Other features react to booking changes without the booking service knowing them: the invitation outbox
queues e-mails in the same transaction (so they commit or roll back with the change), the launch engine
can wake up early.  Listeners must only touch the database session they are given — no network.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from sqlalchemy.orm import Session

from confbridge.booking.models import Meeting, Occurrence

ChangeKind = Literal[
    "created", "updated", "cancelled", "occurrence_updated", "occurrence_cancelled", "split",
    "approved", "rejected",
]


@dataclass
class BookingChange:
    kind: ChangeKind
    meeting: Meeting
    actor_id: int | None
    # Attendees (email, name) before the change: removed ones receive a CANCEL.
    previous_attendees: list[tuple[str, str]] = field(default_factory=list)
    occurrence: Occurrence | None = None
    # True when the change bumped SEQUENCE (time, recurrence, endpoints, location, cancellation).
    significant: bool = True
    # For "split": the new series that took over "this and following".
    new_meeting: Meeting | None = None
    # The endpoint contacts (email, name) before an "updated" change: those no longer booked get a CANCEL.
    previous_contacts: list[tuple[str, str]] = field(default_factory=list)


Listener = Callable[[Session, BookingChange], None]
_listeners: list[Listener] = []


def subscribe(listener: Listener) -> None:
    if listener not in _listeners:
        _listeners.append(listener)


def unsubscribe(listener: Listener) -> None:
    if listener in _listeners:
        _listeners.remove(listener)


def notify(session: Session, change: BookingChange) -> None:
    for listener in list(_listeners):
        listener(session, change)
