"""The live protocol's client-message validation, object keys and frames."""

from __future__ import annotations

import json

import pytest

from confbridge.events import Event
from confbridge.live import protocol
from confbridge.live.snapshot import Viewer


@pytest.mark.parametrize("raw", [
    b'{"type":"auth","token":"x"}',  # binary frames are refused
    "nope", "[]", '{"type": 3}', '{"type":"auth"}', '{"type":"auth","token":""}',
    '{"type":"auth","token":' + json.dumps("x" * 500) + "}", '{"type":"subscribe"}',
])
def test_bad_client_messages_are_refused(raw: str | bytes) -> None:
    with pytest.raises(protocol.ProtocolError):
        protocol.parse_client_message(raw)


def test_good_client_messages() -> None:
    assert protocol.parse_client_message('{"type":"auth","token":"abc"}').token == "abc"
    assert protocol.parse_client_message('{"type":"snapshot"}').type == "resync"
    assert protocol.parse_client_message('{"type":"ping"}').type == "ping"


def test_object_keys_group_updates_of_one_object() -> None:
    key = protocol.object_key
    assert key(Event("endpoint.status", {"endpoint_id": 4, "status": "a"})) == \
        key(Event("endpoint.status", {"endpoint_id": 4, "status": "b"}))
    assert key(Event("participant.state", {"conference_id": 1, "endpoint_id": 4})) != \
        key(Event("participant.state", {"conference_id": 2, "endpoint_id": 4}))
    assert key(Event("alarm", {"action": "raised", "alarm": {"id": 9}})) == "alarm:9"


def test_frame_is_one_event_or_a_batch() -> None:
    one = json.loads(protocol.frame([{"type": "endpoint.status", "seq": 1}]))
    assert one == {"type": "endpoint.status", "seq": 1}
    many = json.loads(protocol.frame([{"seq": 1}, {"seq": 2}]))
    assert many == {"type": "batch", "events": [{"seq": 1}, {"seq": 2}]}


def test_names_stay_text_in_frames() -> None:
    text = protocol.frame([{"type": "endpoint.status", "name": "<img src=x onerror=alert(1)> Phú Quốc"}])
    assert json.loads(text)["name"] == "<img src=x onerror=alert(1)> Phú Quốc"  # escaping is the UI's job


def test_secretary_viewer_filters_and_learns_new_runs() -> None:
    viewer = Viewer(1, "secretary", meeting_ids={10}, conference_ids={5}, endpoint_ids={7})
    assert viewer.can_see(Event("endpoint.status", {"endpoint_id": 7}))
    assert not viewer.can_see(Event("endpoint.status", {"endpoint_id": 8}))
    assert not viewer.can_see(Event("participant.state", {"conference_id": 6, "endpoint_id": 7}))
    assert viewer.can_see(Event("conference.state", {"conference_id": 6, "meeting_id": 10}))
    assert viewer.can_see(Event("participant.state", {"conference_id": 6, "endpoint_id": 7}))
    assert not viewer.can_see(Event("alarm", {"alarm": {"id": 1, "meeting_id": None}}))
    assert Viewer(2, "technician").can_see(Event("alarm", {"alarm": {"id": 1, "meeting_id": None}}))
