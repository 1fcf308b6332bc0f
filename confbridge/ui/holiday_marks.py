"""Public holidays marked on the calendar and the availability grid, named in the reader's language."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from confbridge.api.common import get_settings
from confbridge.booking.holidays import holiday_name
from confbridge.ui.i18n import select_locale


def holiday_marks(days: Iterable[date]) -> dict[date, str]:
    """{day: holiday name} for the days among *days* that are public holidays (``[booking] holidays``)."""
    country = get_settings().booking.holidays
    if not country:
        return {}
    locale = select_locale()
    out: dict[date, str] = {}
    for day in days:
        name = holiday_name(day, country, locale)
        if name:
            out[day] = name
    return out
