"""The in-process bus: every subscriber gets every event; a failing subscriber hurts nobody."""

from __future__ import annotations

from confbridge.events import Event
from confbridge.live.bus import MemoryBus, decode_event, encode_event


def test_subscribers_receive_and_unsubscribe() -> None:
    bus = MemoryBus()
    a: list[Event] = []
    b: list[Event] = []

    def broken(_: Event) -> None:
        raise RuntimeError("boom")

    bus.subscribe(broken)
    stop_a = bus.subscribe(a.append)
    bus.subscribe(b.append)
    bus.publish(Event("endpoint.status", {"endpoint_id": 1}))
    stop_a()
    bus.publish(Event("endpoint.status", {"endpoint_id": 2}))
    assert [e.payload["endpoint_id"] for e in a] == [1]
    assert [e.payload["endpoint_id"] for e in b] == [1, 2]


def test_wire_format_round_trip() -> None:
    event = Event("alarm", {"action": "raised", "alarm": {"id": 3, "message": "Mất kết nối"}})
    assert decode_event(encode_event(event)) == event
    assert decode_event('{"type":"alarm","payload":[]}') is None
