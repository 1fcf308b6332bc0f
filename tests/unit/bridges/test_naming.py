from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from confbridge.bridges.naming import (
    conference_name,
    is_ours,
    parse_conference_name,
    parse_participant_name,
    participant_name,
)

HANOI = timezone(timedelta(hours=7))


def test_conference_name_is_deterministic_utc_and_short() -> None:
    local = datetime(2026, 12, 1, 7, 30, tzinfo=HANOI)
    name = conference_name(1234, local)
    assert name == "cb-1234-20261201T0030Z"
    assert conference_name("1234", datetime(2026, 12, 1, 0, 30, 59, tzinfo=UTC)) == name
    assert len(conference_name(9_999_999_999_999, local)) == 31
    assert parse_conference_name(name) == ("1234", datetime(2026, 12, 1, 0, 30, tzinfo=UTC))


def test_names_refuse_what_the_mcu_cannot_hold() -> None:
    with pytest.raises(ValueError):
        conference_name(12345678901234, datetime(2026, 1, 1, tzinfo=UTC))  # 32 chars
    with pytest.raises(ValueError):
        conference_name(1, datetime(2026, 1, 1))  # naive
    with pytest.raises(ValueError):
        participant_name("điểm-cầu")
    with pytest.raises(ValueError):
        participant_name("x" * 26)


def test_participant_names_and_ownership() -> None:
    assert participant_name(42) == "cb-ep-42"
    assert parse_participant_name("cb-ep-42") == "42"
    assert is_ours("cb-ep-42") and is_ours("cb-7-20261201T0030Z")
    assert not is_ours("Giao ban tuan") and not is_ours("cb-") and not is_ours("1001")
    assert parse_conference_name("cb-ep-42") is None
