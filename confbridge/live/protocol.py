"""The live protocol: JSON text frames.

Client → server (each at most ``live.max_message_bytes``):
  ``{"type": "auth", "token": "…"}``  first message, within ``live.auth_timeout_seconds``;
  ``{"type": "resync"}`` (or ``"snapshot"``)  ask for a fresh snapshot (after a gap in ``seq``);
  ``{"type": "ping"}``  answered by ``{"type": "pong"}``.

Server → client:
  ``{"type": "snapshot", "seq": N, "endpoints": […], "conferences": […], "alarms": […], "now": …}``;
  one event ``{"type": "endpoint.status" | "participant.state" | "conference.state" | "alarm",
  "seq": N+1, …}`` or, when a flush holds several, ``{"type": "batch", "events": [event, …]}``
  (events in order, consecutive ``seq``).  A client that sees a gap asks for a resync.
  ``{"type": "error", "message": …}`` for a bad control message.

Close codes: 4401 authentication failed (missing, expired, reused token), 4408 no auth in time,
1008 protocol violation before auth, 1013 client too slow (dropped).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from confbridge.events import Event
from confbridge.notices import render

CLOSE_AUTH_FAILED = 4401
CLOSE_AUTH_TIMEOUT = 4408
CLOSE_POLICY = 1008
CLOSE_TOO_SLOW = 1013
MAX_TOKEN_LENGTH = 200


class ProtocolError(ValueError):
    """A client message we cannot accept; the text is safe to send back."""


@dataclass(frozen=True)
class ClientMessage:
    type: str  # auth | resync | ping
    token: str | None = None


def parse_client_message(raw: str | bytes) -> ClientMessage:
    if isinstance(raw, bytes):
        raise ProtocolError("binary frames are not accepted")
    try:
        data = json.loads(raw)
    except ValueError:
        raise ProtocolError("not JSON") from None
    if not isinstance(data, dict) or not isinstance(data.get("type"), str):
        raise ProtocolError("a message is an object with a string 'type'")
    kind = data["type"]
    if kind == "auth":
        token = data.get("token")
        if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_LENGTH:
            raise ProtocolError("auth needs a 'token' string")
        return ClientMessage("auth", token)
    if kind in ("resync", "snapshot"):
        return ClientMessage("resync")
    if kind == "ping":
        return ClientMessage("ping")
    raise ProtocolError("unknown message type")


def object_key(event: Event) -> str:
    """The object an event describes: later events for the same key replace earlier ones (coalescing)."""
    p = event.payload
    if event.type == "endpoint.status":
        return f"endpoint:{p.get('endpoint_id')}"
    if event.type == "participant.state":
        return f"participant:{p.get('conference_id')}:{p.get('participant_name') or p.get('endpoint_id')}"
    if event.type == "conference.state":
        return f"conference:{p.get('conference_id')}"
    if event.type == "alarm":
        alarm = p.get("alarm") or {}
        return f"alarm:{alarm.get('id')}"
    return f"{event.type}:{id(event)}"


def dumps(message: Any) -> str:
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False, default=str)


def event_message(event: Event, seq: int, locale: str | None = None) -> dict[str, Any]:
    """The message for *event*; an alarm's ``message`` is rendered in the client's *locale* (its ``code``
    and ``params`` travel with it)."""
    message = {**event.payload, "type": event.type, "seq": seq}
    alarm = message.get("alarm")
    if event.type == "alarm" and isinstance(alarm, dict) and alarm.get("code"):
        message["alarm"] = {**alarm, "message": render(alarm["code"], alarm.get("params"), locale,
                                                        fallback=str(alarm.get("message", "")))}
    return message


def frame(messages: list[dict[str, Any]]) -> str:
    """One text frame for a flush: the event itself, or a batch of them."""
    if len(messages) == 1:
        return dumps(messages[0])
    return dumps({"type": "batch", "events": messages})
