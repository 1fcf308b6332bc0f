"""The emulated MCU's state: conferences, configured participants, calls, revisions, the call log.

All mutation happens under one lock.  Calls progress in real time inside the emulator process
(``Timers``): dialling -> ``alerting`` -> ``connected`` or ``disconnected`` with the reason the scripted
endpoint behaviour dictates.  Every mutation bumps ``revision`` (``currentRevision`` in enumerate replies)
and stamps the changed record; deleted records leave a tombstone so ``lastRevision`` queries can report
them ``dead``.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from confbridge.bridges.emulator.behaviour import FAILURE_REASONS, Behaviour
from confbridge.bridges.emulator.timers import Timers

EventSink = Callable[[str], None]


def utcnow() -> datetime:
    # The emulator is an external device with its own clock: real time, not confbridge.clock.
    return datetime.now(UTC).replace(microsecond=0)


@dataclass
class Conference:
    name: str
    unique_id: int
    description: str = ""
    pin: str = ""
    numeric_id: str = ""
    start_time: datetime = field(default_factory=utcnow)
    duration: int = 0
    max_video_ports: int = 0
    max_audio_ports: int = 0
    enforce_video_ports: bool = False
    custom_layout_enabled: bool = False
    custom_layout: int = 1
    locked: bool = False
    join_audio_muted: bool = False
    join_video_muted: bool = False
    active: bool = False
    completed: bool = False
    active_start: datetime | None = None
    revision: int = 0
    generation: int = 0


@dataclass
class Participant:
    conference: str
    name: str
    protocol: str
    ptype: str
    address: str
    connection_id: int
    display_name: str = ""
    defer: bool = False
    call_state: str = "dormant"
    disconnect_reason: str = ""
    connect_time: datetime | None = None
    disconnect_time: datetime | None = None
    audio_rx_muted: bool = False
    video_rx_muted: bool = False
    audio_tx_muted: bool = False
    video_tx_muted: bool = False
    cp_layout: str = ""
    # Active state of the call only (the 3.0 guide: not in configuredState); one per conference.
    important: bool = False
    focus_type: str = "voiceActivated"
    focus_participant: dict[str, Any] | None = None
    # configuredState mutes: what every new call of this participant starts with (None: the
    # conference's joinAudioMuted/joinVideoMuted).
    configured_audio_rx_muted: bool | None = None
    configured_video_rx_muted: bool | None = None
    packet_loss: str = "none"
    revision: int = 0
    generation: int = 0
    call: dict[str, Any] | None = None

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.conference, self.name, self.protocol, self.ptype)


@dataclass
class Tombstone:
    kind: str  # "conference" | "participant"
    ids: dict[str, Any]
    revision: int


class DeviceState:
    def __init__(self, *, default_answer_delay: float = 0.2, events: EventSink | None = None) -> None:
        self.lock = threading.RLock()
        self.timers = Timers()
        self.default_answer_delay = default_answer_delay
        self.emit: EventSink = events or (lambda _name: None)
        self.scenario: dict[str, Behaviour] = {}
        self.started = utcnow()
        self.started_monotonic = time.monotonic()
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.timers.clear()
            self.conferences: dict[str, Conference] = {}
            self.participants: dict[tuple[str, str, str, str], Participant] = {}
            self.tombstones: list[Tombstone] = []
            self.behaviours: dict[str, Behaviour] = dict(self.scenario)
            self.calls: list[dict[str, Any]] = []
            self.revision = 1
            self._ids = itertools.count(1)

    # ---- bookkeeping ---------------------------------------------------------------------------------
    def bump(self, obj: Conference | Participant | None = None) -> int:
        self.revision += 1
        if obj is not None:
            obj.revision = self.revision
        return self.revision

    def _forget_tombstones(self, kind: str, ids: dict[str, Any]) -> None:
        """A record added again under a removed one's identity exists: a ``lastRevision`` query must
        report it (in full), not also as ``dead`` (a client applying both would drop a live record)."""
        self.tombstones = [t for t in self.tombstones if not (
            t.kind == kind and all(t.ids.get(k) == v for k, v in ids.items()))]

    def next_id(self) -> int:
        return next(self._ids)

    def behaviour_for(self, address: str) -> Behaviour:
        return self.behaviours.get(address) or Behaviour(answer_delay=self.default_answer_delay)

    def participants_of(self, conference: str) -> list[Participant]:
        return [p for p in self.participants.values() if p.conference == conference]

    def connected_count(self) -> int:
        return sum(1 for p in self.participants.values() if p.call_state == "connected")

    # ---- conferences ---------------------------------------------------------------------------------
    def add_conference(self, conf: Conference) -> None:
        self.conferences[conf.name] = conf
        self._forget_tombstones("conference", {"conferenceName": conf.name})
        self.bump(conf)
        self.reschedule(conf)

    def reschedule(self, conf: Conference) -> None:
        """(Re)arm the start and end timers of *conf*; older timers become no-ops."""
        conf.generation += 1
        gen = conf.generation
        if not conf.active and not conf.completed:
            delay = (conf.start_time - utcnow()).total_seconds()
            if delay <= 0:
                self._activate(conf)
            else:
                self.timers.after(delay, lambda: self._locked(self._activate, conf, gen))
        if conf.duration > 0:
            end = conf.start_time + timedelta(seconds=conf.duration)
            self.timers.after((end - utcnow()).total_seconds(), lambda: self._locked(self._finish, conf, gen))

    def _locked(self, fn: Callable[[Conference], None], conf: Conference, generation: int) -> None:
        """Run a conference timer unless the conference changed (rescheduled/destroyed) since."""
        with self.lock:
            if conf.generation == generation:
                fn(conf)

    def _activate(self, conf: Conference) -> None:
        if conf.name not in self.conferences or conf.active or conf.completed:
            return
        conf.active = True
        conf.active_start = utcnow()
        self.bump(conf)
        self.emit("conferenceStarted")
        for p in self.participants_of(conf.name):
            if not p.defer and p.ptype == "by_address":
                self.dial(p)

    def _finish(self, conf: Conference) -> None:
        if not conf.active:
            return
        for p in self.participants_of(conf.name):
            self.hang_up(p, "disconnectAll")
        conf.active = False
        conf.completed = True
        self.bump(conf)
        self.emit("conferenceFinished")

    def destroy_conference(self, conf: Conference) -> None:
        for p in self.participants_of(conf.name):
            self.remove_participant(p)
        was_active = conf.active
        conf.generation += 1
        del self.conferences[conf.name]
        self.tombstones.append(Tombstone("conference", {"conferenceName": conf.name,
                                                        "uniqueId": conf.unique_id}, self.bump()))
        if was_active:
            self.emit("conferenceFinished")

    # ---- participants / calls ------------------------------------------------------------------------
    def add_participant(self, p: Participant) -> None:
        self.participants[p.key] = p
        self._forget_tombstones("participant", {
            "conferenceName": p.conference, "participantName": p.name,
            "participantProtocol": p.protocol, "participantType": p.ptype})
        conf = self.conferences[p.conference]
        self.start_media(p)
        self.bump(p)
        if conf.active and not p.defer:
            self.dial(p)

    def start_media(self, p: Participant) -> None:
        """The media state a call of *p* starts with: its configured mutes, else the conference's
        ``joinAudioMuted``/``joinVideoMuted``; not important, voice-activated focus."""
        conf = self.conferences[p.conference]
        p.audio_rx_muted = conf.join_audio_muted if p.configured_audio_rx_muted is None \
            else p.configured_audio_rx_muted
        p.video_rx_muted = conf.join_video_muted if p.configured_video_rx_muted is None \
            else p.configured_video_rx_muted
        p.important = False
        p.focus_type, p.focus_participant = "voiceActivated", None

    def make_important(self, p: Participant, important: bool) -> None:
        """Only one participant of a conference is important: marking one clears the others."""
        if important:
            for other in self.participants_of(p.conference):
                if other is not p and other.important:
                    other.important = False
                    self.bump(other)
        p.important = important

    def dial_in(self, conf: Conference, address: str, protocol: str, display_name: str) -> Participant:
        """Someone dials the conference's numericId: an ``ad_hoc`` participant, connected at once."""
        p = Participant(conference=conf.name, name=str(self.next_id()), protocol=protocol, ptype="ad_hoc",
                        address=address, connection_id=self.next_id(), display_name=display_name)
        self.participants[p.key] = p
        self.start_media(p)
        p.call_state = "connected"
        p.connect_time = utcnow()
        p.call = {"id": len(self.calls) + 1, "time": utcnow().isoformat(), "conference": p.conference,
                  "participant": p.name, "protocol": p.protocol, "address": p.address,
                  "behaviour": "dial-in", "outcome": "connected"}
        self.calls.append(p.call)
        self.bump(p)
        self.emit("participantJoined")
        return p

    def remove_participant(self, p: Participant) -> None:
        self.hang_up(p, "localTeardown")
        p.generation += 1
        self.participants.pop(p.key, None)
        self.tombstones.append(Tombstone("participant", {
            "conferenceName": p.conference, "participantName": p.name,
            "participantProtocol": p.protocol, "participantType": p.ptype}, self.bump()))

    def dial(self, p: Participant) -> None:
        """Place a call to *p*'s address; its outcome follows the address's scripted behaviour."""
        if p.call_state in ("alerting", "connected"):
            return
        behaviour = self.behaviour_for(p.address)
        p.generation += 1
        gen = p.generation
        if p.call_state == "disconnected":
            # A new call: the active state of the last one is gone; it starts from the configuration.
            # (Active-state changes made before the first call apply to that first call.)
            self.start_media(p)
        p.call_state = "alerting"
        p.disconnect_reason = ""
        p.connect_time = None
        p.disconnect_time = None
        p.packet_loss = "none"
        p.call = {"id": len(self.calls) + 1, "time": utcnow().isoformat(), "conference": p.conference,
                  "participant": p.name, "protocol": p.protocol, "address": p.address,
                  "behaviour": behaviour.behaviour, "outcome": "ringing"}
        self.calls.append(p.call)
        self.bump(p)

        def outcome() -> None:
            with self.lock:
                if p.generation != gen or p.key not in self.participants:
                    return
                if behaviour.behaviour == "answer":
                    self._answered(p, behaviour)
                else:
                    self._ended(p, FAILURE_REASONS[behaviour.behaviour], behaviour.behaviour)

        self.timers.after(behaviour.answer_delay, outcome)

    def _answered(self, p: Participant, behaviour: Behaviour) -> None:
        p.call_state = "connected"
        p.connect_time = utcnow()
        p.packet_loss = behaviour.packet_loss
        if p.call is not None:
            p.call["outcome"] = "connected"
        self.bump(p)
        self.emit("participantJoined")
        if behaviour.hangup_after is not None:
            gen = p.generation

            def far_end_hangs_up() -> None:
                with self.lock:
                    if p.generation == gen and p.call_state == "connected":
                        self.hang_up(p, "remoteTeardown")

            self.timers.after(behaviour.hangup_after, far_end_hangs_up)

    def _ended(self, p: Participant, reason: str, outcome: str) -> None:
        was_connected = p.call_state == "connected"
        p.call_state = "disconnected"
        p.disconnect_reason = reason
        p.disconnect_time = utcnow()
        p.packet_loss = "none"
        if p.call is not None:
            p.call["outcome"] = outcome if not was_connected else f"connected, then {outcome}"
        self.bump(p)
        if was_connected:
            self.emit("participantLeft")

    def hang_up(self, p: Participant, reason: str) -> bool:
        """End *p*'s call (if any) with *reason*; False when there was no call to end."""
        if p.call_state not in ("alerting", "connected"):
            return False
        p.generation += 1
        outcome = {"localTeardown": "hung up by operator", "remoteTeardown": "remote hang-up",
                   "disconnectAll": "conference ended"}.get(reason, reason)
        self._ended(p, reason, outcome)
        if p.ptype == "ad_hoc" and p.key in self.participants:
            self.remove_participant(p)  # dial-ins are only listed while connected
        return True
