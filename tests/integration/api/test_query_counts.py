"""A week of occurrences costs the same handful of queries however many meetings it holds (no N+1):
the occurrences list of the REST API and the calendar week page, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

from tests.conftest import both_databases
from tests.factories import seed_endpoints

WEEK = "from=2026-12-07T00:00:00%2B07:00&to=2026-12-14T00:00:00%2B07:00"


@contextmanager
def counted(engine: Engine) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def book_day(client: Any, headers: dict[str, str], eps: list[int], day: int, hour: int) -> None:
    body = {"title": f"Họp {day}/{hour}", "start": f"2026-12-{day:02d}T{hour:02d}:00:00+07:00",
            "end": f"2026-12-{day:02d}T{hour:02d}:45:00+07:00", "endpoint_ids": eps, "setup_minutes": 10,
            "attendees": [{"email": f"p{day}{hour}@ubnd.example", "name": "Người dự"}]}
    assert client.post("/api/v1/meetings", json=body, headers=headers).status_code == 201


@both_databases
def test_week_of_occurrences_is_a_fixed_number_of_queries(client, engine, secretary, session_factory,
                                                           frozen_clock) -> None:
    eps = seed_endpoints(session_factory, 4)
    book_day(client, secretary.headers, eps[:2], 7, 8)
    book_day(client, secretary.headers, eps[2:], 8, 8)
    with counted(engine) as few_api:
        few = client.get(f"/api/v1/occurrences?{WEEK}", headers=secretary.headers)
    with counted(engine) as few_page:
        assert client.get("/calendar?date=2026-12-08", headers=secretary.headers).status_code == 200
    for day in range(7, 12):  # ten more meetings in the same week
        for hour in (10, 14):
            book_day(client, secretary.headers, eps[(day + hour) % 4:(day + hour) % 4 + 1], day, hour)
    with counted(engine) as many_api:
        many = client.get(f"/api/v1/occurrences?{WEEK}", headers=secretary.headers)
    with counted(engine) as many_page:
        page = client.get("/calendar?date=2026-12-08", headers=secretary.headers)
    assert few.status_code == many.status_code == page.status_code == 200
    assert len(few.json) == 2 and len(many.json) == 12
    assert {o["title"] for o in many.json} >= {"Họp 7/8", "Họp 11/14"}
    assert all(o["organiser"] == secretary.username and o["endpoint_ids"] for o in many.json)
    assert "Họp 11/14" in page.get_data(as_text=True)
    # Six times the meetings, not one query more (a query per meeting would add ten or more).
    assert len(many_api) == len(few_api), many_api
    assert len(many_page) == len(few_page), many_page
