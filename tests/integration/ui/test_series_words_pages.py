"""The meeting page and its invitation preview describe a series in the reader's language, from the
stored rule — also a weekly rule without BYDAY, which the API accepts (its weekday is the start's)."""

from __future__ import annotations

from typing import Any

from tests.integration.ui.conftest import Browser


def test_meeting_page_describes_an_api_series_in_both_languages(
    browser_for: Any, secretary: Any, demo_endpoints: dict[str, int], frozen_clock: object,
) -> None:
    eps = list(demo_endpoints.values())[:2]
    b: Browser = browser_for(secretary)
    created = b.client.post("/api/v1/meetings", headers=secretary.headers, json={
        "title": "Giao ban", "start": "2026-12-07T08:00:00+07:00", "end": "2026-12-07T09:00:00+07:00",
        "endpoint_ids": eps, "host_endpoint_id": eps[0], "rrule": "FREQ=WEEKLY;COUNT=3",
        "attendees": [{"email": "an@ubnd.example", "name": "An"}],
    })
    assert created.status_code == 201, created.get_json()
    url = f"/meetings/{created.get_json()['id']}"

    page = b.get(url).get_data(as_text=True)
    assert "Hằng tuần vào Thứ Hai lúc 08:00, 3 buổi" in page and "vào ? lúc" not in page
    preview = page.split('class="invite-preview"')[1].split("</pre>")[0]
    assert "Hằng tuần vào Thứ Hai lúc 08:00, 3 buổi" in preview
    assert "Every week on Monday at 08:00, 3 occurrences" in preview and "FREQ=" not in preview

    assert b.post("/language", {"locale": "en", "next": url}).status_code == 302
    english = b.get(url).get_data(as_text=True)
    assert "Every week on Monday at 08:00, 3 occurrences" in english
    assert 'href="/subscribe"' in english and ">Subscribe<" in english
