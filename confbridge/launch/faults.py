"""How the launch engine reacts to each kind of bridge error, and the alarms it raises."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy.orm import Session

from confbridge.alarms.service import clear_alarm, raise_alarm
from confbridge.bridges.base import (
    AuthError,
    BridgeError,
    CapacityExceeded,
    NotFound,
    OutcomeUnknown,
    TransientError,
)


class FaultKind(StrEnum):
    AUTH = "auth"  # never retried
    CAPACITY = "capacity"  # retried slowly (no storm)
    UNREACHABLE = "unreachable"  # nothing happened: retried within the deadline
    UNKNOWN_OUTCOME = "unknown_outcome"  # maybe happened: re-read the bridge before acting again
    NOT_FOUND = "not_found"
    FATAL = "fatal"  # bad data, a foreign object under our name…: not retried


def classify(exc: BaseException) -> FaultKind:
    if isinstance(exc, AuthError):
        return FaultKind.AUTH
    if isinstance(exc, CapacityExceeded):
        return FaultKind.CAPACITY
    if isinstance(exc, OutcomeUnknown):
        return FaultKind.UNKNOWN_OUTCOME
    if isinstance(exc, TransientError):
        return FaultKind.UNREACHABLE
    if isinstance(exc, NotFound):
        return FaultKind.NOT_FOUND
    return FaultKind.FATAL


def describe(exc: BaseException) -> str:
    """A one-line reason for the timeline (driver messages never hold credentials)."""
    if isinstance(exc, BridgeError):
        return exc.message
    return f"{type(exc).__name__}: {exc}"


def bridge_alarm(session: Session, kind: FaultKind, bridge: str, reason: str, *, run_id: int | None,
                 meeting_id: int | None) -> None:
    """Raise the bridge-level alarm for *kind* (one open alarm per bridge and kind)."""
    if kind == FaultKind.AUTH:
        raise_alarm(session, "bridge_auth", f"bridge_auth:{bridge}",
                    "alarm.bridge_auth", {"bridge": bridge, "reason": reason},
                    severity="critical", bridge_name=bridge, conference_id=run_id, meeting_id=meeting_id)
    elif kind == FaultKind.CAPACITY:
        raise_alarm(session, "bridge_capacity", f"bridge_capacity:{bridge}",
                    "alarm.bridge_capacity", {"bridge": bridge, "reason": reason},
                    bridge_name=bridge, conference_id=run_id, meeting_id=meeting_id)
    elif kind in (FaultKind.UNREACHABLE, FaultKind.UNKNOWN_OUTCOME):
        raise_alarm(session, "bridge_unreachable", f"bridge_unreachable:{bridge}",
                    "alarm.bridge_unreachable", {"bridge": bridge, "reason": reason},
                    severity="critical", bridge_name=bridge, conference_id=run_id, meeting_id=meeting_id)


def bridge_ok(session: Session, bridge: str) -> None:
    """A call succeeded: the bridge is reachable again."""
    clear_alarm(session, f"bridge_unreachable:{bridge}")
