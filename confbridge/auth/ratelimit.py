"""Sign-in protection, one guard for ``/login`` and ``POST /api/v1/auth/token``.

- **Per client address, hard**: ``web.login_attempts_per_minute`` failed attempts from one address in a
  sliding minute, then 429 until the oldest one leaves the window.  Behind a reverse proxy the address is
  the client's (``[web] trusted_proxies``), never the proxy's.
- **Per username, soft**: failed attempts against one username from anywhere slow further attempts for it
  (a growing delay, capped), but never lock it: an attacker elsewhere cannot lock a user out.
- **Bounded memory**: usernames longer than :data:`MAX_USERNAME` are refused before anything is stored;
  both stores are LRU dictionaries with a hard size whose entries expire after the window; an empty
  username or password stores nothing.
- **Bounded hashing**: at most ``web.concurrent_password_checks`` Argon2 verifications run at once in a
  process; the next caller gets 429 at once instead of queueing CPU work.

In memory per process: with N web workers an address gets at most N × the limit (still a ceiling).
Time comes from ``confbridge.clock`` so tests step it; the soft delay goes through :attr:`SignInGuard.sleep`.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from flask import Flask, current_app

from confbridge import clock
from confbridge.errors import TooManyRequests
from confbridge.i18n import N_

WINDOW = timedelta(minutes=1)
MAX_USERNAME = 64
MAX_KEYS = 10_000
SOFT_DELAY_STEP = 0.25  # seconds per failure over the limit
SOFT_DELAY_MAX = 2.0
EXTENSION = "confbridge.signin_guard"


class _Window:
    """Failures per key in a sliding window; an LRU of at most *max_keys* keys."""

    def __init__(self, per_window: int, max_keys: int) -> None:
        self.per_window = per_window
        self.max_keys = max_keys
        self._hits: OrderedDict[str, deque[datetime]] = OrderedDict()

    def _live(self, key: str, now: datetime) -> deque[datetime] | None:
        hits = self._hits.get(key)
        if hits is None:
            return None
        while hits and hits[0] <= now - WINDOW:
            hits.popleft()
        if not hits:
            del self._hits[key]
            return None
        return hits

    def count(self, key: str, now: datetime) -> tuple[int, datetime | None]:
        hits = self._live(key, now)
        return (len(hits), hits[0]) if hits else (0, None)

    def add(self, key: str, now: datetime) -> None:
        hits = self._live(key, now)
        if hits is None:
            hits = self._hits[key] = deque(maxlen=self.per_window * 4)
        self._hits.move_to_end(key)
        hits.append(now)
        while len(self._hits) > self.max_keys:
            self._hits.popitem(last=False)

    def forget(self, key: str) -> None:
        self._hits.pop(key, None)

    def __len__(self) -> int:
        return len(self._hits)

    def clear(self) -> None:
        self._hits.clear()


class SignInGuard:
    def __init__(self, per_minute: int, concurrent_checks: int = 4, *, max_keys: int = MAX_KEYS) -> None:
        self.per_minute = per_minute
        self._addresses = _Window(per_minute, max_keys)
        self._usernames = _Window(per_minute, max_keys)
        self._lock = threading.Lock()
        self._checks = threading.BoundedSemaphore(concurrent_checks)
        self.sleep: Callable[[float], None] = time.sleep

    @staticmethod
    def check_username(username: str) -> None:
        """Refuse an over-long username before anything about it is stored or hashed."""
        if len(username) > MAX_USERNAME:
            from confbridge.errors import FieldError, InvalidInput

            raise InvalidInput.of([FieldError.of("username", "too_long_text", max_length=MAX_USERNAME)])

    def address_wait(self, address: str) -> int:
        """Seconds until this address may try again (0: now)."""
        now = clock.now()
        with self._lock:
            count, oldest = self._addresses.count(address, now)
        if count < self.per_minute or oldest is None:
            return 0
        return max(1, int((oldest + WINDOW - now).total_seconds() + 0.999))

    def check_address(self, address: str) -> None:
        wait = self.address_wait(address)
        if wait:
            raise TooManyRequests.said(N_("Đăng nhập sai quá nhiều lần; hãy thử lại sau %(seconds)s giây."),
                seconds=wait, extra={"retry_after": wait})

    def username_delay(self, username: str) -> float:
        """The soft delay (seconds) before checking a password for *username*."""
        now = clock.now()
        with self._lock:
            count, _oldest = self._usernames.count(username.lower(), now)
        over = count - self.per_minute + 1
        return 0.0 if over <= 0 else min(SOFT_DELAY_MAX, over * SOFT_DELAY_STEP)

    def slow_down(self, username: str) -> None:
        delay = self.username_delay(username)
        if delay:
            self.sleep(delay)

    def failed(self, username: str, address: str) -> None:
        if not username or len(username) > MAX_USERNAME:
            return
        now = clock.now()
        with self._lock:
            self._addresses.add(address, now)
            self._usernames.add(username.lower(), now)

    def succeeded(self, username: str, address: str) -> None:
        with self._lock:
            self._usernames.forget(username.lower())

    @contextmanager
    def password_check(self) -> Iterator[None]:
        """A slot for one password verification, or 429 at once when every slot is busy."""
        if not self._checks.acquire(blocking=False):
            raise TooManyRequests.said(N_("Đang có quá nhiều lượt đăng nhập; hãy thử lại sau giây lát."),
                extra={"retry_after": 1})
        try:
            yield
        finally:
            self._checks.release()

    def sizes(self) -> tuple[int, int]:
        with self._lock:
            return len(self._addresses), len(self._usernames)

    def reset(self) -> None:
        with self._lock:
            self._addresses.clear()
            self._usernames.clear()


def install(app: Flask, per_minute: int, concurrent_checks: int) -> SignInGuard:
    guard = SignInGuard(per_minute, concurrent_checks)
    app.extensions[EXTENSION] = guard
    return guard


def sign_in_guard(app: Flask | None = None) -> SignInGuard:
    guard: SignInGuard = (app or current_app).extensions[EXTENSION]
    return guard
