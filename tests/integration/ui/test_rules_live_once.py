"""Booking rules live once: the form follows ``booking.max_duration_hours`` (it used to refuse anything
over 12 hours whatever the setting said), and the API and the form give the same words for the same
rule, the API in the caller's language with the rule's code and parameters."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from confbridge.booking.models import Meeting
from confbridge.settings import Settings
from tests.integration.ui.conftest import booking_form


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """An admin who raised the duration limit to 24 hours."""
    return settings.with_overrides(**{"booking.max_duration_hours": 24})


def test_a_20_hour_meeting_books_through_the_form_when_the_setting_allows_it(
    browser_for: Any, secretary: Any, demo_endpoints: dict[str, int], session_factory: sessionmaker[Session],
    frozen_clock: object,
) -> None:
    ids = list(demo_endpoints.values())[:2]
    b = browser_for(secretary)
    response = b.post("/bookings/new", booking_form(ids, title="Trực ban phòng chống bão", repeat="none",
                                                    duration=str(20 * 60)))
    assert response.status_code == 302, response.get_data(as_text=True)
    with session_factory() as s:
        meeting = s.scalars(select(Meeting).where(Meeting.title == "Trực ban phòng chống bão")).one()
        assert meeting.duration.total_seconds() == 20 * 3600

    refused = b.post("/bookings/new", booking_form(ids, repeat="none", duration=str(25 * 60)))
    assert refused.status_code == 422
    assert "Cuộc họp dài tối đa 24 giờ." in refused.get_data(as_text=True)


def test_the_api_reports_the_same_rule_as_a_code_in_the_callers_language(
    client: Any, secretary: Any, demo_endpoints: dict[str, int], frozen_clock: object,
) -> None:
    ids = list(demo_endpoints.values())[:2]
    body = {"title": "Trực ban", "start": "2026-12-07T07:30:00+07:00", "end": "2026-12-08T08:30:00+07:00",
            "endpoint_ids": ids, "pin": "12"}
    english = client.post("/api/v1/meetings", json=body,
                          headers={**secretary.headers, "Accept-Language": "en-GB,en;q=0.9"})
    assert english.status_code == 422, english.json
    errors = {e["field"]: e for e in english.json["errors"]}
    assert errors["end"] == {"field": "end", "code": "too_long", "max_hours": "24",
                             "message": "A meeting lasts at most 24 hours."}
    assert errors["pin"]["code"] == "invalid_pin" and errors["pin"]["message"] == "The PIN has 4 to 16 digits."
    assert english.json["fields"]["end"] == "A meeting lasts at most 24 hours."

    vietnamese = client.post("/api/v1/meetings", json=body, headers=secretary.headers)
    assert vietnamese.status_code == 422
    assert {e["field"]: e["message"] for e in vietnamese.json["errors"]}["end"] == "Cuộc họp dài tối đa 24 giờ."
