"""Deterministic names for objects confbridge creates on a bridge.

The launch engine derives every MCU name from the occurrence it launches, so a retry after a crash finds
(and adopts) what it created instead of creating a duplicate.  These functions are pure: same input, same
name, on every machine and in every process.

The Cisco MCU limits strings to 31 characters and is safest with ASCII, so names are
``cb-<meeting id>-<UTC start as yyyymmddThhmmZ>`` (e.g. ``cb-1234-20261201T0030Z``) for conferences and
``cb-ep-<endpoint id>`` for participants.  The ``cb-`` prefix marks a name as ours (``is_ours``).
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime

PREFIX = "cb-"
MAX_NAME_LENGTH = 31
# Dial addresses (SIP URIs, H.323 aliases/E.164) may be longer than names: the Codian-era guides
# (TANDBERG API 3.0) say "< 32 chars", but API 2.9 annotates address fields as string(63) (e.g. gateway
# addresses) and SIP URIs of real endpoints routinely exceed 31 characters.  Inferred, not confirmed for
# participant.add: a device that refuses a long address answers fault 35/InvalidRequest, never a retry.
MAX_ADDRESS_LENGTH = 63
_ID_RE = re.compile(r"^[A-Za-z0-9]+$")
_CONFERENCE_RE = re.compile(r"^cb-(?P<meeting>[A-Za-z0-9]+)-(?P<start>\d{8}T\d{4}Z)$")
_PARTICIPANT_RE = re.compile(r"^cb-ep-(?P<endpoint>[A-Za-z0-9]+)$")
_EXTERNAL_RE = re.compile(r"^cb-x-[0-9a-f]{12}$")


def _check_id(kind: str, value: int | str) -> str:
    text = str(value)
    if isinstance(value, bool) or not _ID_RE.fullmatch(text):
        raise ValueError(f"{kind} id must be ASCII letters/digits, got {text!r}")
    return text


def conference_name(meeting_id: int | str, occurrence_start_utc: datetime) -> str:
    """The MCU conference name of one occurrence: ``cb-<meeting>-<yyyymmddThhmmZ>`` (≤ 31 chars).

    *occurrence_start_utc* must be timezone-aware (any zone; it is converted to UTC).  Seconds are
    dropped: two occurrences of one meeting never start in the same minute.
    """
    if occurrence_start_utc.tzinfo is None:
        raise ValueError("occurrence start must be timezone-aware")
    stamp = occurrence_start_utc.astimezone(UTC).strftime("%Y%m%dT%H%MZ")
    name = f"{PREFIX}{_check_id('meeting', meeting_id)}-{stamp}"
    if len(name) > MAX_NAME_LENGTH:
        raise ValueError(f"meeting id {meeting_id!r} too long for a {MAX_NAME_LENGTH}-character MCU name")
    return name


def participant_name(endpoint_id: int | str) -> str:
    """The MCU participant name of one endpoint: ``cb-ep-<id>`` (unique within a conference)."""
    name = f"{PREFIX}ep-{_check_id('endpoint', endpoint_id)}"
    if len(name) > MAX_NAME_LENGTH:
        raise ValueError(f"endpoint id {endpoint_id!r} too long for a {MAX_NAME_LENGTH}-character MCU name")
    return name


def external_participant_name(protocol: str, address: str) -> str:
    """The MCU participant name of an external participant: ``cb-x-<12 hex>`` from its protocol and
    address (the same participant keeps its name when the meeting's list is edited)."""
    digest = hashlib.sha256(f"{protocol}:{address.strip().lower()}".encode()).hexdigest()[:12]
    return f"{PREFIX}x-{digest}"


def is_ours(name: str) -> bool:
    """True when *name* is one confbridge generates (a conference or a participant name)."""
    return bool(_CONFERENCE_RE.fullmatch(name) or _PARTICIPANT_RE.fullmatch(name)
                or _EXTERNAL_RE.fullmatch(name))


def parse_conference_name(name: str) -> tuple[str, datetime] | None:
    """``(meeting id, occurrence start UTC)`` for one of our conference names, else ``None``."""
    match = _CONFERENCE_RE.fullmatch(name)
    if not match:
        return None
    start = datetime.strptime(match["start"], "%Y%m%dT%H%MZ").replace(tzinfo=UTC)
    return match["meeting"], start


def parse_participant_name(name: str) -> str | None:
    """The endpoint id of one of our participant names, else ``None``."""
    match = _PARTICIPANT_RE.fullmatch(name)
    return match["endpoint"] if match else None
