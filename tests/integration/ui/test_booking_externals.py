"""The booking form's external-participant rows: saved with the meeting (uplink first), prefilled when
editing, bad rows shown on their row in the user's language; the meeting page shows the dial-in number."""

from __future__ import annotations

import re
from typing import Any

import pytest

from confbridge.booking.models import Meeting
from tests.integration.ui.conftest import booking_form

pytestmark = pytest.mark.usefixtures("frozen_clock")


def test_external_rows_are_booked_and_prefilled(
        browser_for: Any, secretary: Any, demo_endpoints: dict[str, int], session_factory: Any) -> None:
    ids = list(demo_endpoints.values())[:3]
    b = browser_for(secretary)
    form = booking_form(ids, ext_name_0="Sở Y tế", ext_address_0="soyte@vc.soyte.example",
                        ext_protocol_0="sip", ext_name_1="", ext_address_1="",
                        ext_name_2="Văn phòng Chính phủ", ext_address_2="8401234", ext_protocol_2="h323",
                        ext_uplink_2="1")
    response = b.post("/bookings/new", form)
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    meeting_id = int(re.fullmatch(r"/meetings/(\d+)", response.headers["Location"]).group(1))
    with session_factory() as s:
        meeting = s.get(Meeting, meeting_id)
        assert meeting.external_participants == [
            {"name": "Văn phòng Chính phủ", "address": "8401234", "protocol": "h323", "uplink": True},
            {"name": "Sở Y tế", "address": "soyte@vc.soyte.example", "protocol": "sip", "uplink": False},
        ]
        assert meeting.dial_in_number == "7000"
    page = b.get(f"/meetings/{meeting_id}").get_data(as_text=True)
    assert '<dd id="dial-in">7000</dd>' in page
    assert "Văn phòng Chính phủ <span class=\"muted small\">— 8401234 (H.323)</span> <strong>kết nối cấp trên" in page
    page = b.get(f"/meetings/{meeting_id}/edit").get_data(as_text=True)
    assert 'value="Văn phòng Chính phủ"' in page and 'value="soyte@vc.soyte.example"' in page
    assert 'id="ext_uplink_0" name="ext_uplink_0" type="checkbox" value="1" checked' in page
    assert 'id="ext_name_3"' in page and 'id="ext_name_4"' not in page  # two blank rows to add more


@pytest.mark.parametrize(("lang", "message"), [
    ("vi", "Cần một SIP URI, ví dụ room@vc.example."), ("en", "A SIP URI like room@vc.example is required.")])
def test_bad_rows_are_shown_on_their_row(browser_for: Any, secretary: Any, demo_endpoints: dict[str, int],
                                         lang: str, message: str) -> None:
    ids = list(demo_endpoints.values())[:2]
    b = browser_for(secretary)
    b.post("/language", {"locale": lang})
    form = booking_form(ids, ext_name_0="Sở Y tế", ext_address_0="không phải địa chỉ", ext_protocol_0="sip",
                        ext_name_1="A", ext_address_1="a@b.example", ext_uplink_1="1",
                        ext_name_2="B", ext_address_2="b@b.example", ext_uplink_2="1")
    response = b.post("/bookings/new", form)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f'<p class="field-error" id="ext_0-error">{message}</p>' in page
    assert 'id="externals-error"' in page
