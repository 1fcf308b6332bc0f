"""When the monitor runs the pass a bridge's feedback hint asks for (monotonic seconds, no sleeps)."""

from __future__ import annotations

import pytest

from confbridge.monitor.loop import HINT_MIN_GAP_SECONDS, hinted_pass_delay


def test_a_dropped_call_after_a_quiet_spell_is_read_at_once() -> None:
    # The last pass began 4 s ago (the poll interval is 5 s): no debounce on the way to the console.
    assert hinted_pass_delay(100.0, 104.0) == 0.0
    assert hinted_pass_delay(100.0, 100.0 + HINT_MIN_GAP_SECONDS) == 0.0


def test_a_stream_of_hints_is_paced_from_the_start_of_the_last_pass() -> None:
    # A storm's joins hint again while a pass still reads the bridge (0.3 s in): the next pass waits
    # until the gap since the last one began has passed, so a stream costs two passes a second at most.
    assert hinted_pass_delay(100.0, 100.3) == pytest.approx(HINT_MIN_GAP_SECONDS - 0.3)
    assert hinted_pass_delay(100.0, 100.3, gap=1.0) == pytest.approx(0.7)
