"""The sign-in limiter counts per (username, address) over a sliding minute of the confbridge clock."""

from __future__ import annotations

from datetime import timedelta

from confbridge import clock
from confbridge.ui.ratelimit import LoginLimiter


def test_limit_per_user_and_address_with_a_sliding_minute(frozen_clock: clock.FrozenClock) -> None:
    limiter = LoginLimiter(per_minute=3)
    for _ in range(3):
        assert limiter.blocked_for("thuky", "10.0.0.1") == 0
        limiter.hit("ThuKy", "10.0.0.1")  # usernames compare case-insensitively
        frozen_clock.advance(seconds=10)
    assert limiter.blocked_for("thuky", "10.0.0.1") == 30  # the first hit leaves the window in 30 s
    assert limiter.blocked_for("thuky", "10.0.0.2") == 0  # another address
    assert limiter.blocked_for("admin", "10.0.0.1") == 0  # another user
    frozen_clock.advance(timedelta(seconds=30))
    assert limiter.blocked_for("thuky", "10.0.0.1") == 0
    limiter.hit("thuky", "10.0.0.1")
    assert limiter.blocked_for("thuky", "10.0.0.1") > 0
    limiter.reset("thuky", "10.0.0.1")
    assert limiter.blocked_for("thuky", "10.0.0.1") == 0
