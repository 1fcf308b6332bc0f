"""The Cisco TelePresence MCU driver (Remote Management API 2.9, XML-RPC over HTTP(S) to ``/RPC2``).

Every call carries ``authenticationUser``/``authenticationPassword`` (the device is stateless); the
password is read from the environment variable or file named in the bridge settings at construction
and is never logged or put into an error message.

Idempotency: conferences and participants are created under deterministic names
(``confbridge.bridges.naming``).  A "duplicate" fault is answered by reading the object back and
adopting it when it is ours; "no such …" on destroy/remove/hangup means done.  Because of that every
call this driver makes may safely be repeated, so transient failures *and* ambiguous ones (timeout after
sending) are retried with capped exponential backoff and jitter; auth faults never are.
"""

from __future__ import annotations

import logging
import random
import time
import xmlrpc.client
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any, TypeVar

from confbridge.bridges.base import (
    AlreadyExists,
    AuthError,
    BridgeError,
    Capabilities,
    ConferenceInfo,
    DialTarget,
    DisconnectReason,
    Health,
    InvalidRequest,
    Layout,
    NotFound,
    OutcomeUnknown,
    PacketLoss,
    ParticipantDelta,
    ParticipantInfo,
    ParticipantKey,
    ParticipantState,
    ProbeResult,
    TransientError,
    UnsupportedLayout,
)
from confbridge.bridges.faults import OPERATION_FAILED, error_for_fault
from confbridge.bridges.naming import MAX_ADDRESS_LENGTH, MAX_NAME_LENGTH, is_ours
from confbridge.bridges.xmlrpc_transport import NotAnMcuApi, XmlRpcTransport
from confbridge.settings import BridgeSettings

log = logging.getLogger(__name__)
T = TypeVar("T")

MIN_API_VERSION = (2, 9)
OUR_TAG = "confbridge"  # put in a conference's description so it can be recognised as ours
MAX_PAGES = 1000  # guard against a device that never stops paging (CESNET does the same)
_SCOPE = ["currentState", "configuredState"]
# Our layouts -> the MCU's ``customLayout`` index (conference.modify, "layout index" in §1.4).  The
# reference does not list what each index shows; these follow the MCU's layout picker (1: one full-
# screen pane, the loudest speaker; 5: one large pane -- the important participant -- and small ones
# around it, the guide's own ``"layout5"`` example; 4: the 4x4 equal grid) [unverified on a device].
CUSTOM_LAYOUTS: dict[str, int] = {"voice-switched": 1, "host-large": 5, "grid": 4}

# MCU disconnectReason -> normalised reason (the API guide's values); anything else is "other".
_REASONS: dict[str, DisconnectReason] = {
    "busy": "busy",
    "noAnswer": "no_answer",
    "rejected": "rejected",
    "rejectedImmediately": "rejected",
    "authenticationFailed": "rejected",
    "destinationUnreachable": "unreachable",
    "dnsFailed": "unreachable",
    "failedToConnectToServer": "unreachable",
    "networkError": "unreachable",
    "noGatekeeperForDN": "unreachable",
    "remoteGatekeeperRefused": "unreachable",
    "remoteGatekeeperUnreachable": "unreachable",
    "serviceUnavailable": "unreachable",
    "remoteTeardown": "remote_hangup",
    "localTeardown": "operator",
    "disconnectAll": "ended",
}
# Reasons that mean the dial never got through (state "failed" rather than "disconnected").
_DIAL_FAILURES = {"busy", "no_answer", "rejected", "unreachable"}


class CiscoMcuDriver:
    """``BridgeDriver`` for a Cisco TelePresence MCU (4200/4500/5300/MSE) or the confbridge emulator."""

    def __init__(
        self,
        settings: BridgeSettings,
        *,
        attempts: int | None = None,
        backoff_base: float = 0.2,
        backoff_cap: float = 3.0,
    ) -> None:
        self.name = settings.name
        self.settings = settings
        self._user = settings.username
        self._password = settings.password()  # from env/file; BridgeSettings never stores it
        self._transport = XmlRpcTransport(
            settings.url, timeout=settings.timeout_seconds, max_concurrent=settings.max_concurrent_requests,
            ca_file=settings.ca_file,
        )
        self._attempts = attempts or settings.retry_attempts
        self._backoff_base = backoff_base
        self._backoff_cap = backoff_cap

    def __repr__(self) -> str:  # no credentials in reprs either
        return f"CiscoMcuDriver(name={self.name!r}, url={self.settings.url!r})"

    # ---- plumbing ------------------------------------------------------------------------------------
    def call(self, method: str, **params: Any) -> Any:
        """One authenticated API call with retries of transient/ambiguous failures (see module doc)."""
        params["authenticationUser"] = self._user
        params["authenticationPassword"] = self._password
        failed_201 = False
        for attempt in range(1, self._attempts + 1):
            try:
                return self._transport.call(method, params)
            except xmlrpc.client.Fault as fault:
                error = error_for_fault(fault.faultCode, str(fault.faultString), method)
                # 201 "operation failed" is ambiguous: retried once, then fatal (see bridges.faults).
                if fault.faultCode == OPERATION_FAILED:
                    if failed_201:
                        raise BridgeError(error.message, fault_code=OPERATION_FAILED) from None
                    failed_201 = True
                if not error.retryable or attempt == self._attempts:
                    raise error from None
                self._backoff(method, attempt, error)
            except (TransientError, OutcomeUnknown) as error:
                if attempt == self._attempts:
                    raise
                self._backoff(method, attempt, error)
        raise AssertionError("unreachable")  # pragma: no cover

    def _backoff(self, method: str, attempt: int, error: BridgeError) -> None:
        delay = min(self._backoff_cap, self._backoff_base * 2 ** (attempt - 1))
        delay = random.uniform(delay / 2, delay)  # noqa: S311 - jitter, not cryptography
        log.info("bridge %s: %s failed (%s); retry %d in %.2fs", self.name, method, error.message,
                 attempt, delay)
        time.sleep(delay)

    def _pages(self, method: str, key: str, **params: Any) -> Iterator[dict[str, Any]]:
        """Follow ``enumerateID`` until the device stops returning one."""
        yield from self._enumerate(method, key, **params)[0]

    def _enumerate(self, method: str, key: str, **params: Any) -> tuple[list[dict[str, Any]], int | None]:
        """Every page of an enumeration, and the ``currentRevision`` of its *first* page.

        The guide: "the only currentRevision which should be stored is the one returned with the first
        stage of the enumeration" (later pages may carry a greater one; changes made while we page are
        then reported again next time instead of being skipped).  ``lastRevision``, when given, is sent
        unchanged with every page, as the guide requires.
        """
        enumerate_id: str | None = None
        items: list[dict[str, Any]] = []
        revision: int | None = None
        for page in range(MAX_PAGES):
            page_params = dict(params)
            if enumerate_id is not None:
                page_params["enumerateID"] = enumerate_id
            reply = self.call(method, **page_params)
            if page == 0:
                revision = _int_or_none(reply.get("currentRevision"))
            items.extend(reply.get(key, []))
            enumerate_id = reply.get("enumerateID")
            if enumerate_id is None:
                return items, revision
        raise BridgeError(f"{method}: still paging after {MAX_PAGES} pages; giving up")

    # ---- device --------------------------------------------------------------------------------------
    def probe(self) -> ProbeResult:
        reply = self.call("device.query")
        if not isinstance(reply, dict) or "apiVersion" not in reply or "model" not in reply:
            raise NotAnMcuApi("device.query: the reply has no model/apiVersion: not an MCU API")
        api = str(reply["apiVersion"])
        if _version(api) < MIN_API_VERSION:
            raise InvalidRequest(f"MCU API version {api} is too old: 2.9 or later is needed")
        return ProbeResult(
            model=str(reply["model"]),
            software_version=str(reply.get("softwareVersion", "")),
            api_version=api,
            video_ports=_int_or_none(reply.get("totalVideoPorts")),
            audio_ports=_int_or_none(reply.get("totalAudioOnlyPorts")),
            clock=_to_datetime(reply.get("currentTime")),
            serial=str(reply.get("serial", "")),
            uptime_seconds=_int_or_none(reply.get("uptime")),
        )

    def health(self) -> Health:
        reply = self.call("device.health.query")
        flags = {k: v == "ok" for k, v in reply.items()
                 if k.endswith("Status") and k != "operationalStatus" and isinstance(v, str)}
        operational = reply.get("operationalStatus", "active")
        flags["operational"] = operational == "active"
        bad = sorted(k for k, ok in flags.items() if not ok)
        loads = ", ".join(f"{k} {reply[k]}%" for k in ("cpuLoad", "mediaLoad") if k in reply)
        detail = loads if not bad else f"{', '.join(bad)} not ok; {loads}"
        return Health(ok=not bad, detail=detail, status_flags=flags)

    def capabilities(self) -> Capabilities:
        return Capabilities(dial_out=True, mute_audio=True, mute_video=True,
                            layouts=frozenset(CUSTOM_LAYOUTS), lock=False, statistics=False,
                            push_events=True, delta_enumeration=True)

    # ---- conferences ---------------------------------------------------------------------------------
    def ensure_conference(
        self, name: str, *, pin: str | None = None, duration_seconds: int | None = None,
        ports: int | None = None, description: str = "", numeric_id: str | None = None,
        join_audio_muted: bool = False,
    ) -> ConferenceInfo:
        """``conference.create``; fault 2 (the name exists) adopts the conference when it is ours.

        ``numeric_id`` goes in ``numericId``: a device refuses one another conference uses with fault 18
        (``AlreadyExists`` with ``fault_code`` 18: pick another number).  An adopted conference is
        returned as the device has it (its numericId is not changed).  ``join_audio_muted`` sets
        ``joinAudioMuted``; the reference does not say whether it also applies to participants added
        through the API, so ``ensure_participant`` always states their mute explicitly when asked to.
        """
        _check_name("conference name", name)
        if pin is not None and not pin.isdigit():
            raise InvalidRequest("conference PIN must be digits only")
        if numeric_id is not None and (not numeric_id.isdigit() or len(numeric_id) > MAX_NAME_LENGTH):
            raise InvalidRequest("conference numeric ID must be 1–31 digits")
        params: dict[str, Any] = {
            "conferenceName": name,
            "description": (f"{OUR_TAG} {description}".strip())[:MAX_NAME_LENGTH],
            "durationSeconds": int(duration_seconds or 0),  # 0 = permanent; we destroy explicitly
        }
        if pin:
            params["pin"] = pin
        if ports is not None:
            params["maximumVideoPorts"] = ports
            params["enforceMaximumVideoPorts"] = True
        if numeric_id:
            params["numericId"] = numeric_id
        if join_audio_muted:
            params["joinAudioMuted"] = True
        try:
            self.call("conference.create", **params)
        except AlreadyExists as exc:
            if exc.fault_code != 2:
                raise
            existing = self.call("conference.status", conferenceName=name)
            if not self._conference_is_ours(existing):
                raise AlreadyExists(f"conference {name!r} exists on {self.name} and is not ours",
                                    fault_code=2) from None
            return _conference_info(existing)
        # Created just now without a startTime: the MCU starts it at once (saves a status round trip).
        return ConferenceInfo(name=name, active=True, pin_set=bool(pin),
                              duration_seconds=duration_seconds or None, numeric_id=numeric_id or None)

    @staticmethod
    def _conference_is_ours(struct: dict[str, Any]) -> bool:
        return is_ours(str(struct.get("conferenceName", ""))) or str(
            struct.get("description", "")).startswith(OUR_TAG)

    def destroy_conference(self, name: str) -> None:
        try:
            self.call("conference.destroy", conferenceName=name)
        except NotFound:
            pass  # already gone: done

    def list_conferences(self, *, count_participants: bool = True) -> list[ConferenceInfo]:
        counts: dict[str, int] = {}
        for p in self.list_participants() if count_participants else ():
            if p.state == "connected":
                counts[p.conference] = counts.get(p.conference, 0) + 1
        return [
            _conference_info(c, counts.get(str(c.get("conferenceName")), 0))
            for c in self._pages("conference.enumerate", "conferences", moreThanFour=True)
        ]

    def set_layout(self, conference: str, layout: int) -> None:
        if not 1 <= layout <= 59:
            raise InvalidRequest(f"layout {layout} is out of range (1–59)")
        self.call("conference.modify", conferenceName=conference, customLayoutEnabled=True,
                  customLayout=layout)

    def apply_layout(self, conference: str, layout: Layout | str) -> None:
        """``conference.modify`` with ``customLayoutEnabled``/``customLayout`` (see ``CUSTOM_LAYOUTS``).

        "host-large" puts the *important* participant in the large pane: mark the host with
        ``set_important`` (or ``DialTarget.important``).
        """
        if layout not in CUSTOM_LAYOUTS:
            raise UnsupportedLayout(layout)
        self.call("conference.modify", conferenceName=conference, customLayoutEnabled=True,
                  customLayout=CUSTOM_LAYOUTS[layout])

    def modify_conference(self, conference: str, *, duration_seconds: int | None = None) -> None:
        """``conference.modify``: ``durationSeconds`` counts from the conference's ``startTime`` (the
        device ends it at start + duration), so extending means sending the new total length."""
        if duration_seconds is None:
            return
        if duration_seconds < 0:
            raise InvalidRequest("conference duration cannot be negative")
        self.call("conference.modify", conferenceName=conference, durationSeconds=int(duration_seconds))

    # ---- participants --------------------------------------------------------------------------------
    def ensure_participant(self, conference: str, target: DialTarget) -> ParticipantInfo:
        _check_name("participant name", target.participant_name)
        if not target.address or len(target.address) > MAX_ADDRESS_LENGTH:
            raise InvalidRequest(f"endpoint address must be 1–{MAX_ADDRESS_LENGTH} characters")
        params: dict[str, Any] = {
            "conferenceName": conference,
            "participantName": target.participant_name,
            "participantProtocol": target.protocol,
            "participantType": "by_address",
            "address": target.address,
            "addResponse": True,
        }
        if target.display_name:
            params["displayNameOverrideStatus"] = True
            params["displayNameOverrideValue"] = target.display_name[:MAX_NAME_LENGTH]
        try:
            reply = self.call("participant.add", **params)
        except AlreadyExists as exc:
            if exc.fault_code != 3:
                raise
            existing = self._status(conference, target.participant_name, target.protocol)
            configured = existing.get("configuredState", {})
            current = existing.get("currentState", {})
            address = configured.get("address", current.get("address"))
            if address != target.address:
                raise AlreadyExists(
                    f"participant {target.participant_name!r} in {conference!r} dials another address",
                    fault_code=3) from None
            if target.important or target.audio_rx_muted:  # absolute setters: re-applying is harmless
                self._apply_target_media(conference, target)
                return self.participant(conference, target.participant_name, target.protocol)
            return _participant_info(existing)
        self._apply_target_media(conference, target)
        if target.important or target.audio_rx_muted:
            return self.participant(conference, target.participant_name, target.protocol)
        participant = reply.get("participant") if isinstance(reply, dict) else None
        if isinstance(participant, dict):
            return _participant_info(participant)
        return _participant_info(self._status(conference, target.participant_name, target.protocol))

    def _apply_target_media(self, conference: str, target: DialTarget) -> None:
        """Apply ``important``/``audio_rx_muted`` of a freshly added participant.

        The reference lists neither ``important`` nor ``audioRxMuted`` among ``participant.add``'s
        fields, so both go through ``participant.modify``: ``audioRxMuted`` into the *configured* state
        (so every later call of this participant -- a redial -- joins muted) and, with ``important``,
        into the *active* state of the call being placed now (the 3.0 guide: ``important`` "should not
        be present if operationScope is configuredState", so it lives and dies with a call: redial
        the host with ``redial(..., important=True)``, or mark it again with ``set_important``).
        When either is asked for, the mute is stated explicitly in both states (also ``False``) so
        the conference's ``joinAudioMuted`` mutes the host neither now nor after a redial.  A target with neither flag
        leaves its mute to the conference (``joinAudioMuted``), with no extra call.
        """
        if not (target.important or target.audio_rx_muted):
            return
        ident = self._ident(conference, target.participant_name, target.protocol)
        self.call("participant.modify", operationScope="configuredState", **ident,
                  audioRxMuted=target.audio_rx_muted)
        self.call("participant.modify", operationScope="activeState", **ident,
                  audioRxMuted=target.audio_rx_muted, important=target.important)

    def set_important(self, conference: str, participant_name: str, protocol: str,
                      important: bool) -> None:
        """``participant.modify`` activeState ``important`` on the participant's current call.

        The reference does not say whether a device keeps more than one important participant; the
        emulator keeps one (marking another clears the first), so to move the focus mark the new
        participant; clearing the old one as well is harmless.
        """
        self.call("participant.modify", operationScope="activeState",
                  **self._ident(conference, participant_name, protocol), important=bool(important))

    def _ident(self, conference: str, participant_name: str, protocol: str) -> dict[str, Any]:
        return {"conferenceName": conference, "participantName": participant_name,
                "participantProtocol": protocol, "participantType": "by_address"}

    def _status(self, conference: str, participant_name: str, protocol: str) -> dict[str, Any]:
        reply: dict[str, Any] = self.call("participant.status", operationScope=_SCOPE,
                                          **self._ident(conference, participant_name, protocol))
        return reply

    def participant(self, conference: str, participant_name: str, protocol: str) -> ParticipantInfo:
        """One participant's normalised state (``NotFound`` when absent)."""
        return _participant_info(self._status(conference, participant_name, protocol))

    def hangup(self, conference: str, participant_name: str, protocol: str) -> None:
        _ignore_not_found(lambda: self.call(
            "participant.disconnect", **self._ident(conference, participant_name, protocol)))

    def redial(self, conference: str, participant_name: str, protocol: str, *,
               important: bool | None = None) -> None:
        """``participant.connect``; with ``important``, marks the new call at once (``participant.modify``
        activeState while it rings: importance does not outlive a call, see ``_apply_target_media``)."""
        self.call("participant.connect", **self._ident(conference, participant_name, protocol))
        if important is not None:
            self.set_important(conference, participant_name, protocol, important)

    def remove(self, conference: str, participant_name: str, protocol: str) -> None:
        _ignore_not_found(lambda: self.call(
            "participant.remove", **self._ident(conference, participant_name, protocol)))

    def set_mute(
        self, conference: str, participant_name: str, protocol: str, *,
        audio: bool | None = None, video: bool | None = None,
    ) -> None:
        changes: dict[str, Any] = {}
        if audio is not None:
            changes["audioRxMuted"] = bool(audio)
        if video is not None:
            changes["videoRxMuted"] = bool(video)
        if not changes:
            return
        # "Cisco MCU wants activeState for modify while for status, it gets currentState" (CESNET).
        self.call("participant.modify", operationScope="activeState",
                  **self._ident(conference, participant_name, protocol), **changes)

    def list_participants(self, conference: str | None = None) -> list[ParticipantInfo]:
        # The device has no conference filter: enumerate everything, filter here (API guide: enumerate).
        return [
            _participant_info(p)
            for p in self._pages("participant.enumerate", "participants", operationScope=_SCOPE)
            if conference is None or p.get("conferenceName") == conference
        ]

    def list_participants_since(self, revision: int | None) -> ParticipantDelta:
        """Participants changed since *revision* (``participant.enumerate`` with ``lastRevision``).

        A full read instead when *revision* is None, when the device refuses the revision with a fault
        (the guides do not say what a device does with a revision it no longer remembers: a fault or a
        full list; a full list is simply applied as "everything changed", and the caller's periodic
        full read drops anything it failed to report dead), and when the device's revision went
        backwards (it restarted and counts from the start again: a delta would silently miss changes).
        """
        if revision is None:
            return self._full_delta()
        try:
            items, current = self._enumerate("participant.enumerate", "participants",
                                             operationScope=_SCOPE, lastRevision=revision)
        except (AuthError, TransientError, OutcomeUnknown):
            raise  # the bridge is unreachable or refuses us: a full read would fail the same way
        except BridgeError as exc:
            log.info("bridge %s: participant.enumerate refused lastRevision %d (%s); full read",
                     self.name, revision, exc.message)
            return self._full_delta()
        if current is None or current < revision:
            log.info("bridge %s: revision went from %d to %s (restart?); full read", self.name, revision,
                     current)
            return self._full_delta()
        changed: list[ParticipantInfo] = []
        removed: list[ParticipantKey] = []
        for item in items:
            if _is_dead(item):
                removed.append(_participant_key(item))
            elif item.get("changed", True):  # stubs (changed: false) only come with listAll; skip them
                changed.append(_participant_info(item))
        return ParticipantDelta(changed=changed, removed=removed, revision=current, full=False)

    def _full_delta(self) -> ParticipantDelta:
        items, current = self._enumerate("participant.enumerate", "participants", operationScope=_SCOPE)
        # A device that still reports some items dead on a full read (CESNET saw it with listAll): skip.
        return ParticipantDelta(changed=[_participant_info(p) for p in items if not _is_dead(p)],
                                removed=[], revision=current, full=True)

    # ---- feedback receivers (push events: "something changed, poll now") ----------------------------
    def configure_feedback(self, receiver_uri: str, *, index: int = -1,
                           events: dict[str, bool] | None = None) -> int:
        params: dict[str, Any] = {"receiverURI": receiver_uri, "receiverIndex": index}
        if events is not None:
            params["events"] = events
        reply = self.call("feedbackReceiver.configure", **params)
        return int(reply["receiverIndex"])

    def query_feedback(self) -> list[dict[str, Any]]:
        receivers: list[dict[str, Any]] = self.call("feedbackReceiver.query").get("receivers", [])
        return receivers

    def remove_feedback(self, index: int) -> None:
        _ignore_not_found(lambda: self.call("feedbackReceiver.remove", receiverIndex=index))

    def close(self) -> None:
        self._transport.close()


# ---- helpers -----------------------------------------------------------------------------------------
def _ignore_not_found(fn: Callable[[], object]) -> None:
    try:
        fn()
    except NotFound:
        pass  # deletes are idempotent: absent means done


def _check_name(kind: str, name: str) -> None:
    if not name or len(name) > MAX_NAME_LENGTH or not name.isascii():
        raise InvalidRequest(f"{kind} must be 1–{MAX_NAME_LENGTH} ASCII characters, got {name!r}")


def _version(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in text.split("."))
    except ValueError:
        return (0,)


def _int_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _to_datetime(value: Any) -> datetime | None:
    """XML-RPC dateTime.iso8601 (UTC on the MCU, no zone in the text) -> aware UTC datetime."""
    if isinstance(value, xmlrpc.client.DateTime):
        return datetime.strptime(value.value, "%Y%m%dT%H:%M:%S").replace(tzinfo=UTC)
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return None


def _conference_info(c: dict[str, Any], participant_count: int = 0) -> ConferenceInfo:
    duration = c.get("durationSeconds")
    return ConferenceInfo(
        name=str(c["conferenceName"]),
        active=bool(c.get("conferenceActive", False)),
        pin_set=bool(c.get("pin")),
        participant_count=participant_count,
        duration_seconds=duration if isinstance(duration, int) and duration > 0 else None,
        start_time=_to_datetime(c.get("startTime")),
        numeric_id=str(c.get("numericId") or "") or None,
    )


def _is_dead(p: dict[str, Any]) -> bool:
    # Removed records come back as ``dead: true``, for participants possibly inside currentState (§1.5).
    current = p.get("currentState")
    return bool(p.get("dead")) or (isinstance(current, dict) and bool(current.get("dead")))


def _participant_key(p: dict[str, Any]) -> ParticipantKey:
    return (str(p.get("conferenceName", "")), str(p["participantName"]),
            str(p.get("participantProtocol", "")), p.get("participantType") == "by_address")


def _participant_info(p: dict[str, Any]) -> ParticipantInfo:
    current: dict[str, Any] = p.get("currentState") or {}
    configured: dict[str, Any] = p.get("configuredState") or {}
    call_state = current.get("callState", "dormant")
    reason: DisconnectReason | None = None
    state: ParticipantState
    if call_state == "connected":
        state = "connected"
    elif call_state == "disconnected":
        raw = str(current.get("disconnectReason", ""))
        reason = _REASONS.get(raw, "other")
        never_connected = "connectTime" not in current
        state = "failed" if never_connected and reason in _DIAL_FAILURES else "disconnected"
    else:  # dormant (not dialled yet) or alerting (ringing)
        state = "dialling"
    loss: PacketLoss = "none"
    if current.get("packetLossCritical"):
        loss = "critical"
    elif current.get("packetLossWarning"):
        loss = "warning"
    return ParticipantInfo(
        conference=str(p.get("conferenceName", "")),
        participant_name=str(p["participantName"]),
        protocol=str(p.get("participantProtocol", "")),
        address=str(current.get("address") or configured.get("address") or ""),
        state=state,
        reason=reason,
        display_name=str(current.get("displayName", "")),
        audio_muted=bool(current.get("audioRxMuted", False)),
        video_muted=bool(current.get("videoRxMuted", False)),
        packet_loss=loss,
        ours=p.get("participantType") == "by_address",
        important=bool(current.get("important", False)),
    )
