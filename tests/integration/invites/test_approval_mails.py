"""Approval and e-mail at a real SMTP server (aiosmtpd): a pending booking's invitations are held; the
approval releases them and tells the organiser (in their language) and the booker; a rejection sends
no invitation, only the decision with its reason."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from confbridge.app import create_app
from confbridge.auth.models import User
from confbridge.directory.models import Endpoint
from confbridge.invites.outbox import deliver_due
from confbridge.settings import Settings
from tests.factories import seed_endpoints
from tests.fixtures.smtp import Received, SMTPServer

ATTENDEE = "chanh.vanphong@ubnd.example"


def _deliver(factory: sessionmaker[Session], settings: Settings, server: SMTPServer) -> list[Received]:
    before = len(server.messages)
    report = deliver_due(factory, settings)
    assert not report.retrying and not report.failed
    return server.messages[before:]


def _plain(mail: Received) -> str:
    part = mail.message.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


def _booking(eps: list[int], day: int, title: str) -> dict[str, Any]:
    return {"title": title, "start": f"2026-12-{day:02d}T07:30:00+07:00", "end": f"2026-12-{day:02d}T09:00:00+07:00",
            "endpoint_ids": eps, "organizer": "chutich",
            "attendees": [{"email": ATTENDEE, "name": "Chánh Văn phòng"}]}


def test_invitations_wait_for_the_decision_and_the_organiser_hears_it(
        settings: Settings, engine: Any, session_factory: sessionmaker[Session], make_user: Any,
        smtp_server: SMTPServer, frozen_clock: Any) -> None:
    mail_settings = settings.with_overrides(**{"mail.host": "127.0.0.1", "mail.port": smtp_server.port})
    client = create_app(mail_settings, engine=engine, testing=True).test_client()
    booker = make_user("secretary", "thuky")
    make_user("secretary", "chutich")
    approver = make_user("approver", "sotttt")
    eps = seed_endpoints(session_factory, 2)
    with session_factory.begin() as s:
        s.execute(update(Endpoint).where(Endpoint.id == eps[0]).values(requires_approval=True))
        s.execute(update(User).where(User.username == "chutich").values(locale="en", display_name="Chủ tịch UBND"))
        s.execute(update(User).where(User.username == "sotttt").values(display_name="Sở TT&TT"))

    first = client.post("/api/v1/meetings", headers=booker.headers, json=_booking(eps, 7, "Hội nghị tỉnh")).json
    assert first["status"] == "pending"
    assert _deliver(session_factory, mail_settings, smtp_server) == []  # held

    assert client.post(f"/api/v1/meetings/{first['id']}/approve", headers=approver.headers).status_code == 200
    mails = _deliver(session_factory, mail_settings, smtp_server)
    by_rcpt = {m.rcpt_tos[0]: m for m in mails}
    assert sorted(by_rcpt) == sorted([ATTENDEE, "chutich@ubnd.example", "thuky@ubnd.example"])
    invitation = by_rcpt[ATTENDEE].message
    assert invitation["Subject"].startswith("[Mời họp / Invitation]")
    assert any(p.get_content_type() == "text/calendar" for p in invitation.walk())
    organiser = by_rcpt["chutich@ubnd.example"]
    assert organiser.message["Subject"] == "[Meeting approved] Hội nghị tỉnh"
    assert "«Hội nghị tỉnh» was approved by Sở TT&TT; the invitations have been sent" in _plain(organiser)
    assert "07:30 07/12/2026" in _plain(organiser)
    assert not any(p.get_content_type() == "text/calendar" for p in organiser.message.walk())
    booker_mail = by_rcpt["thuky@ubnd.example"]
    assert booker_mail.message["Subject"] == "[Lịch họp đã được phê duyệt] Hội nghị tỉnh"
    assert "đã được Sở TT&TT phê duyệt" in _plain(booker_mail)

    second = client.post("/api/v1/meetings", headers=booker.headers, json=_booking(eps, 8, "Giao ban <b>")).json
    assert _deliver(session_factory, mail_settings, smtp_server) == []
    r = client.post(f"/api/v1/meetings/{second['id']}/reject", headers=approver.headers,
                    json={"reason": "Hội trường bảo trì"})
    assert r.status_code == 200
    mails = _deliver(session_factory, mail_settings, smtp_server)
    assert sorted(m.rcpt_tos[0] for m in mails) == ["chutich@ubnd.example", "thuky@ubnd.example"]  # no CANCEL
    english = next(m for m in mails if m.rcpt_tos == ["chutich@ubnd.example"])
    assert english.message["Subject"] == "[Meeting rejected] Giao ban <b>"
    text = _plain(english)
    assert "«Giao ban <b>» was rejected by Sở TT&TT" in text and "Reason: Hội trường bảo trì" in text
    html = english.message.get_body(("html",))
    assert html is not None and "Giao ban &lt;b&gt;" in str(html.get_content())
