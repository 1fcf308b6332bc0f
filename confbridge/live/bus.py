"""The event bus: services publish committed events, live servers subscribe.

- :class:`MemoryBus` — in-process (the embedded default: web, scheduler and live server in one process);
- :class:`RedisBus` — Redis pub/sub on channel ``confbridge:events`` (JSON), for several processes.

Both implement ``confbridge.events.Publisher``; the composition root (``confbridge.runtime``) installs the
configured one as the process's publisher.
Subscribers are callbacks run on the bus's thread (the publisher's for MemoryBus, a listener thread for
RedisBus): they must be quick and thread-safe (the live server hands events to its event loop).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from typing import Any, Protocol

from confbridge.events import EVENT_TYPES, Event
from confbridge.settings import LiveSettings

log = logging.getLogger(__name__)
CHANNEL = "confbridge:events"
Subscriber = Callable[[Event], None]
# Called when the bus may have lost events (Redis reconnect): subscribers should resync their clients.
GapListener = Callable[[], None]


class Bus(Protocol):
    def publish(self, event: Event) -> None: ...

    def subscribe(self, callback: Subscriber, on_gap: GapListener | None = None) -> Callable[[], None]:
        """Register *callback*; returns a function that unsubscribes."""
        ...

    def close(self) -> None: ...


class _Subscribers:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: list[tuple[Subscriber, GapListener | None]] = []

    def add(self, callback: Subscriber, on_gap: GapListener | None) -> Callable[[], None]:
        item = (callback, on_gap)
        with self._lock:
            self._items.append(item)

        def remove() -> None:
            with self._lock:
                if item in self._items:
                    self._items.remove(item)

        return remove

    def deliver(self, event: Event) -> None:
        with self._lock:
            items = list(self._items)
        for callback, _ in items:
            try:
                callback(event)
            except Exception:  # one broken subscriber must not starve the others
                log.exception("event subscriber failed on %s", event.type)

    def gap(self) -> None:
        with self._lock:
            items = list(self._items)
        for _, on_gap in items:
            if on_gap is not None:
                on_gap()


class MemoryBus:
    """Delivers each published event synchronously to every subscriber of this process."""

    def __init__(self) -> None:
        self._subscribers = _Subscribers()

    def publish(self, event: Event) -> None:
        self._subscribers.deliver(event)

    def subscribe(self, callback: Subscriber, on_gap: GapListener | None = None) -> Callable[[], None]:
        return self._subscribers.add(callback, on_gap)

    def close(self) -> None:
        return None


def encode_event(event: Event) -> str:
    return json.dumps({"type": event.type, "payload": event.payload}, separators=(",", ":"), default=str)


def decode_event(raw: str | bytes) -> Event | None:
    """The event in *raw*, or None when it is not one of ours (logged, never raised)."""
    try:
        data = json.loads(raw)
        if not isinstance(data, dict) or data.get("type") not in EVENT_TYPES:
            raise ValueError("not an event")
        payload = data.get("payload")
        if not isinstance(payload, dict):
            raise ValueError("payload is not an object")
        return Event(str(data["type"]), payload)
    except ValueError:
        log.warning("ignored a malformed message on %s", CHANNEL)
        return None


class RedisBus:
    """Redis pub/sub.  Publishing is one PUBLISH; subscribing starts one listener thread per bus.

    Pub/sub is fire-and-forget: while the listener is disconnected, events are lost.  After reconnecting
    the bus tells subscribers (``on_gap``) so the live server makes its clients resync from a snapshot —
    the database remains the source of truth.
    """

    def __init__(self, url: str, channel: str = CHANNEL) -> None:
        import redis

        self.url = url
        self.channel = channel
        self._redis: Any = redis.Redis.from_url(url, socket_connect_timeout=5, health_check_interval=30)
        self._subscribers = _Subscribers()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self.ready = threading.Event()

    def publish(self, event: Event) -> None:
        self._redis.publish(self.channel, encode_event(event))

    def subscribe(self, callback: Subscriber, on_gap: GapListener | None = None) -> Callable[[], None]:
        remove = self._subscribers.add(callback, on_gap)
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._listen, name="redis-bus", daemon=True)
                self._thread.start()
        return remove

    def _listen(self) -> None:
        first = True
        while not self._stop.is_set():
            pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
            try:
                pubsub.subscribe(self.channel)
                # Wait for the subscription to be confirmed before declaring the bus ready.
                while not self._stop.is_set():
                    message = pubsub.get_message(timeout=0.5)
                    if message is None and pubsub.subscribed:
                        break
                if not first:
                    self._subscribers.gap()
                first = False
                self.ready.set()
                while not self._stop.is_set():
                    message = pubsub.get_message(timeout=0.5)
                    if message is None or message.get("type") != "message":
                        continue
                    event = decode_event(message["data"])
                    if event is not None:
                        self._subscribers.deliver(event)
            except Exception as exc:  # reconnect on any connection trouble
                if self._stop.is_set():
                    break
                self.ready.clear()
                log.warning("Redis bus listener lost its connection (%s); reconnecting", type(exc).__name__)
                self._stop.wait(1.0)
            finally:
                try:
                    pubsub.close()
                except Exception:  # noqa: S110 - closing a broken connection may fail too
                    pass

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        self._redis.close()


def make_bus(settings: LiveSettings) -> MemoryBus | RedisBus:
    """The bus named by ``live.bus``."""
    if settings.bus == "redis":
        return RedisBus(settings.redis_url)
    return MemoryBus()
