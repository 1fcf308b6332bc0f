"""A refusal by the request schema (webargs/marshmallow) reads in the caller's language like a service's:
codes with parameters, the same body shape, never marshmallow's English text to a Vietnamese reader."""

from __future__ import annotations

from typing import Any


def _post(client: Any, user: Any, body: Any, language: str) -> Any:
    return client.post("/api/v1/meetings/check", json=body,
                       headers={**user.headers, "Accept-Language": language})


def test_a_schema_refusal_has_codes_and_the_readers_words(client: Any, secretary: Any) -> None:
    body = {"title": "Họp", "start": "not a date", "end": 5, "endpoint_ids": "x", "surprise": 1}
    vi = _post(client, secretary, body, "vi")
    assert vi.status_code == 422, vi.json
    codes = {e["field"]: e["code"] for e in vi.json["errors"]}
    assert codes["surprise"] == "unknown_field"
    assert vi.json["fields"]["surprise"] == "Trường này không được hỗ trợ."
    assert vi.json["message"].startswith("Dữ liệu không hợp lệ: ")
    assert not any("Not a valid" in m or "Unknown field" in m for m in vi.json["fields"].values())
    en = _post(client, secretary, body, "en")
    assert en.status_code == 422
    assert {e["field"]: e["code"] for e in en.json["errors"]} == codes
    assert en.json["fields"]["surprise"] == "Unknown field."
    assert en.json["message"].startswith("Invalid input: ")
