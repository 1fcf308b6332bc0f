"""The SQLite gate: granted in arrival order, a lease renewal (``first``) ahead of every waiting step."""

from __future__ import annotations

import threading
import time

from confbridge.launch.dbgate import FairGate


def _queue_up(gate: FairGate, order: list[str], name: str, priority: bool) -> threading.Thread:
    def run() -> None:
        with gate.first if priority else gate:
            order.append(name)

    thread = threading.Thread(target=run)
    before = gate.waiting()
    thread.start()
    deadline = time.monotonic() + 5
    while gate.waiting() == before and time.monotonic() < deadline:  # wait until it is queued (ordering)
        time.sleep(0.001)
    return thread


def test_waiters_get_the_gate_in_arrival_order_and_a_renewal_first() -> None:
    gate = FairGate()
    order: list[str] = []
    gate.acquire()
    threads = [_queue_up(gate, order, f"step{i}", False) for i in range(5)]
    threads.append(_queue_up(gate, order, "renewal", True))
    gate.release()
    for t in threads:
        t.join(5)
    assert order == ["renewal", "step0", "step1", "step2", "step3", "step4"]


def test_reentrant_for_its_holder_and_refused_to_others() -> None:
    gate = FairGate()
    with gate, gate.first, gate:
        pass
    errors: list[BaseException] = []
    gate.acquire()
    t = threading.Thread(target=lambda: _release_into(gate, errors))
    t.start()
    t.join(5)
    gate.release()
    assert len(errors) == 1 and isinstance(errors[0], RuntimeError)
    with gate:  # free again
        pass


def _release_into(gate: FairGate, errors: list[BaseException]) -> None:
    try:
        gate.release()
    except RuntimeError as exc:
        errors.append(exc)
