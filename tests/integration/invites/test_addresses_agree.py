"""One definition of an e-mail address (``confbridge.text``): an address the booking accepts is one the
mailer sends to (aiosmtpd on 127.0.0.1), and one the mailer would refuse is refused at booking, naming
the field, instead of being accepted and then silently never mailed."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.orm import Session, sessionmaker

from confbridge.errors import InvalidInput
from confbridge.invites.outbox import deliver_due
from confbridge.settings import Settings
from tests.fixtures.smtp import SMTPServer
from tests.integration.invites.conftest import Booker

START = datetime(2026, 12, 7, 7, 30, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))
UNUSUAL = "nguyen.van-an+giao_ban@so-tttt.kiengiang.example"


def test_an_address_accepted_at_booking_is_sent_to(
    booker: Booker, settings: Settings, session_factory: sessionmaker[Session], smtp_server: SMTPServer,
) -> None:
    booker.create(START, START + timedelta(hours=1), attendees=[(f"  {UNUSUAL} ", "Nguyễn Văn An")])
    report = deliver_due(session_factory, settings.with_overrides(
        **{"mail.host": "127.0.0.1", "mail.port": smtp_server.port}))
    assert not report.failed and not report.retrying
    assert [m.rcpt_tos for m in smtp_server.messages] == [[UNUSUAL]]


@pytest.mark.parametrize("address", ['an"vp@ubnd.example', "an(vp)@ubnd.example", "an@ubnd.việt",
                                     "an@ubnd.example\x7f", "a;b@ubnd.example"])
def test_an_address_the_mailer_would_refuse_is_refused_at_booking(booker: Booker, address: str) -> None:
    with pytest.raises(InvalidInput) as info:
        booker.create(START, START + timedelta(hours=1), attendees=[(address, "")])
    assert info.value.codes() == {"attendees.0.email": "invalid_email"}
    assert booker.outbox() == []
