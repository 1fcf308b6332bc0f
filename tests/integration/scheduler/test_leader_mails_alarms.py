"""The active scheduler e-mails alarms ([alerts]) through the outbox without any other process."""

from __future__ import annotations

import threading
import time
from typing import Any

from confbridge.alarms.service import raise_alarm
from confbridge.db import unit_of_work
from confbridge.scheduler.process import run_scheduler
from tests.fixtures.smtp import SMTPServer


def test_leader_mails_a_raised_alarm(settings: Any, session_factory: Any, smtp_server: SMTPServer) -> None:
    settings = settings.with_overrides(**{
        "mail.host": "127.0.0.1", "mail.port": smtp_server.port, "mail.poll_seconds": 0.5,
        "alerts.email": ["truc-ban@stttt.example"], "launch.lease_seconds": 3,
    })
    with unit_of_work(session_factory) as s:
        raise_alarm(s, "bridge_unreachable", "bridge_unreachable:mcu1", "alarm.bridge_unreachable",
                    {"bridge": "mcu1", "reason": "connection refused"}, severity="critical", bridge_name="mcu1")
    stop = threading.Event()
    thread = threading.Thread(target=run_scheduler, args=(settings, stop), daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not smtp_server.sink.to("truc-ban@stttt.example"):
            time.sleep(0.2)
        (mail,) = smtp_server.sink.to("truc-ban@stttt.example")
        assert "Không kết nối được MCU mcu1" in str(mail.message["Subject"])
    finally:
        stop.set()
        thread.join(20)
    assert not thread.is_alive()
