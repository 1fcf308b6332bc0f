"""Week and day views, filters, status colours, and the availability grid with setup windows."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from confbridge.booking.models import Occurrence
from tests.integration.ui.conftest import booking_form

pytestmark = pytest.mark.usefixtures("frozen_clock")


@pytest.fixture
def booked(browser_for: Any, secretary: Any, demo_endpoints: dict[str, int]) -> dict[str, Any]:
    ids = list(demo_endpoints.values())
    b = browser_for(secretary)
    weekly = b.post("/bookings/new", booking_form(ids[:15]))
    other = b.post(
        "/bookings/new",
        booking_form(
            ids[15:17],
            title="Tập huấn chuyển đổi số",
            date="09/12/2026",
            start_time="14:00",
            duration="120",
            repeat="none",
            setup_minutes="30",
        ),
    )
    assert weekly.status_code == other.status_code == 302
    b.get(other.headers["Location"])  # show (and so consume) the "saved" messages
    return {
        "browser": b,
        "ids": ids,
        "weekly": int(weekly.headers["Location"].rsplit("/", 1)[1]),
        "other": int(other.headers["Location"].rsplit("/", 1)[1]),
    }


def test_week_view_shows_the_week_with_today_highlighted(booked: dict[str, Any]) -> None:
    b = booked["browser"]
    this_week = b.get("/calendar").get_data(as_text=True)
    assert "Lịch tuần 49: 30/11/2026 – 06/12/2026" in this_week
    today = re.search(r'<section class="day-col today"[^>]*aria-current="date"', this_week)
    assert today is not None and "30/11/2026 · Hôm nay" in this_week
    assert this_week.count("Không có cuộc họp") == 7

    page = b.get("/calendar?date=2026-12-07").get_data(as_text=True)
    assert "Lịch tuần 50: 07/12/2026 – 13/12/2026" in page
    monday = page.split('id="day-1"')[1].split('id="day-2"')[0]
    assert "07:30–09:00" in monday and "Giao ban tuần" in monday and "15 điểm cầu" in monday
    wednesday = page.split('id="day-3"')[1].split('id="day-4"')[0]
    assert "14:00–16:00" in wednesday and "Tập huấn chuyển đổi số" in wednesday
    assert 'class="event status-planned"' in page and "day-col today" not in page


def test_day_view_lists_every_endpoint(booked: dict[str, Any]) -> None:
    page = booked["browser"].get("/calendar?view=day&date=2026-12-14").get_data(as_text=True)
    assert "Lịch ngày 14/12/2026" in page
    assert "Hội trường UBND tỉnh; Văn phòng Tỉnh ủy;" in page
    assert "UBND huyện Phú Quốc" in page


def test_filter_by_endpoint_and_by_site(booked: dict[str, Any], demo_endpoints: dict[str, int]) -> None:
    b = booked["browser"]
    only_phu_quoc = b.get(f"/calendar?date=2026-12-07&ep={demo_endpoints['UBND huyện Phú Quốc']}").get_data(
        as_text=True
    )
    assert "Giao ban tuần" in only_phu_quoc and "Tập huấn chuyển đổi số" not in only_phu_quoc
    only_other = b.get(f"/calendar?date=2026-12-07&ep={booked['ids'][15]}").get_data(as_text=True)
    assert "Giao ban tuần" not in only_other and "Tập huấn chuyển đổi số" in only_other
    sites = re.findall(
        r'<option value="(\d+)"[^>]*>([^<]+)</option>',
        only_other.split('id="filter-site"')[1].split("</select>")[0],
    )
    assert sites, "the site filter lists the sites"
    site_id = sites[0][0]
    assert b.get(f"/calendar?date=2026-12-07&site={site_id}").status_code == 200


def test_cancelled_and_live_occurrences_have_their_own_colour(
    booked: dict[str, Any],
    session_factory: sessionmaker[Session],
) -> None:
    from sqlalchemy import select

    b = booked["browser"]
    meeting_id = booked["weekly"]
    b.post(f"/meetings/{meeting_id}/occurrences/20261207T003000Z/cancel", {"scope": "this"})
    page = b.get("/calendar?date=2026-12-07").get_data(as_text=True)
    assert 'class="event status-cancelled"' in page and "Đã hủy ·" in page

    from confbridge.launch.models import ConferenceRun, RunState

    with session_factory.begin() as s:
        occ = s.scalar(select(Occurrence).where(Occurrence.meeting_id == booked["other"]))
        s.add(
            ConferenceRun(
                occurrence_id=occ.id,
                meeting_id=occ.meeting_id,
                state=RunState.LIVE,
                planned_start=occ.start,
                planned_end=occ.end,
                bridge_name="test",
                conference_name="cb-test",
            )
        )
    page = b.get("/calendar?date=2026-12-07").get_data(as_text=True)
    assert 'class="event status-live"' in page and "Đang diễn ra ·" in page


def test_availability_grid_shows_busy_setup_and_free(
    booked: dict[str, Any], demo_endpoints: dict[str, int]
) -> None:
    page = booked["browser"].get("/availability?date=09/12/2026").get_data(as_text=True)
    assert "Tình trạng điểm cầu — Thứ Tư, 09/12/2026" in page
    row = _row(page, "UBND huyện An Minh")
    # From 06:00 in 15-minute cells: setup 13:30–14:00 (cells 30–31), the meeting 14:00–16:00 (32–39).
    cells = re.findall(r'<td colspan="(\d+)" class="slot (\w+)', row)
    assert [(int(n), kind) for n, kind in cells] == [(30, "free"), (2, "setup"), (8, "busy"), (16, "free")]
    assert "Tập huấn chuyển đổi số" in row
    free_row = _row(page, "Sở Y tế")
    assert re.findall(r'<td colspan="(\d+)" class="slot (\w+)', free_row) == [("56", "free")]
    # Sites group the endpoints.
    assert page.count('class="site-row"') >= 2


def test_availability_is_for_secretaries_and_admins(browser_for: Any, technician: Any) -> None:
    assert browser_for(technician).get("/availability").status_code == 403


def _row(page: str, name: str) -> str:
    start = page.index(f'<th scope="row" class="ep-col">{name}')
    return page[start : page.index("</tr>", start)]
