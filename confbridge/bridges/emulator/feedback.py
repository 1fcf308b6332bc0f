"""Feedback receivers: ``feedbackReceiver.*`` and the asynchronous ``eventNotification`` pushes.

The device posts an XML-RPC call with one struct ``{sourceIdentifier, events: [names]}`` to each
configured receiver.  Events carry no details (the receiver polls ``*.enumerate`` afterwards), so they
are coalesced in short windows, delivered from a background thread and retried a little while the
receiver is down.  The method name is ``eventNotification`` (as in the TelePresence Server; the MCU
guide's example shows only ``<params>``, so it is configurable).

Safety deviation from the device: receivers must be on loopback (127.0.0.1, ::1, localhost); the
emulator never contacts any other address.
"""

from __future__ import annotations

import http.client
import queue
import threading
import time
import xmlrpc.client
from typing import Any
from urllib.parse import urlsplit

from confbridge.bridges.emulator.model import utcnow
from confbridge.bridges.emulator.params import Params, fault

SLOTS = 20
LOOPBACK = {"127.0.0.1", "::1", "localhost"}
COALESCE_SECONDS = 0.05


class Feedback:
    def __init__(self, *, source_identifier: str = "00:50:C2:7E:00:01",
                 method_name: str = "eventNotification") -> None:
        self.source_identifier = source_identifier
        self.method_name = method_name
        self.lock = threading.Lock()
        self.receivers: dict[int, dict[str, Any]] = {}
        self.deliveries: list[dict[str, Any]] = []
        self._queue: queue.Queue[tuple[str, int | None]] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="mcu-emulator-feedback", daemon=True)
        self._thread.start()

    def reset(self) -> None:
        with self.lock:
            self.receivers.clear()
            self.deliveries.clear()

    # ---- API methods ---------------------------------------------------------------------------------
    def _uri(self, p: Params, required: bool) -> str | None:
        uri = p.string("receiverURI", required=required, max_len=255)
        if uri is None:
            return None
        parts = urlsplit(uri)
        if parts.scheme not in ("http", "https") or not parts.path.endswith("/RPC2") \
                or parts.hostname not in LOOPBACK:
            raise fault(102, "receiverURI")
        return uri

    def _events(self, p: Params) -> dict[str, bool] | None:
        events = p.struct_("events")
        if events is not None and not all(isinstance(v, bool) for v in events.values()):
            raise fault(103, "events")
        return events

    def configure(self, p: Params) -> dict[str, Any]:
        uri = self._uri(p, required=True)
        index = p.integer("receiverIndex")
        source = p.string("sourceIdentifier") or self.source_identifier
        events = self._events(p)
        with self.lock:
            if index is None:
                index = 1  # documented: omitted means position 1, overwriting
            elif index == -1:
                free = [i for i in range(1, SLOTS + 1) if i not in self.receivers]
                if not free:
                    raise fault(201)
                index = free[0]
            elif not 1 <= index <= SLOTS:
                raise fault(102, "receiverIndex")
            self.receivers[index] = {"receiverURI": uri, "sourceIdentifier": source, "events": events}
        self._queue.put(("configureAck", index))
        return {"receiverIndex": index, "status": "Operation successful"}

    def reconfigure(self, p: Params) -> dict[str, Any]:
        index = p.integer("receiverIndex", required=True)
        uri = self._uri(p, required=False)
        events = self._events(p)
        source = p.string("sourceIdentifier")
        with self.lock:
            slot = self.receivers.get(index or 0)
            if slot is None:
                raise fault(102, "receiverIndex")
            if uri is not None:
                slot["receiverURI"] = uri
            if events is not None:
                slot["events"] = events
            if source is not None:
                slot["sourceIdentifier"] = source
        return {"receiverIndex": index, "status": "Operation successful"}

    def query(self, p: Params) -> dict[str, Any]:
        with self.lock:
            return {"receivers": [{"receiverURI": r["receiverURI"], "sourceIdentifier": r["sourceIdentifier"],
                                   "index": i} for i, r in sorted(self.receivers.items())]}

    def remove(self, p: Params) -> dict[str, Any]:
        index = p.integer("receiverIndex", required=True)
        with self.lock:
            if self.receivers.pop(index or 0, None) is None:
                raise fault(102, "receiverIndex")
        return {"status": "Operation successful"}

    # ---- pushes --------------------------------------------------------------------------------------
    def notify(self, event: str) -> None:
        """Queue *event* for every receiver subscribed to it."""
        self._queue.put((event, None))

    def _run(self) -> None:
        while True:
            batch = [self._queue.get()]
            deadline = time.monotonic() + COALESCE_SECONDS
            while (left := deadline - time.monotonic()) > 0:
                try:
                    batch.append(self._queue.get(timeout=left))
                except queue.Empty:
                    break
            with self.lock:
                receivers = dict(self.receivers)
            for index, receiver in receivers.items():
                names: list[str] = []
                for event, only in batch:
                    if only not in (None, index) or event in names:
                        continue
                    wanted = receiver["events"]
                    default = event != "activeSpeakerChanged"
                    if event == "configureAck" or (wanted.get(event, False) if wanted else default):
                        names.append(event)
                if names:
                    self._deliver(receiver, names)

    def _deliver(self, receiver: dict[str, Any], events: list[str]) -> None:
        parts = urlsplit(receiver["receiverURI"])
        body = xmlrpc.client.dumps(({"sourceIdentifier": receiver["sourceIdentifier"], "events": events},),
                                   self.method_name).encode("utf-8")
        ok = False
        for _attempt in range(3):
            try:
                https = parts.scheme == "https"
                conn_cls = http.client.HTTPSConnection if https else http.client.HTTPConnection
                conn = conn_cls(parts.hostname or "127.0.0.1", parts.port or (443 if https else 80),
                                timeout=2)
                conn.request("POST", parts.path, body, {"Content-Type": "text/xml"})
                ok = conn.getresponse().status == 200
                conn.close()
                if ok:
                    break
            except OSError:
                pass
            time.sleep(0.2)
        with self.lock:
            self.deliveries.append({"time": utcnow().isoformat(), "receiverURI": receiver["receiverURI"],
                                    "events": events, "delivered": ok})
            del self.deliveries[:-200]
