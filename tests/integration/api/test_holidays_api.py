"""Issue 14 point 5: Vietnamese public holidays.  A weekly Monday series over Tết 2027 skips the third day
of Tết (Monday 8 February 2027) as an EXDATE, listed in the response; ``on_holidays: "keep"`` keeps it;
a one-off on a holiday is booked with a warning in the caller's language; ``[booking] holidays = ""``
switches the rule off."""

from __future__ import annotations

from typing import Any

from confbridge.settings import Settings
from tests.conftest import both_databases
from tests.factories import seed_endpoints

EN = {"Accept-Language": "en"}
SERIES = {"title": "Giao ban tuần", "start": "2027-01-25T07:30:00+07:00", "end": "2027-01-25T09:00:00+07:00",
          "rrule": "FREQ=WEEKLY;BYDAY=MO;COUNT=4", "timezone": "Asia/Ho_Chi_Minh", "setup_minutes": 15}
TET_MONDAY = "2027-02-08T00:30:00+00:00"  # 07:30 in Hà Nội on the third day of Tết


def _starts(body: dict[str, Any]) -> list[str]:
    return [o["start"] for o in body["occurrences"] if o["status"] == "planned"]


@both_databases
def test_a_weekly_series_skips_tet_and_says_so(client: Any, secretary: Any, session_factory: Any,
                                               frozen_clock: Any) -> None:
    eps = seed_endpoints(session_factory, 2)
    r = client.post("/api/v1/meetings", json={**SERIES, "endpoint_ids": eps}, headers=secretary.headers)
    assert r.status_code == 201, r.json
    assert r.json["on_holidays"] == "skip"
    assert r.json["exdates"] == [TET_MONDAY]
    assert r.json["skipped_holidays"] == [{"date": "2027-02-08", "name": "Mùng ba Tết Nguyên Đán"}]
    assert r.json["warnings"] == []
    got = client.get(f"/api/v1/meetings/{r.json['id']}", headers=secretary.headers).json
    assert TET_MONDAY not in _starts(got) and len(_starts(got)) == 3
    # The skipped Monday holds no endpoint: another meeting can use the rooms that morning.
    other = client.post("/api/v1/meetings", headers=secretary.headers, json={
        "title": "Trực Tết", "start": "2027-02-08T07:30:00+07:00", "end": "2027-02-08T08:30:00+07:00",
        "endpoint_ids": eps})
    assert other.status_code == 201, other.json
    # A change of title keeps the rule; the response names the holiday in English for an English reader.
    p = client.patch(f"/api/v1/meetings/{r.json['id']}", json={"title": "Giao ban tuần (mới)"},
                     headers={**secretary.headers, **EN})
    assert p.status_code == 200 and p.json["exdates"] == [TET_MONDAY]
    assert p.json["skipped_holidays"] == [{"date": "2027-02-08", "name": "Third Day of Lunar New Year"}]


@both_databases
def test_keep_books_the_holiday_with_a_warning(client: Any, secretary: Any, session_factory: Any,
                                               frozen_clock: Any) -> None:
    eps = seed_endpoints(session_factory, 1)
    r = client.post("/api/v1/meetings", json={**SERIES, "endpoint_ids": eps, "on_holidays": "keep"},
                    headers={**secretary.headers, **EN})
    assert r.status_code == 201, r.json
    assert r.json["exdates"] == [] and r.json["skipped_holidays"] == []
    assert [w["date"] for w in r.json["warnings"]] == ["2027-02-08"]
    assert r.json["warnings"][0]["code"] == "public_holiday"
    assert "Third Day of Lunar New Year" in r.json["warnings"][0]["message"]
    assert "08/02/2027" in r.json["warnings"][0]["message"]
    # Switching the series back to "skip" turns the holiday into an EXDATE again, and back to keep.
    p = client.patch(f"/api/v1/meetings/{r.json['id']}", json={"on_holidays": "skip"}, headers=secretary.headers)
    assert p.status_code == 200 and p.json["exdates"] == [TET_MONDAY] and p.json["warnings"] == []
    p = client.patch(f"/api/v1/meetings/{r.json['id']}", json={"on_holidays": "keep"}, headers=secretary.headers)
    assert p.status_code == 200 and p.json["exdates"] == [] and len(p.json["warnings"]) == 1
    bad = client.patch(f"/api/v1/meetings/{r.json['id']}", json={"on_holidays": "maybe"},
                       headers=secretary.headers)
    assert bad.status_code == 422


def test_a_one_off_on_national_day_is_booked_with_a_warning(client: Any, secretary: Any, session_factory: Any,
                                                            frozen_clock: Any) -> None:
    eps = seed_endpoints(session_factory, 1)
    body = {"title": "Trực ban 30/4", "start": "2027-04-30T08:00:00+07:00", "end": "2027-04-30T09:00:00+07:00",
            "endpoint_ids": eps}
    r = client.post("/api/v1/meetings", json=body, headers=secretary.headers)
    assert r.status_code == 201, r.json
    [warning] = r.json["warnings"]
    assert warning["date"] == "2027-04-30" and warning["code"] == "public_holiday"
    assert "30/04/2027" in warning["message"] and "ngày nghỉ lễ" in warning["message"]
    assert r.json["skipped_holidays"] == []


def test_a_series_of_holidays_only_is_refused(client: Any, secretary: Any, session_factory: Any,
                                              frozen_clock: Any) -> None:
    eps = seed_endpoints(session_factory, 1)
    body = {"title": "Họp Tết", "start": "2027-02-06T08:00:00+07:00", "end": "2027-02-06T09:00:00+07:00",
            "rrule": "FREQ=DAILY;COUNT=3", "endpoint_ids": eps}
    r = client.post("/api/v1/meetings", json=body, headers={**secretary.headers, **EN})
    assert r.status_code == 422
    assert r.json["errors"][0]["field"] == "rrule" and r.json["errors"][0]["code"] == "only_holidays"


def test_holidays_off(client: Any, secretary: Any, session_factory: Any, frozen_clock: Any,
                      settings: Settings, app: Any) -> None:
    app.extensions["confbridge"].settings = settings.with_overrides(**{"booking.holidays": ""})
    eps = seed_endpoints(session_factory, 1)
    r = client.post("/api/v1/meetings", json={**SERIES, "endpoint_ids": eps}, headers=secretary.headers)
    assert r.status_code == 201, r.json
    assert r.json["exdates"] == [] and r.json["skipped_holidays"] == [] and r.json["warnings"] == []
