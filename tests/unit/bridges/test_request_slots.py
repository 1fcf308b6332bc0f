"""Request slots: never more than N calls in flight; a freed slot goes to a waiting state read first."""

from __future__ import annotations

import threading
import time

from confbridge.bridges.xmlrpc_transport import RequestSlots


def test_priority_call_overtakes_queued_commands() -> None:
    slots = RequestSlots(1)
    order: list[str] = []
    holder_in = threading.Event()
    release_holder = threading.Event()

    def holder() -> None:
        with slots.slot():
            holder_in.set()
            release_holder.wait(5)

    def worker(name: str, priority: bool) -> None:
        with slots.slot(priority=priority):
            order.append(name)

    t0 = threading.Thread(target=holder)
    t0.start()
    assert holder_in.wait(5)
    commands = [threading.Thread(target=worker, args=(f"dial{i}", False)) for i in range(3)]
    for t in commands:
        t.start()
    time.sleep(0.05)  # let the commands queue up first (ordering, not business time)
    poll = threading.Thread(target=worker, args=("poll", True))
    poll.start()
    deadline = time.monotonic() + 5
    while slots._waiting_priority == 0 and time.monotonic() < deadline:  # the poll is queued too
        time.sleep(0.001)
    release_holder.set()
    for t in [t0, poll, *commands]:
        t.join(5)
    assert order[0] == "poll" and sorted(order[1:]) == ["dial0", "dial1", "dial2"]


def test_never_more_than_size_in_flight() -> None:
    slots = RequestSlots(4)
    in_flight = peak = 0
    lock = threading.Lock()

    def call(priority: bool) -> None:
        nonlocal in_flight, peak
        with slots.slot(priority=priority):
            with lock:
                in_flight += 1
                peak = max(peak, in_flight)
            time.sleep(0.005)
            with lock:
                in_flight -= 1

    threads = [threading.Thread(target=call, args=(i % 3 == 0,)) for i in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert peak == 4 and in_flight == 0
