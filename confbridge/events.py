"""Domain events: queued on a session, published on the bus only after that session commits.

Services call :func:`queue_event`; nothing reaches the bus if the transaction rolls back.  The bus itself
(in-process or Redis) lives in :mod:`confbridge.live.bus`; this module only knows the seam.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import event
from sqlalchemy.orm import Session

EVENT_TYPES = ("endpoint.status", "participant.state", "conference.state", "alarm")


@dataclass(frozen=True)
class Event:
    type: str
    payload: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"type": self.type, **self.payload}


class Publisher(Protocol):
    def publish(self, event: Event) -> None: ...


class _NullPublisher:
    def publish(self, event: Event) -> None:
        return None


_publisher: Publisher = _NullPublisher()


def set_publisher(publisher: Publisher | None) -> None:
    """Install the process-wide publisher (the bus); ``None`` drops events."""
    global _publisher
    _publisher = publisher if publisher is not None else _NullPublisher()


def get_publisher() -> Publisher:
    return _publisher


def queue_event(session: Session, type_: str, **payload: Any) -> None:
    if type_ not in EVENT_TYPES:
        raise ValueError(f"unknown event type {type_!r}")
    session.info.setdefault("pending_events", []).append(Event(type_, payload))


@event.listens_for(Session, "after_commit")
def _publish_after_commit(session: Session) -> None:
    pending: list[Event] = session.info.pop("pending_events", [])
    for ev in pending:
        try:
            _publisher.publish(ev)
        except Exception:  # a bus hiccup must never undo a committed change
            import logging

            logging.getLogger(__name__).exception("publishing %s failed", ev.type)


@event.listens_for(Session, "after_rollback")
def _drop_after_rollback(session: Session) -> None:
    session.info.pop("pending_events", None)
