"""A series in words (confbridge.booking.describe): the page's wording for the common shapes, and every
rule the booking API accepts described in both languages — never a '?', never the raw rule, the English
text fully translated."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from confbridge.booking import recurrence
from confbridge.booking.describe import describe_series
from confbridge.errors import InvalidInput

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
MONDAY_8 = datetime(2026, 12, 7, 8, 0, tzinfo=HCM)
VIETNAMESE = re.compile(r"[àáảãạăắằẳẵặâấầẩẫậđèéẻẽẹêếềểễệìíỉĩịòóỏõọôốồổỗộơớờởỡợùúủũụưứừửữựỳýỷỹỵ]", re.I)


@pytest.mark.parametrize(("rule", "vi", "en"), [
    ("FREQ=WEEKLY;BYDAY=MO;COUNT=12", "Hằng tuần vào Thứ Hai lúc 08:00, 12 buổi",
     "Every week on Monday at 08:00, 12 occurrences"),
    # No BYDAY (valid through the API): the weekday is the start's, never '?'.
    ("FREQ=WEEKLY;COUNT=3", "Hằng tuần vào Thứ Hai lúc 08:00, 3 buổi", "Every week on Monday at 08:00, 3 occurrences"),
    ("FREQ=DAILY;COUNT=5", "Hằng ngày lúc 08:00, 5 buổi", "Every day at 08:00, 5 occurrences"),
    ("FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;UNTIL=20261231T165959Z",
     "Mọi ngày làm việc (Thứ Hai – Thứ Sáu) lúc 08:00, đến hết ngày 31/12/2026",
     "Every weekday (Monday – Friday) at 08:00, until 31/12/2026"),
    ("FREQ=MONTHLY;BYDAY=-1FR;COUNT=3", "Thứ Sáu cuối cùng của mỗi tháng lúc 08:00, 3 buổi",
     "The last Friday of every month at 08:00, 3 occurrences"),
    ("FREQ=MONTHLY;COUNT=3", "Hằng tháng lúc 08:00, vào ngày 7 trong tháng, 3 buổi",
     "Monthly at 08:00, on day 7 of the month, 3 occurrences"),
    ("FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,WE;COUNT=4", "Cách 2 tuần một lần lúc 08:00, vào Thứ Hai và Thứ Tư, 4 buổi",
     "Every 2 weeks at 08:00, on Monday and Wednesday, 4 occurrences"),
    ("FREQ=YEARLY;COUNT=2", "Hằng năm lúc 08:00, trong tháng 12, vào ngày 7 trong tháng, 2 buổi",
     "Yearly at 08:00, in month 12, on day 7 of the month, 2 occurrences"),
    (None, "Một lần, lúc 08:00", "Once, at 08:00"),
])
def test_common_shapes_in_both_languages(rule: str | None, vi: str, en: str) -> None:
    stored = recurrence.normalise_rrule(rule, HCM) if rule else None  # accepted by the API as it is
    assert describe_series(stored, MONDAY_8, HCM, "vi") == vi
    assert describe_series(stored, MONDAY_8, HCM, "en") == en


def test_skipped_days_and_until_are_dates_in_the_series_zone() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    start = datetime(2027, 3, 1, 7, 30, tzinfo=berlin)
    rule = recurrence.normalise_rrule("FREQ=WEEKLY;BYDAY=MO;UNTIL=20270329", berlin)
    skipped = [datetime(2027, 3, 15, 6, 30, tzinfo=UTC)]
    assert describe_series(rule, start, berlin, "en", skipped) == (
        "Every week on Monday at 07:30, until 29/03/2027, skipping 15/03/2027")


_WEEKDAY = st.sampled_from(["MO", "TU", "WE", "TH", "FR", "SA", "SU"])
_PARTS = {
    "INTERVAL": st.integers(1, 4).map(str),
    "BYDAY": st.lists(st.tuples(st.sampled_from(["", "1", "2", "-1", "3", "+2", "5", "-2"]), _WEEKDAY),
                      min_size=1, max_size=3).map(lambda xs: ",".join(n + d for n, d in xs)),
    "BYMONTHDAY": st.lists(st.sampled_from([1, 7, 15, 28, -1, -3]), min_size=1, max_size=2)
    .map(lambda xs: ",".join(map(str, xs))),
    "BYMONTH": st.lists(st.integers(1, 12), min_size=1, max_size=3).map(lambda xs: ",".join(map(str, xs))),
    "BYSETPOS": st.sampled_from(["1", "-1", "2"]),
    "BYWEEKNO": st.sampled_from(["1", "20", "-1"]),
    "BYYEARDAY": st.sampled_from(["1", "100", "-1"]),
    "BYHOUR": st.sampled_from(["8", "8,14", "7"]),
    "BYMINUTE": st.sampled_from(["0", "30", "0,30"]),
    "WKST": _WEEKDAY,
}


@st.composite
def api_rules(draw: st.DrawFn) -> str:
    freq = draw(st.sampled_from(["DAILY", "WEEKLY", "MONTHLY", "YEARLY"]))
    keys = draw(st.lists(st.sampled_from(sorted(_PARTS)), unique=True, max_size=4))
    end = draw(st.sampled_from(["COUNT=3", "UNTIL=20271231", "COUNT=12"]))
    return ";".join([f"FREQ={freq}", *(f"{k}={draw(_PARTS[k])}" for k in keys), end])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(rule=api_rules(), start_day=st.integers(0, 27))
def test_every_rule_the_api_accepts_is_described_in_both_languages(rule: str, start_day: int) -> None:
    try:
        stored = recurrence.normalise_rrule(rule, HCM)  # the API's own validation
    except InvalidInput:
        return  # refused with a field error: nothing is ever described
    start = datetime(2027, 2, 1 + start_day, 8, 0, tzinfo=HCM)
    vi = describe_series(stored, start, HCM, "vi")
    en = describe_series(stored, start, HCM, "en")
    for text in (vi, en):
        assert "?" not in text and "=" not in text and ";" not in text, text
        assert not re.search(r"\b(FREQ|BY[A-Z]+|COUNT|UNTIL|INTERVAL|WKST)\b", text), text
        assert "%(" not in text, text
    assert not VIETNAMESE.search(en), f"untranslated words in {en!r}"
    assert vi != en
    assert ("buổi" in vi) == ("COUNT" in stored) and ("đến hết ngày" in vi) == ("UNTIL" in stored)
