"""The participant actions are checked once, by the launch service: an unknown one is a field error."""

from __future__ import annotations

from typing import Any


def test_an_unknown_participant_action_is_a_422_naming_the_field(client: Any, technician: Any) -> None:
    r = client.post("/api/v1/conferences/1/participants/1/dance", headers=technician.headers)
    assert r.status_code == 422, r.json
    assert r.json["fields"] == {"action": "one of mute, unmute, disconnect, redial"}
    assert [e["field"] for e in r.json["errors"]] == ["action"]
