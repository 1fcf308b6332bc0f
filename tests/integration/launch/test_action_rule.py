"""The participant actions are checked once, by the launch service: an unknown one is a field error."""

from __future__ import annotations

from typing import Any


def test_an_unknown_participant_action_is_a_422_naming_the_field(client: Any, technician: Any) -> None:
    r = client.post("/api/v1/conferences/1/participants/1/dance", headers=technician.headers)
    assert r.status_code == 422, r.json
    assert [(e["field"], e["code"]) for e in r.json["errors"]] == [("action", "one_of")]
    assert r.json["fields"] == {"action": "Chọn một trong: mute, unmute, disconnect, redial."}
    r = client.post("/api/v1/conferences/1/participants/1/dance",
                    headers={**technician.headers, "Accept-Language": "en"})
    assert r.status_code == 422
    assert r.json["fields"] == {"action": "Choose one of: mute, unmute, disconnect, redial."}
