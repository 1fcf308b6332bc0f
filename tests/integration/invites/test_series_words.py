"""What participants read about a series is words in their language — the mail body (both blocks), the
ICS DESCRIPTION, the booking form's invitation preview — never the raw RRULE."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
from sqlalchemy.orm import Session, sessionmaker

from confbridge.invites.outbox import deliver_due
from confbridge.settings import Settings
from tests.fixtures.smtp import SMTPServer
from tests.integration.invites.conftest import Booker, calendar_part

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
MONDAY_8 = datetime(2026, 12, 7, 8, 0, tzinfo=HCM)
VI = "Hằng tuần vào Thứ Hai lúc 08:00, 3 buổi"
EN = "Every week on Monday at 08:00, 3 occurrences"


def test_mail_and_calendar_describe_the_series_in_words(
    booker: Booker, settings: Settings, session_factory: sessionmaker[Session], smtp_server: SMTPServer,
) -> None:
    # A weekly rule without BYDAY (the API accepts it): the weekday is the start's.
    booker.create(MONDAY_8, MONDAY_8 + timedelta(hours=1), rrule="FREQ=WEEKLY;COUNT=3")
    smtp = settings.with_overrides(**{"mail.host": "127.0.0.1", "mail.port": smtp_server.port})
    report = deliver_due(session_factory, smtp)
    assert not report.failed and not report.retrying
    mail = smtp_server.messages[-1].message
    plain = mail.get_body(("plain",))
    html = mail.get_body(("html",))
    assert plain is not None and html is not None
    for body in (plain.get_content(), html.get_content()):
        assert body.count(VI) == 1 and body.count(EN) == 1  # once each, not in "Thời gian" and again below
        assert "FREQ=" not in body and "COUNT=" not in body
    data, _method = calendar_part(mail)
    (event,) = icalendar.Calendar.from_ical(data).walk("VEVENT")
    description = str(event["DESCRIPTION"])
    assert f"Lặp lại: {VI}" in description and f"Repeats: {EN}" in description
    assert "FREQ" not in description
    assert event["RRULE"].to_ical().decode() == "FREQ=WEEKLY;COUNT=3"  # the rule stays for the client
