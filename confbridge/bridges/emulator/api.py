"""The MCU API 2.9 methods the emulator implements, over ``DeviceState``.

Each handler takes the validated struct (``Params``) and returns a struct, or raises an
``xmlrpc.client.Fault`` with the device's code and string.  Authentication is checked by the server
before any handler runs.
"""

from __future__ import annotations

import secrets
import xmlrpc.client
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from confbridge.bridges.emulator.feedback import Feedback
from confbridge.bridges.emulator.filters import FilterError, compile_filter
from confbridge.bridges.emulator.model import Conference, DeviceState, Participant, utcnow
from confbridge.bridges.emulator.params import Params, fault
from confbridge.bridges.naming import MAX_ADDRESS_LENGTH

Handler = Callable[[Params], dict[str, Any]]
MAX_CONFERENCE_PORTS = 80
PARTICIPANT_ATOMS = {"connected", "disconnected", "connecting"}
CONFERENCE_ATOMS = {"active", "completed", "scheduled"}


def dt(value: datetime) -> xmlrpc.client.DateTime:
    """``dateTime.iso8601`` as the device writes it: ``YYYYMMDDTHH:MM:SS`` in UTC."""
    return xmlrpc.client.DateTime(value.astimezone(UTC).strftime("%Y%m%dT%H:%M:%S"))


class DeviceInfo:
    def __init__(self, *, model: str, api_version: str, video_ports: int, serial: str) -> None:
        self.model = model
        self.api_version = api_version
        self.video_ports = video_ports
        self.serial = serial
        self.health_overrides: dict[str, Any] = {}


class Api:
    def __init__(self, state: DeviceState, device: DeviceInfo, feedback: Feedback, *,
                 page_size: int = 5, max_conferences: int = 200, max_participants: int = 500) -> None:
        self.state = state
        self.device = device
        self.feedback = feedback
        self.page_size = page_size
        self.max_conferences = max_conferences
        self.max_participants = max_participants
        self._cursors: OrderedDict[str, tuple[list[dict[str, Any]], int]] = OrderedDict()
        self.methods: dict[str, Handler] = {
            "device.query": self.device_query,
            "device.health.query": self.device_health_query,
            "conference.create": self.conference_create,
            "conference.modify": self.conference_modify,
            "conference.destroy": self.conference_destroy,
            "conference.end": self.conference_end,
            "conference.status": self.conference_status,
            "conference.enumerate": self.conference_enumerate,
            "participant.add": self.participant_add,
            "participant.remove": self.participant_remove,
            "participant.connect": self.participant_connect,
            "participant.disconnect": self.participant_disconnect,
            "participant.modify": self.participant_modify,
            "participant.status": self.participant_status,
            "participant.enumerate": self.participant_enumerate,
            "feedbackReceiver.configure": feedback.configure,
            "feedbackReceiver.reconfigure": feedback.reconfigure,
            "feedbackReceiver.query": feedback.query,
            "feedbackReceiver.remove": feedback.remove,
        }

    # ---- device --------------------------------------------------------------------------------------
    def device_query(self, p: Params) -> dict[str, Any]:
        now = utcnow()
        return {
            "currentTime": dt(now), "restartTime": dt(self.state.started), "serial": self.device.serial,
            "softwareVersion": "4.5(1.72)", "buildVersion": "12.0(1.72)", "model": self.device.model,
            "apiVersion": self.device.api_version,
            "activatedFeatures": [{"feature": "Encryption"}, {"feature": "Web conferencing"}],
            "totalVideoPorts": self.device.video_ports, "totalAudioOnlyPorts": self.device.video_ports,
            "portReservationMode": "disabled", "maxVideoResolution": "1080p",
            "uptime": int((now - self.state.started).total_seconds()),
        }

    def device_health_query(self, p: Params) -> dict[str, Any]:
        with self.state.lock:
            load = min(100, round(100 * self.state.connected_count() / max(1, self.device.video_ports)))
        reply: dict[str, Any] = {"cpuLoad": min(100, 3 + load // 2), "mediaLoad": load, "audioLoad": load,
                                 "videoLoad": load, "operationalStatus": "active"}
        for name in ("fan", "temperature", "rtcBattery", "voltages"):
            reply[f"{name}Status"] = "ok"
            reply[f"{name}StatusWorst"] = "ok"
        reply.update(self.device.health_overrides)
        return reply

    # ---- conferences ---------------------------------------------------------------------------------
    def _conference(self, p: Params) -> Conference:
        name = p.string("conferenceName", required=True, missing_code=8)
        conf = self.state.conferences.get(name or "")
        if conf is None:
            raise fault(4)
        return conf

    def _apply_conference_fields(self, conf: Conference, p: Params) -> None:
        pin = p.string("pin")
        if pin is not None:
            if pin and not pin.isdigit():
                raise fault(13)
            conf.pin = pin
        numeric_id = p.string("numericId")
        if numeric_id is not None:
            if numeric_id and any(c.numeric_id == numeric_id and c is not conf
                                  for c in self.state.conferences.values()):
                raise fault(18)
            conf.numeric_id = numeric_id
        description = p.string("description")
        if description is not None:
            conf.description = description
        duration = p.integer("durationSeconds", minimum=0)
        if duration is not None:
            conf.duration = duration
        video = p.integer("maximumVideoPorts", minimum=0)
        audio = p.integer("maximumAudioPorts", minimum=0)
        if video is not None:
            conf.max_video_ports = video
        if audio is not None:
            conf.max_audio_ports = audio
        if video is not None or audio is not None:
            if conf.max_video_ports + conf.max_audio_ports > MAX_CONFERENCE_PORTS:
                raise fault(102, "maximumVideoPorts")
            if video == 0 and audio == 0:
                raise fault(102, "maximumVideoPorts")
        for attr, key in (("enforce_video_ports", "enforceMaximumVideoPorts"),
                          ("custom_layout_enabled", "customLayoutEnabled"), ("locked", "locked"),
                          ("join_audio_muted", "joinAudioMuted"), ("join_video_muted", "joinVideoMuted")):
            value = p.boolean(key)
            if value is not None:
                setattr(conf, attr, value)
        layout = p.integer("customLayout", minimum=1, maximum=59)
        if layout is not None:
            conf.custom_layout = layout

    def conference_create(self, p: Params) -> dict[str, Any]:
        with self.state.lock:
            name = p.string("conferenceName", required=True, missing_code=8)
            assert name is not None
            if not name:
                raise fault(102, "conferenceName")
            if name in self.state.conferences:
                raise fault(2)
            if len(self.state.conferences) >= self.max_conferences:
                raise fault(6)
            conf = Conference(name=name, unique_id=self.state.next_id())
            start = p.datetime("startTime")
            if start is not None:
                try:
                    conf.start_time = datetime.strptime(start.value, "%Y%m%dT%H:%M:%S").replace(tzinfo=UTC)
                except ValueError:
                    raise fault(11) from None
            if p.string("endTime") is not None:
                raise fault(12)
            self._apply_conference_fields(conf, p)
            self.state.add_conference(conf)
        return {"status": "operation successful"}

    def conference_modify(self, p: Params) -> dict[str, Any]:
        with self.state.lock:
            conf = self._conference(p)
            new_name = p.string("newConferenceName")
            before = (conf.duration,)
            self._apply_conference_fields(conf, p)
            if new_name and new_name != conf.name:
                if new_name in self.state.conferences:
                    raise fault(2)
                for part in self.state.participants_of(conf.name):
                    self.state.participants.pop(part.key)
                    part.conference = new_name
                    self.state.participants[part.key] = part
                del self.state.conferences[conf.name]
                conf.name = new_name
                self.state.conferences[new_name] = conf
            if (conf.duration,) != before:
                self.state.reschedule(conf)
            self.state.bump(conf)
            self.state.emit("conferenceConfigurationChanged")
        return {"status": "operation successful"}

    def conference_destroy(self, p: Params) -> dict[str, Any]:
        with self.state.lock:
            self.state.destroy_conference(self._conference(p))
        return {"status": "operation successful"}

    def conference_end(self, p: Params) -> dict[str, Any]:
        with self.state.lock:
            conf = self._conference(p)
            for part in self.state.participants_of(conf.name):
                self.state.hang_up(part, "disconnectAll")
            conf.active, conf.completed = False, True
            self.state.bump(conf)
            self.state.emit("conferenceFinished")
        return {"status": "operation successful"}

    def render_conference(self, c: Conference) -> dict[str, Any]:
        out: dict[str, Any] = {
            "conferenceName": c.name, "conferenceType": "scheduled", "uniqueId": c.unique_id,
            "conferenceActive": c.active, "description": c.description, "pin": c.pin, "guestPin": "",
            "numericId": c.numeric_id, "guestNumericId": "", "registerWithGatekeeper": False,
            "registerWithSIPRegistrar": False, "h239Enabled": True, "locked": c.locked,
            "maximumVideoPorts": c.max_video_ports, "maximumAudioPorts": c.max_audio_ports,
            "reservedVideoPorts": 0, "reservedAudioPorts": 0,
            "customLayoutEnabled": c.custom_layout_enabled, "customLayout": c.custom_layout,
            "joinAudioMuted": c.join_audio_muted, "joinVideoMuted": c.join_video_muted,
            "startTime": dt(c.start_time), "durationSeconds": c.duration, "repetition": "none",
        }
        if c.active and c.active_start is not None:
            out["activeStartTime"] = dt(c.active_start)
            out["activeConferenceId"] = str(c.unique_id)
            if c.duration:
                out["activeEndTime"] = dt(c.start_time + timedelta(seconds=c.duration))
        return out

    def conference_status(self, p: Params) -> dict[str, Any]:
        with self.state.lock:
            return self.render_conference(self._conference(p))

    def conference_enumerate(self, p: Params) -> dict[str, Any]:
        page = 24 if p.boolean("moreThanFour") else 4

        def records() -> list[dict[str, Any]]:
            keep = self._filter(p, CONFERENCE_ATOMS)
            out = []
            for c in self.state.conferences.values():
                atoms = {"active"} if c.active else {"completed"} if c.completed else {"scheduled"}
                if keep(atoms):
                    out.append(self._delta(p, c.revision, self.render_conference(c),
                                           {"conferenceName": c.name, "uniqueId": c.unique_id}))
            return out + self._dead(p, "conference")

        return self._enumerate(p, "conferences", page, records)

    # ---- participants --------------------------------------------------------------------------------
    def _ident(self, p: Params) -> tuple[str, str, str, str]:
        conference = p.string("conferenceName", required=True, missing_code=8)
        name = p.string("participantName", required=True, missing_code=9)
        protocol = p.string("participantProtocol") or "h323"
        ptype = p.string("participantType") or "by_address"
        if protocol not in ("h323", "sip", "vnc"):
            raise fault(19)
        if ptype not in ("by_address", "by_name", "ad_hoc"):
            raise fault(20)
        assert conference is not None and name is not None
        return conference, name, protocol, ptype

    def _participant(self, p: Params) -> Participant:
        key = self._ident(p)
        if key[0] not in self.state.conferences:
            raise fault(4)
        part = self.state.participants.get(key)
        if part is None:
            raise fault(5)
        return part

    def participant_add(self, p: Params) -> dict[str, Any]:
        with self.state.lock:
            conference, name, protocol, ptype = self._ident(p)
            conf = self.state.conferences.get(conference)
            if conf is None:
                raise fault(4)
            if ptype == "by_name":
                raise fault(20)
            address = p.string("address", max_len=MAX_ADDRESS_LENGTH)
            if not address:
                raise fault(10)
            if ptype == "ad_hoc":
                if not conf.active:
                    raise fault(102, "participantType")
                name = str(self.state.next_id())  # the device numbers ad-hoc participants itself
            elif (conference, name, protocol, ptype) in self.state.participants:
                raise fault(3)
            configured = sum(1 for x in self.state.participants.values() if x.ptype == "by_address")
            if configured >= self.max_participants:
                raise fault(7)
            part = Participant(conference=conference, name=name, protocol=protocol, ptype=ptype,
                               address=address, connection_id=self.state.next_id())
            if p.boolean("displayNameOverrideStatus"):
                part.display_name = p.string("displayNameOverrideValue") or ""
            part.defer = bool(p.boolean("deferConnection"))
            part.cp_layout = p.string("cpLayout") or ""
            self.state.add_participant(part)
            reply: dict[str, Any] = {"status": "operation successful"}
            if p.boolean("addResponse"):
                reply["participant"] = self.render_participant(part, {"currentState", "configuredState"})
            return reply

    def participant_remove(self, p: Params) -> dict[str, Any]:
        with self.state.lock:
            self.state.remove_participant(self._participant(p))
        return {"status": "operation successful"}

    def participant_connect(self, p: Params) -> dict[str, Any]:
        with self.state.lock:
            part = self._participant(p)
            if self.state.conferences[part.conference].active:
                part.defer = False
                self.state.dial(part)
        return {"status": "operation successful"}

    def participant_disconnect(self, p: Params) -> dict[str, Any]:
        with self.state.lock:
            part = self._participant(p)
            self.state.hang_up(part, "localTeardown")  # a dial-in is then gone (listed while connected)
        return {"status": "operation successful"}

    def participant_modify(self, p: Params) -> dict[str, Any]:
        """``operationScope`` (a string here): ``activeState`` changes the live call, ``configuredState``
        the stored configuration (what the next call starts with), absent both (deprecated).

        ``important``, ``focusType``/``focusParticipant`` and ``audioTxMuted`` belong to the active
        state only: the 3.0 guide says ``important`` and ``audioTxMuted`` "should not be present if
        operationScope is configuredState"; it does not say how a device answers, the emulator answers
        fault 102 naming the parameter.  An active-state change to a participant with no call (dormant
        or disconnected) is kept for its next call if it never had one, and dropped by a redial
        otherwise (the guides are silent; this is the emulator's choice).
        """
        with self.state.lock:
            part = self._participant(p)
            scope = p.string("operationScope")
            if scope not in (None, "activeState", "configuredState"):
                raise fault(102, "operationScope")
            active, configured = scope != "configuredState", scope != "activeState"
            if not active:
                for key in ("audioTxMuted", "important", "focusType", "focusParticipant"):
                    if key in p:
                        raise fault(102, key)
            focus_type = p.string("focusType")
            if focus_type is not None and focus_type not in ("voiceActivated", "h239", "participant"):
                raise fault(102, "focusType")
            focus = self._focus_participant(p, part.conference)
            if focus_type == "participant" and focus is None and part.focus_participant is None:
                raise fault(101, "focusParticipant")
            for attr, key in (("audio_rx_muted", "audioRxMuted"), ("video_rx_muted", "videoRxMuted")):
                value = p.boolean(key)
                if value is not None:
                    if active:
                        setattr(part, attr, value)
                    if configured:
                        setattr(part, f"configured_{attr}", value)
            for attr, key in (("audio_tx_muted", "audioTxMuted"), ("video_tx_muted", "videoTxMuted")):
                value = p.boolean(key)
                if value is not None:
                    setattr(part, attr, value)
            important = p.boolean("important")
            if important is not None:
                self.state.make_important(part, important)
            if focus_type is not None:
                part.focus_type = focus_type
                if focus_type != "participant":
                    part.focus_participant = None
            if focus is not None:
                part.focus_participant = focus
            layout = p.string("cpLayout")
            if layout is not None:
                part.cp_layout = layout
            if p.boolean("displayNameOverrideStatus"):
                part.display_name = p.string("displayNameOverrideValue") or ""
            self.state.bump(part)
        return {"status": "operation successful"}

    def _focus_participant(self, p: Params, conference: str) -> dict[str, Any] | None:
        """``focusParticipant``: the identification triple of a participant of the same conference (the
        reference names the field, not its shape: a struct like every participant identification)."""
        value = p.struct_("focusParticipant")
        if value is None:
            return None
        ident = Params({**value, "conferenceName": conference})
        key = self._ident(ident)
        if key not in self.state.participants:
            raise fault(5)
        return {"participantName": key[1], "participantProtocol": key[2], "participantType": key[3]}

    def _scopes(self, p: Params) -> set[str]:
        scopes = p.array("operationScope")
        if scopes is None:
            return {"currentState", "configuredState"}  # deprecated pre-2.9 behaviour: everything
        if not all(s in ("currentState", "configuredState") for s in scopes):
            raise fault(102, "operationScope")
        return set(scopes)

    def render_participant(self, part: Participant, scopes: set[str]) -> dict[str, Any]:
        out: dict[str, Any] = {
            "conferenceName": part.conference, "participantName": part.name,
            "participantProtocol": part.protocol, "participantType": part.ptype,
            "connectionUniqueId": part.connection_id,
        }
        if "currentState" in scopes:
            cur: dict[str, Any] = {
                "callState": part.call_state, "address": part.address,
                "callDirection": "incoming" if part.ptype == "ad_hoc" else "outgoing",
                "displayName": part.display_name or part.address,
                "audioRxMuted": part.audio_rx_muted, "videoRxMuted": part.video_rx_muted,
                "audioTxMuted": part.audio_tx_muted, "videoTxMuted": part.video_tx_muted,
                "audioRxMutedRemotely": False, "mediaEncryption": "unencrypted",
                "packetLossWarning": part.packet_loss in ("warning", "critical"),
                "packetLossCritical": part.packet_loss == "critical",
                "currentLayout": self.state.conferences[part.conference].custom_layout
                if part.conference in self.state.conferences else 1,
                "important": part.important, "focusType": part.focus_type,
            }
            if part.focus_participant is not None:
                cur["focusParticipant"] = dict(part.focus_participant)
            if part.connect_time is not None:
                cur["connectTime"] = dt(part.connect_time)
            if part.disconnect_time is not None:
                cur["disconnectTime"] = dt(part.disconnect_time)
            if part.call_state == "disconnected":
                cur["disconnectReason"] = part.disconnect_reason
            out["currentState"] = cur
        if "configuredState" in scopes:
            out["configuredState"] = {
                "address": part.address, "deferConnection": part.defer,
                "displayNameOverrideStatus": bool(part.display_name),
                "displayNameOverrideValue": part.display_name, "cpLayout": part.cp_layout,
                "audioRxMuted": bool(part.configured_audio_rx_muted),
                "videoRxMuted": bool(part.configured_video_rx_muted),
            }
        return out

    def participant_status(self, p: Params) -> dict[str, Any]:
        with self.state.lock:
            return self.render_participant(self._participant(p), self._scopes(p))

    def participant_enumerate(self, p: Params) -> dict[str, Any]:
        scopes = self._scopes(p)

        def records() -> list[dict[str, Any]]:
            keep = self._filter(p, PARTICIPANT_ATOMS)
            out = []
            for part in self.state.participants.values():
                atoms = {"connected"} if part.call_state == "connected" else \
                    {"disconnected"} if part.call_state == "disconnected" else \
                    {"connecting"} if part.call_state == "alerting" else set()
                if keep(atoms):
                    ids = {k: v for k, v in self.render_participant(part, set()).items()}
                    out.append(self._delta(p, part.revision, self.render_participant(part, scopes), ids))
            return out + self._dead(p, "participant")

        return self._enumerate(p, "participants", self.page_size, records)

    # ---- enumeration machinery -----------------------------------------------------------------------
    def _filter(self, p: Params, atoms: set[str]) -> Callable[[set[str]], bool]:
        text = p.string("enumerateFilter", max_len=256)
        if not text:
            return lambda _s: True
        try:
            return compile_filter(text, atoms)
        except FilterError:
            raise fault(102, "enumerateFilter") from None

    def _delta(self, p: Params, revision: int, full: dict[str, Any], ids: dict[str, Any]) -> dict[str, Any]:
        last = p.integer("lastRevision", minimum=0)
        if last is None or revision > last:
            return full
        return {**ids, "changed": False}

    def _dead(self, p: Params, kind: str) -> list[dict[str, Any]]:
        last = p.integer("lastRevision", minimum=0)
        if last is None or p.boolean("listAll"):
            return []
        return [{**t.ids, "dead": True} for t in self.state.tombstones
                if t.kind == kind and t.revision > last]

    def _enumerate(self, p: Params, key: str, page_size: int,
                   records: Callable[[], list[dict[str, Any]]]) -> dict[str, Any]:
        enumerate_id = p.string("enumerateID", max_len=64)
        last = p.integer("lastRevision", minimum=0)
        list_all = bool(p.boolean("listAll"))
        with self.state.lock:
            revision = self.state.revision
            if enumerate_id is None:
                items = records()
                if last is not None and not list_all:  # only what changed since lastRevision
                    items = [i for i in items if i.get("changed", True)]
                offset = 0
            else:
                cursor = self._cursors.pop(enumerate_id, None)
                if cursor is None:
                    raise fault(16)
                items, offset = cursor
            reply: dict[str, Any] = {key: items[offset:offset + page_size], "currentRevision": revision}
            if offset + page_size < len(items):
                token = secrets.token_hex(8)
                self._cursors[token] = (items, offset + page_size)
                while len(self._cursors) > 1000:
                    self._cursors.popitem(last=False)
                reply["enumerateID"] = token
            return reply
