"""Sign-in rate limiting: failed attempts per (username, client address) in a sliding minute.

In-memory per process: enough to stop password guessing through one worker; with several workers each
keeps its own window (the limit multiplies by the worker count, which is still a hard ceiling).
"""

from __future__ import annotations

import threading
from collections import defaultdict, deque
from datetime import timedelta

from confbridge import clock
from confbridge.errors import TooManyRequests


class LoginLimiter:
    def __init__(self, per_minute: int = 5) -> None:
        self.per_minute = per_minute
        self._failures: dict[tuple[str, str], deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def _prune(self, key: tuple[str, str], now: float) -> deque[float]:
        window = self._failures[key]
        while window and now - window[0] > timedelta(minutes=1).total_seconds():
            window.popleft()
        return window

    def check(self, username: str, address: str, limit: int | None = None) -> None:
        now = clock.now().timestamp()
        with self._lock:
            window = self._prune((username.lower(), address), now)
            if len(window) >= (limit or self.per_minute):
                raise TooManyRequests("too many failed sign-in attempts; wait a minute and try again")

    def failed(self, username: str, address: str) -> None:
        with self._lock:
            self._failures[(username.lower(), address)].append(clock.now().timestamp())

    def reset(self) -> None:
        with self._lock:
            self._failures.clear()


login_limiter = LoginLimiter()
