"""The recurrence builder writes the RRULE a secretary asked for, and reads it back for editing."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from confbridge.booking import recurrence
from confbridge.booking.describe import describe_series
from confbridge.ui.recurrence_form import (
    RecurrenceChoice,
    build_rrule,
    choice_from_rrule,
    skip_instants,
)

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
MONDAY = date(2026, 12, 7)


def _expand(
    rule: str | None,
    first: date = MONDAY,
    at: time = time(7, 30),
    exdates: list[datetime] | None = None,
    zone: ZoneInfo = HCM,
) -> list[str]:
    start = datetime.combine(first, at, tzinfo=zone)
    normalised = recurrence.normalise_rrule(rule, zone) if rule else None
    return [
        s.astimezone(zone).strftime("%a %d/%m/%Y %H:%M")
        for s in recurrence.expand(start, zone, normalised, exdates or [])
    ]


@pytest.mark.parametrize(
    ("choice", "rule"),
    [
        (RecurrenceChoice("weekly", ["MO"], count=4), "FREQ=WEEKLY;BYDAY=MO;COUNT=4"),
        (RecurrenceChoice("weekly", ["FR", "MO"], count=4), "FREQ=WEEKLY;BYDAY=MO,FR;COUNT=4"),
        (RecurrenceChoice("weekly", [], count=2), "FREQ=WEEKLY;BYDAY=MO;COUNT=2"),  # the start's weekday
        (RecurrenceChoice("weekdays", count=5), "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;COUNT=5"),
        (RecurrenceChoice("daily", count=3), "FREQ=DAILY;COUNT=3"),
        (RecurrenceChoice("monthly_nth", nth=1, nth_weekday="MO", count=3), "FREQ=MONTHLY;BYDAY=1MO;COUNT=3"),
        (
            RecurrenceChoice(
                "monthly_nth", nth=-1, nth_weekday="FR", end_kind="until", count=None, until=date(2027, 3, 31)
            ),
            "FREQ=MONTHLY;BYDAY=-1FR;UNTIL=20270331",
        ),
        (RecurrenceChoice("none"), None),
    ],
)
def test_builder_writes_the_rule(choice: RecurrenceChoice, rule: str | None) -> None:
    assert build_rrule(choice, MONDAY) == (rule, {})


def test_every_weekday_skips_the_weekend_and_skip_dates_are_removed() -> None:
    choice = RecurrenceChoice("weekdays", count=6, skip_dates=[date(2026, 12, 9)])
    rule, _ = build_rrule(choice, MONDAY)
    skipped = skip_instants(choice, time(7, 30), HCM)
    assert _expand(rule, exdates=skipped) == [
        "Mon 07/12/2026 07:30",
        "Tue 08/12/2026 07:30",
        "Thu 10/12/2026 07:30",
        "Fri 11/12/2026 07:30",
        "Mon 14/12/2026 07:30",
    ]


def test_first_monday_of_the_month_until_a_date_includes_that_day() -> None:
    rule, _ = build_rrule(
        RecurrenceChoice(
            "monthly_nth", nth=1, nth_weekday="MO", end_kind="until", count=None, until=date(2027, 2, 1)
        ),
        MONDAY,
    )
    assert _expand(rule) == ["Mon 07/12/2026 07:30", "Mon 04/01/2027 07:30", "Mon 01/02/2027 07:30"]


def test_weekly_in_berlin_keeps_the_wall_clock_across_dst() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    rule, _ = build_rrule(RecurrenceChoice("weekly", ["MO"], count=2), date(2027, 3, 22))
    starts = recurrence.expand(
        datetime(2027, 3, 22, 7, 30, tzinfo=berlin), berlin, recurrence.normalise_rrule(rule or "", berlin)
    )
    assert [s.astimezone(berlin).strftime("%H:%M") for s in starts] == ["07:30", "07:30"]
    assert [s.astimezone(UTC).hour for s in starts] == [6, 5]  # CET then CEST


@pytest.mark.parametrize(
    ("choice", "field"),
    [
        (RecurrenceChoice("weekly", ["MO"], end_kind="until", count=None, until=None), "until"),
        (RecurrenceChoice("weekly", ["MO"], end_kind="until", count=None, until=date(2026, 12, 1)), "until"),
        (RecurrenceChoice("weekly", ["MO"], count=0), "count"),
        (RecurrenceChoice("weekly", ["MO"], count=401), "count"),
        (RecurrenceChoice("monthly_nth", nth=5, nth_weekday="MO"), "nth"),
        (RecurrenceChoice("monthly_nth", nth=1, nth_weekday="XX"), "nth_weekday"),
        (RecurrenceChoice("yearly"), "repeat"),
    ],
)
def test_bad_choices_are_field_errors(choice: RecurrenceChoice, field: str) -> None:
    rule, errors = build_rrule(choice, MONDAY)
    assert rule is None and field in errors


@pytest.mark.parametrize(("choice", "words"), [
    (RecurrenceChoice("weekly", ["MO"], count=10), "Hằng tuần vào Thứ Hai lúc 07:30, 10 buổi"),
    (RecurrenceChoice("weekdays", end_kind="until", count=None, until=date(2027, 1, 31)),
     "Mọi ngày làm việc (Thứ Hai – Thứ Sáu) lúc 07:30, đến hết ngày 31/01/2027"),
    (RecurrenceChoice("monthly_nth", nth=1, nth_weekday="MO", count=6, skip_dates=[date(2027, 2, 1)]),
     "Thứ Hai đầu tiên của mỗi tháng lúc 07:30, 6 buổi, bỏ qua 01/02/2027"),
    (RecurrenceChoice("none"), "Một lần, lúc 07:30"),
])
def test_described_in_words_from_the_rule_the_builder_wrote(choice: RecurrenceChoice, words: str) -> None:
    """The form's choice, once written as a rule (and once stored, UNTIL in UTC), reads back in the
    page's words: the description comes from the rule, like the mail's and the meeting page's."""
    start = datetime.combine(MONDAY, time(7, 30), tzinfo=HCM)
    rule, errors = build_rrule(choice, MONDAY)
    assert errors == {}
    skipped = skip_instants(choice, time(7, 30), HCM)
    assert describe_series(rule, start, HCM, "vi", skipped) == words
    stored = recurrence.normalise_rrule(rule, HCM) if rule else None
    assert describe_series(stored, start, HCM, "vi", skipped) == words


@pytest.mark.parametrize(
    "choice",
    [
        RecurrenceChoice("weekly", ["MO", "TH"], count=8),
        RecurrenceChoice("weekdays", count=20),
        RecurrenceChoice("daily", count=3),
        RecurrenceChoice("monthly_nth", nth=-1, nth_weekday="FR", count=12),
        RecurrenceChoice(
            "monthly_nth", nth=2, nth_weekday="WE", end_kind="until", count=None, until=date(2027, 6, 30)
        ),
    ],
)
def test_edit_form_reads_back_what_the_builder_wrote(choice: RecurrenceChoice) -> None:
    rule, _ = build_rrule(choice, MONDAY)
    stored = recurrence.normalise_rrule(rule or "", HCM)  # what the booking service keeps (UNTIL in UTC)
    back = choice_from_rrule(stored, [datetime(2026, 12, 14, 0, 30, tzinfo=UTC)], HCM)
    assert build_rrule(back, MONDAY)[0] == rule
    assert back.skip_dates == [date(2026, 12, 14)]
