"""Property-based fuzzing of every REST operation against the app's own OpenAPI document (schemathesis).

An integrator who sends anything the document allows — or anything close to it — must get a clear answer:
never a 5xx (a traceback in the log and no usable error), and every 422 carries the documented
``{"error", "message", "fields": {name: message}}`` body so a client can point at the wrong field.

Bounded for CI: a few derandomised examples per operation, the whole run well under a minute.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from confbridge.auth.models import User
from confbridge.auth.ratelimit import sign_in_guard
from confbridge.booking import templates
from confbridge.directory import groups
from tests.factories import book, make_endpoints

MAX_EXAMPLES = 15
HUGE_IDS = [2**31, 2**63, 10**30]


@pytest.fixture
def seeded(app: Any, admin: Any, session_factory: Any, frozen_clock: Any) -> dict[str, Any]:
    """Three endpoints and a weekly meeting, so that fuzzed ids sometimes hit real rows."""
    settings_ = app.extensions["confbridge"].settings
    with session_factory.begin() as s:
        eps = make_endpoints(s, 3)
        user = s.get(User, admin.id)
        meeting = book(s, settings_, user, title="Giao ban tuần", start=datetime(2026, 12, 7, 0, 30, tzinfo=UTC),
                       end=datetime(2026, 12, 7, 2, 0, tzinfo=UTC), endpoint_ids=eps[:2],
                       rrule="FREQ=WEEKLY;BYDAY=MO;COUNT=4")
        occurrence = meeting.occurrences[1].original_start.isoformat()
        group = groups.create_group(s, {"name": "Các huyện", "endpoint_ids": eps[:2]}, admin.id)
        template = templates.create_template(s, settings_, user, {"name": "Giao ban", "duration_minutes": 60,
                                                                  "endpoint_ids": eps[:1]})
        return {"endpoint_ids": eps, "meeting_id": meeting.id, "occurrence_start": occurrence,
                "username": admin.username, "group_id": group.id, "template_id": template.id}


def _known_values(seeded: dict[str, Any]) -> dict[str, list[Any]]:
    return {
        "meeting_id": [seeded["meeting_id"]],
        "endpoint_id": seeded["endpoint_ids"],
        "occurrence_start": [seeded["occurrence_start"]],
        "username": [seeded["username"]],
        "group_id": [seeded["group_id"]],
        "template_id": [seeded["template_id"]],
    }


def _check_response(case: Any, response: Any) -> None:
    where = f"{case.method} {case.formatted_path} body={case.body!r} query={case.query!r}"
    assert response.status_code < 500, f"{where} answered {response.status_code}: {response.text[:500]}"
    if response.status_code == 422:
        body = response.json()
        assert isinstance(body, dict), f"{where}: 422 body is not an object: {response.text[:300]}"
        assert body.get("error") and isinstance(body.get("message"), str), f"{where}: {body}"
        fields = body.get("fields")
        assert isinstance(fields, dict) and fields, f"{where}: 422 without field messages: {body}"
        assert all(isinstance(k, str) and isinstance(v, str) and v for k, v in fields.items()), f"{where}: {body}"
    if response.status_code >= 400:
        body = response.json()
        assert isinstance(body, dict) and "error" in body and "message" in body, f"{where}: {response.text[:300]}"


def test_no_operation_answers_5xx_and_422_names_fields(app: Any, admin: Any, seeded: dict[str, Any]) -> None:
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    known = _known_values(seeded)
    tested: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        tested.append(f"{operation.method.upper()} {operation.path}")
        # Valid requests and deliberately invalid ones (wrong types, out-of-range numbers, missing fields).
        cases = st.one_of(
            operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE),
        )

        @settings(max_examples=MAX_EXAMPLES, derandomize=True, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(case=cases, data=st.data())
        def exercise(case: Any, data: st.DataObject) -> None:
            # Aim path ids at rows that exist (so the handlers behind the 404s run too) or past the
            # database's INTEGER range (an id an integrator can type, which the document may not forbid).
            for name in list(case.path_parameters or {}):
                choice = data.draw(st.sampled_from(["generated", "known", "huge"]), label=f"{name} kind")
                if choice == "known" and name in known:
                    case.path_parameters[name] = data.draw(st.sampled_from(known[name]), label=name)
                elif choice == "huge" and name.endswith("_id"):
                    case.path_parameters[name] = data.draw(st.sampled_from(HUGE_IDS), label=name)
            response = case.call(headers=admin.headers)
            _check_response(case, response)

        try:
            exercise()
        finally:
            sign_in_guard(app).reset()  # POST /auth/token is fuzzed too: do not leave the limiter tripped
    # The document must describe the whole API (an operation missing from it is never fuzzed).
    assert "POST /api/v1/meetings" in tested and "PATCH /api/v1/meetings/{meeting_id}" in tested
    assert len(tested) >= 30, tested
