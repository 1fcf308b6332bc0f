"""The bridge driver interface every driver implements (Cisco MCU, emulator, later Janus).

Callers (the launch engine, the monitor, the UI) only see these types.  Drivers are synchronous and
thread-safe: the launch engine calls one driver from several worker threads, and each driver bounds its
own in-flight requests (``max_concurrent_requests``).

Idempotency contract: ``ensure_*`` create the object if missing and return it if it already exists and is
ours; ``destroy_conference``/``remove``/``hangup`` on something already gone succeed silently.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, Protocol, runtime_checkable

ParticipantState = Literal["dialling", "connected", "disconnected", "failed"]
DisconnectReason = Literal[
    "busy", "no_answer", "rejected", "unreachable", "remote_hangup", "operator", "ended", "other"
]
PacketLoss = Literal["none", "warning", "critical"]
# Conference-wide layouts a caller may ask for; each driver maps them to its bridge's own layouts.
Layout = Literal["voice-switched", "host-large", "grid"]
LAYOUTS: tuple[str, ...] = ("voice-switched", "host-large", "grid")


# ---- normalised errors -------------------------------------------------------------------------------
class BridgeError(Exception):
    """Base of every driver error.  ``fault_code`` keeps the bridge's own code when it had one."""

    retryable = False

    def __init__(self, message: str, *, fault_code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fault_code = fault_code


class AuthError(BridgeError):
    """Credentials refused: never retried."""


class NotFound(BridgeError):
    """The named conference or participant does not exist on the bridge."""


class AlreadyExists(BridgeError):
    """The name is taken on the bridge by an object that is *not* ours."""


class CapacityExceeded(BridgeError):
    """Out of ports / conferences / participants: retrying at once only makes a storm."""


class InvalidRequest(BridgeError):
    """The bridge rejected the parameters (a bug on our side or bad data)."""


class Unsupported(BridgeError):
    """This bridge cannot do that (see ``capabilities()``)."""


class UnsupportedLayout(Unsupported):
    """``apply_layout`` was asked for a layout this bridge cannot show; ``layout`` names it."""

    def __init__(self, layout: str) -> None:
        super().__init__(f"layout {layout!r} is not supported by this bridge")
        self.layout = layout


class TransientError(BridgeError):
    """Nothing happened on the bridge; safe to retry (after backoff)."""

    retryable = True


class OutcomeUnknown(BridgeError):
    """The request may or may not have taken effect (timeout after sending): re-read state first."""

    retryable = True


# ---- value types -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DialTarget:
    """What to dial: an endpoint as the directory knows it (or an external address).

    ``important``: the participant is the conference's focus (the host: the large pane of
    "host-large").  ``audio_rx_muted``: its microphone is muted on the bridge from the moment it joins
    (and again after a redial).  Both are applied by ``ensure_participant``.
    """

    participant_name: str  # deterministic, <= 31 chars, unique within the conference
    protocol: Literal["sip", "h323"]
    address: str
    display_name: str = ""
    important: bool = False
    audio_rx_muted: bool = False


@dataclass(frozen=True)
class ProbeResult:
    model: str
    software_version: str
    api_version: str
    video_ports: int | None
    audio_ports: int | None
    clock: datetime | None
    serial: str = ""
    uptime_seconds: int | None = None


@dataclass(frozen=True)
class Health:
    ok: bool
    detail: str = ""
    status_flags: dict[str, bool] = field(default_factory=dict)


@dataclass(frozen=True)
class Capabilities:
    dial_out: bool = True
    mute_audio: bool = True
    mute_video: bool = True
    layouts: frozenset[str] = frozenset()  # which of ``LAYOUTS`` ``apply_layout`` accepts
    lock: bool = False
    statistics: bool = False
    push_events: bool = False
    delta_enumeration: bool = False


@dataclass(frozen=True)
class ConferenceInfo:
    name: str
    active: bool
    pin_set: bool = False
    participant_count: int = 0
    duration_seconds: int | None = None
    start_time: datetime | None = None
    numeric_id: str | None = None  # the number participants dial in with (None: none set)


@dataclass(frozen=True)
class ParticipantInfo:
    conference: str
    participant_name: str
    protocol: str
    address: str
    state: ParticipantState
    reason: DisconnectReason | None = None
    display_name: str = ""
    audio_muted: bool = False
    video_muted: bool = False
    packet_loss: PacketLoss = "none"
    ours: bool = True  # added by_address through the API (False: ad_hoc dial-ins, shown as dial_in)
    important: bool = False  # the bridge's focus participant (see ``set_important``)

    @property
    def key(self) -> ParticipantKey:
        """The identity a bridge gives a participant (reported again as the key of a removal)."""
        return (self.conference, self.participant_name, self.protocol, self.ours)


# (conference, participant name, protocol, ours): what identifies a participant on a bridge.
ParticipantKey = tuple[str, str, str, bool]


@dataclass(frozen=True)
class ParticipantDelta:
    """One delta-capable read (``list_participants_since``).

    ``full``: the read listed every participant (first read, revision unknown, reset or refused by the
    device): ``changed`` is then the whole list and anything not in it is gone.  Otherwise ``changed``
    holds what changed since the revision passed in and ``removed`` the keys of removed participants.
    ``revision``: pass it to the next call; ``None`` when the device reports no revisions (a full read
    every time then).
    """

    changed: list[ParticipantInfo]
    removed: list[ParticipantKey]
    revision: int | None
    full: bool


# ---- the interface -----------------------------------------------------------------------------------
@runtime_checkable
class BridgeDriver(Protocol):
    name: str

    def probe(self) -> ProbeResult: ...

    def health(self) -> Health: ...

    def capabilities(self) -> Capabilities: ...

    def ensure_conference(
        self, name: str, *, pin: str | None = None, duration_seconds: int | None = None,
        ports: int | None = None, description: str = "", numeric_id: str | None = None,
        join_audio_muted: bool = False,
    ) -> ConferenceInfo:
        """Create (or adopt) a conference.  ``numeric_id``: its dial-in number (``AlreadyExists`` when
        another conference on the bridge uses it); ``join_audio_muted``: participants that dial in join
        with their microphone muted (``DialTarget.audio_rx_muted`` decides for the ones we dial)."""
        ...

    def modify_conference(self, conference: str, *, duration_seconds: int | None = None) -> None:
        """Change a running conference; ``duration_seconds`` is its new total length counted from its
        start (extend = old length + extra), ``None`` leaves it unchanged."""
        ...

    def destroy_conference(self, name: str) -> None: ...

    def list_conferences(self, *, count_participants: bool = True) -> list[ConferenceInfo]:
        """Every conference on the bridge.  ``count_participants=False``: ``participant_count`` is left
        0 (on a Cisco MCU the count is a full participant enumeration, 5 a page)."""
        ...

    def ensure_participant(self, conference: str, target: DialTarget) -> ParticipantInfo: ...

    def hangup(self, conference: str, participant_name: str, protocol: str) -> None: ...

    def redial(self, conference: str, participant_name: str, protocol: str, *,
               important: bool | None = None) -> None:
        """Call an existing participant again.  Its configured mute comes back by itself; focus
        belongs to a call, so pass ``important=True`` to redial the host (``None``: leave it)."""
        ...

    def remove(self, conference: str, participant_name: str, protocol: str) -> None: ...

    def set_mute(
        self, conference: str, participant_name: str, protocol: str, *,
        audio: bool | None = None, video: bool | None = None,
    ) -> None: ...

    def set_layout(self, conference: str, layout: int) -> None: ...

    def apply_layout(self, conference: str, layout: str) -> None:
        """Show *layout* (one of ``LAYOUTS``) to everyone; ``UnsupportedLayout`` when not in
        ``capabilities().layouts``."""
        ...

    def set_important(self, conference: str, participant_name: str, protocol: str,
                      important: bool) -> None:
        """Make (or stop making) a participant the focus of the conference (absolute, repeatable)."""
        ...

    def list_participants(self, conference: str | None = None) -> list[ParticipantInfo]: ...

    def close(self) -> None: ...
