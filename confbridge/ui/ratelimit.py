"""Sign-in attempts per (username, client address) in a sliding minute.

Kept in memory: each web worker counts on its own, so with N gunicorn workers an attacker gets at most
N × the limit per minute — still a hard ceiling against password guessing, without a shared store.
Time comes from ``confbridge.clock`` so tests step it instead of sleeping.
"""

from __future__ import annotations

import threading
from collections import deque
from datetime import datetime, timedelta

from confbridge import clock

WINDOW = timedelta(minutes=1)


class LoginLimiter:
    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._hits: dict[tuple[str, str], deque[datetime]] = {}
        self._lock = threading.Lock()

    def _prune(self, key: tuple[str, str], now: datetime) -> deque[datetime]:
        hits = self._hits.setdefault(key, deque())
        while hits and hits[0] <= now - WINDOW:
            hits.popleft()
        return hits

    def blocked_for(self, username: str, address: str) -> int:
        """Seconds until another attempt is allowed (0: allowed now)."""
        now = clock.now()
        key = (username.lower(), address)
        with self._lock:
            hits = self._prune(key, now)
            if len(hits) < self.per_minute:
                return 0
            return max(1, int((hits[0] + WINDOW - now).total_seconds() + 0.999))

    def hit(self, username: str, address: str) -> None:
        now = clock.now()
        key = (username.lower(), address)
        with self._lock:
            self._prune(key, now).append(now)
            if len(self._hits) > 10000:  # bound memory under a spray of usernames
                for k in [k for k, v in self._hits.items() if not v]:
                    del self._hits[k]

    def reset(self, username: str, address: str) -> None:
        with self._lock:
            self._hits.pop((username.lower(), address), None)
