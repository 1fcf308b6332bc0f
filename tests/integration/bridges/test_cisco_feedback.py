"""Feedback receivers: the emulator pushes eventNotification calls; the driver configures them."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from confbridge.bridges.base import DialTarget, InvalidRequest
from confbridge.bridges.cisco_mcu import CiscoMcuDriver
from confbridge.bridges.xmlrpc_transport import safe_loads
from tests.fixtures.mcu import McuEmulator


class Receiver:
    def __init__(self) -> None:
        self.messages: list[tuple[str | None, dict[str, Any]]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                params, method = safe_loads(self.rfile.read(int(self.headers["Content-Length"])))
                receiver.messages.append((method, params[0]))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.uri = f"http://127.0.0.1:{self.server.server_address[1]}/RPC2"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def events(self) -> list[str]:
        return [e for _, m in self.messages for e in m["events"]]

    def wait_for(self, event: str, timeout: float = 3.0) -> None:
        deadline = time.monotonic() + timeout
        while event not in self.events():
            assert time.monotonic() < deadline, f"no {event} among {self.events()}"
            time.sleep(0.02)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.server.shutdown()
    r.server.server_close()


def test_configure_ack_and_participant_events(mcu_emulator: McuEmulator, receiver: Receiver) -> None:
    driver = CiscoMcuDriver(mcu_emulator.bridge_settings())
    index = driver.configure_feedback(receiver.uri)
    assert 1 <= index <= 20
    receiver.wait_for("configureAck")
    assert receiver.messages[0][0] == "eventNotification"
    assert receiver.messages[0][1]["sourceIdentifier"]
    driver.ensure_conference("cb-1-20261201T0030Z")
    receiver.wait_for("conferenceStarted")
    driver.ensure_participant("cb-1-20261201T0030Z", DialTarget("cb-ep-1", "sip", "a@x.example"))
    receiver.wait_for("participantJoined")
    mcu_emulator.drop("cb-1-20261201T0030Z", "cb-ep-1")
    receiver.wait_for("participantLeft")
    driver.destroy_conference("cb-1-20261201T0030Z")
    receiver.wait_for("conferenceFinished")
    assert [r["receiverURI"] for r in driver.query_feedback()] == [receiver.uri]
    driver.remove_feedback(index)
    assert driver.query_feedback() == []


def test_receiver_uri_must_end_in_rpc2(mcu_emulator: McuEmulator) -> None:
    driver = CiscoMcuDriver(mcu_emulator.bridge_settings())
    with pytest.raises(InvalidRequest) as caught:
        driver.configure_feedback("http://127.0.0.1:9/events")
    assert caught.value.fault_code == 102
