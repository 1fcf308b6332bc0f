"""The live server: websockets (asyncio) fanning bus events out to the dashboards.

Flow of one connection: the Origin is checked during the handshake (``origins=``); the first message must
be ``auth`` with a live token, within ``live.auth_timeout_seconds``; then the client gets a snapshot and
the events it may see.

Fan-out: events from the bus are coalesced by object (``protocol.object_key``) and flushed every
``live.flush_ms``; each flush is one frame per client.  Clients who see everything share one stream: its
``seq`` is the server's global sequence and its frame is encoded once for all of them.  Clients with a
filtered view (secretaries) get their own ``seq``.  A snapshot carries the ``seq`` of the last frame
queued before it, so the next frame is ``seq + 1``.  Each client has a bounded outbox; a client that falls
``live.client_queue_frames`` frames behind is dropped (close 1013) instead of growing memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session, sessionmaker
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response
from websockets.typing import Origin

from confbridge import clock, metrics
from confbridge.auth.access import entitled_user_ids, still_entitled
from confbridge.errors import DomainError
from confbridge.events import Event
from confbridge.live import protocol
from confbridge.live.bus import Bus
from confbridge.live.snapshot import Viewer, build_snapshot, load_viewer
from confbridge.live.tokens import redeem_live_token
from confbridge.settings import LiveSettings

log = logging.getLogger(__name__)
PROBE_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})


@dataclass
class _PendingSnapshot:
    seq: int
    future: asyncio.Future[str | None]
    slots: asyncio.Semaphore
    released: bool = False

    def release(self) -> None:
        """Give the snapshot slot back (once), when sent or when the connection is gone."""
        if not self.released:
            self.released = True
            self.slots.release()


@dataclass
class Stats:
    connections: int = 0
    events_in: int = 0
    frames_sent: int = 0
    flushes: int = 0
    dropped_slow: int = 0
    auth_failures: int = 0


class Connection:
    def __init__(self, ws: ServerConnection, viewer: Viewer, limit: int) -> None:
        self.ws = ws
        self.viewer = viewer
        self.limit = limit
        self.seq = 0  # filtered viewers only; shared viewers use the server's global seq
        self.outbox: deque[bytes | _PendingSnapshot] = deque()
        self.frames = 0  # frames (not snapshot placeholders) in the outbox
        self.wake = asyncio.Event()
        self.snapshot_pending = False
        # Until its first snapshot is being built, a connection gets no frames: the snapshot, read
        # after that point, covers them (this keeps clients queued for a snapshot slot at zero frames).
        self.waiting = True
        self.dropped = False
        self.closed = False
        self.sending: _PendingSnapshot | None = None

    def push(self, item: bytes | _PendingSnapshot) -> bool:
        """Queue *item*; False when the client is too far behind (the caller drops it)."""
        if isinstance(item, bytes):
            if self.frames >= self.limit:
                return False
            self.frames += 1
        self.outbox.append(item)
        self.wake.set()
        return True

    async def write(self, stats: Stats) -> None:
        while True:
            while not self.outbox:
                self.wake.clear()
                await self.wake.wait()
            await self._send_one(self.outbox.popleft())
            stats.frames_sent += 1

    async def _send_one(self, item: bytes | _PendingSnapshot) -> None:
        # One item per call: nothing from it (a snapshot is ~1 MiB of text for 10,000 endpoints) stays
        # referenced by the writer loop while it waits for the next frame.
        if isinstance(item, bytes):
            self.frames -= 1
            await self.ws.send(item, text=True)
            return
        self.sending = item
        data = await item.future
        self.snapshot_pending = False
        if data is not None:
            await self.ws.send(data)  # returns once the socket buffer is below write_limit
        item.release()
        self.sending = None


@dataclass
class LiveServer:
    settings: LiveSettings
    session_factory: sessionmaker[Session]
    bus: Bus
    stats: Stats = field(default_factory=Stats)
    # Run every ``heartbeat_seconds`` in a worker thread (the scheduler heartbeat check: a dead
    # scheduler cannot raise its own alarm, so a process outside it must).
    heartbeat: Callable[[], object] | None = None
    heartbeat_seconds: float = 15.0
    # Plain HTTP GETs of /healthz, /readyz and /metrics on the live port: (path, client address) →
    # (status, content type, body); see ``confbridge.health.probe_response``.  None: only /healthz.
    probes: Callable[[str, str | None], tuple[int, str, bytes]] | None = None

    def __post_init__(self) -> None:
        self._pending: dict[str, Event] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        # Snapshots being built or sent at once: each is ~100 bytes per endpoint in memory and in the
        # socket buffer, so 200 dashboards reconnecting together must not hold 200 of them.
        self._snapshot_slots = asyncio.Semaphore(self.settings.snapshot_concurrency)
        self._shared: set[Connection] = set()
        self._filtered: set[Connection] = set()
        self.global_seq = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: Server | None = None
        self.port: int | None = None

    # ---- bus side ------------------------------------------------------------------------------------
    def _from_bus(self, event: Event) -> None:
        loop = self._loop
        if loop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop is shutting down
                loop.call_soon_threadsafe(self.accept, event)

    def _gap_from_bus(self) -> None:
        loop = self._loop
        if loop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self.mark_gap)

    def accept(self, event: Event) -> None:
        """Take one event (on the loop): it replaces any pending event about the same object."""
        self.stats.events_in += 1
        metrics.LIVE_EVENTS.inc()
        key = protocol.object_key(event)
        self._pending.pop(key, None)  # re-insert at the end: frames keep the order of last updates
        self._pending[key] = event

    def mark_gap(self) -> None:
        """Events may have been lost (bus reconnect): skip one seq so every client resyncs."""
        self.global_seq += 1
        for conn in self._filtered:
            conn.seq += 1

    # ---- flushing ------------------------------------------------------------------------------------
    def flush(self) -> None:
        if not self._pending:
            return
        events = list(self._pending.values())
        self._pending.clear()
        self.stats.flushes += 1
        first_seq = self.global_seq + 1
        self.global_seq += len(events)
        if self._shared:
            # One frame per language spoken by the shared viewers (alarm texts are rendered in it).
            frames: dict[str, bytes] = {}
            for conn in list(self._shared):
                if conn.waiting:
                    continue
                locale = conn.viewer.locale
                if locale not in frames:
                    frames[locale] = protocol.frame([
                        protocol.event_message(ev, first_seq + i, locale) for i, ev in enumerate(events)
                    ]).encode()
                self._push(conn, frames[locale])
        for conn in list(self._filtered):
            if conn.waiting:
                continue
            visible = [ev for ev in events if conn.viewer.can_see(ev)]
            if visible:
                msgs = []
                for ev in visible:
                    conn.seq += 1
                    msgs.append(protocol.event_message(conn.viewer.redact(ev), conn.seq, conn.viewer.locale))
                self._push(conn, protocol.frame(msgs).encode())

    def _push(self, conn: Connection, item: bytes | _PendingSnapshot) -> None:
        if conn.dropped:
            return
        if not conn.push(item):
            self._drop_slow(conn)

    def _drop_slow(self, conn: Connection) -> None:
        conn.dropped = True
        for item in [*conn.outbox, conn.sending]:
            if isinstance(item, _PendingSnapshot) and item.future.done():
                item.release()
        conn.outbox.clear()
        conn.frames = 0
        self._unregister(conn)
        self.stats.dropped_slow += 1
        log.info("live: dropped a client %d frames behind", conn.limit)
        closing = conn.ws.close(protocol.CLOSE_TOO_SLOW, "client too slow")
        task = asyncio.get_running_loop().create_task(closing)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _heartbeat_loop(self) -> None:
        while self.heartbeat is not None:
            await asyncio.sleep(self.heartbeat_seconds)
            try:
                await asyncio.to_thread(self.heartbeat)
            except Exception:  # the database may be briefly unavailable; try again next time
                log.exception("live: heartbeat check failed")

    def _entitled(self, viewer: Viewer) -> bool:
        with self.session_factory() as session:
            return still_entitled(session, viewer.user_id, viewer.role)

    async def _session_check_loop(self) -> None:
        """Close (4401) connections whose user was locked or changed role since they authenticated."""
        while True:
            await asyncio.sleep(self.settings.session_check_seconds)
            try:
                await self.check_sessions()
            except Exception:  # the database may be briefly unavailable; try again next time
                log.exception("live: session check failed")

    async def check_sessions(self) -> int:
        """One pass of the session check; returns how many connections were closed."""
        conns = [c for c in (*self._shared, *self._filtered) if not c.closed]
        users = {(c.viewer.user_id, c.viewer.role) for c in conns}

        def current() -> set[tuple[int, str]]:
            with self.session_factory() as session:
                return entitled_user_ids(session, users)

        allowed = await asyncio.to_thread(current)
        stale = [c for c in conns if (c.viewer.user_id, c.viewer.role) not in allowed]
        for conn in stale:
            with contextlib.suppress(ConnectionClosed):
                await conn.ws.close(protocol.CLOSE_AUTH_FAILED, "signed out: account locked or role changed")
        return len(stale)

    async def _flush_loop(self) -> None:
        interval = self.settings.flush_ms / 1000
        while True:
            await asyncio.sleep(interval)
            try:
                self.flush()
            except Exception:  # one bad event must not stop the fan-out
                log.exception("live: flush failed")
                self._pending.clear()

    # ---- connections ---------------------------------------------------------------------------------
    def _register(self, conn: Connection) -> None:
        (self._shared if conn.viewer.sees_all else self._filtered).add(conn)
        metrics.LIVE_CLIENTS.inc()
        self.stats.connections = len(self._shared) + len(self._filtered)

    def _unregister(self, conn: Connection) -> None:
        if conn in self._shared or conn in self._filtered:
            metrics.LIVE_CLIENTS.dec()
        self._shared.discard(conn)
        self._filtered.discard(conn)
        self.stats.connections = len(self._shared) + len(self._filtered)

    def _snapshot_text(self, viewer: Viewer, seq: int, refresh: bool) -> tuple[Viewer, str]:
        with self.session_factory() as session:
            if refresh:
                viewer = load_viewer(session, viewer.user_id, viewer.role)
            body = build_snapshot(session, viewer, clock.now(), self.settings.imminent_minutes)
        body["seq"] = seq
        return viewer, protocol.dumps(body)

    def _request_snapshot(self, conn: Connection, *, refresh: bool) -> None:
        if conn.snapshot_pending:
            return  # one already on its way: it will be at least as fresh
        conn.snapshot_pending = True
        task = asyncio.get_running_loop().create_task(self._build_snapshot(conn, refresh))
        self._tasks.add(task)  # keep a reference until done (the loop holds only weak ones)
        task.add_done_callback(self._tasks.discard)

    async def _build_snapshot(self, conn: Connection, refresh: bool) -> None:
        await self._snapshot_slots.acquire()
        loop = asyncio.get_running_loop()
        # The snapshot's seq is the last one queued for this client before it: frames queued from now
        # on follow it, and the database is read after this instant, so nothing falls in between.
        seq = self.global_seq if conn.viewer.sees_all else conn.seq
        pending = _PendingSnapshot(seq, loop.create_future(), self._snapshot_slots)
        if conn.closed or conn.dropped:
            pending.release()
            return
        conn.waiting = False
        conn.push(pending)
        try:
            viewer, text = await asyncio.to_thread(self._snapshot_text, conn.viewer, seq, refresh)
            if not viewer.sees_all:
                conn.viewer = viewer
        except Exception:  # the client will ask again
            log.exception("live: building a snapshot failed")
            text = protocol.dumps({"type": "error", "message": "snapshot failed"})
        pending.future.set_result(text)
        if conn.closed:
            pending.release()

    async def _authenticate(self, ws: ServerConnection) -> Viewer | None:
        try:
            raw = await asyncio.wait_for(ws.recv(), self.settings.auth_timeout_seconds)
        except TimeoutError:
            await ws.close(protocol.CLOSE_AUTH_TIMEOUT, "authentication timeout")
            return None
        try:
            message = protocol.parse_client_message(raw)
        except protocol.ProtocolError as exc:
            await ws.close(protocol.CLOSE_POLICY, f"first message must be auth ({exc})")
            return None
        if message.type != "auth" or message.token is None:
            await ws.close(protocol.CLOSE_POLICY, "first message must be auth")
            return None
        try:
            user_id, role = await asyncio.to_thread(redeem_live_token, self.session_factory, message.token)
        except DomainError:
            self.stats.auth_failures += 1
            await ws.close(protocol.CLOSE_AUTH_FAILED, "invalid, expired or already used token")
            return None

        def viewer() -> Viewer:
            with self.session_factory() as session:
                return load_viewer(session, user_id, role)

        return await asyncio.to_thread(viewer)

    async def handler(self, ws: ServerConnection) -> None:
        try:
            viewer = await self._authenticate(ws)
        except ConnectionClosed:
            return
        if viewer is None:
            return
        conn = Connection(ws, viewer, self.settings.client_queue_frames)
        self._register(conn)
        self._request_snapshot(conn, refresh=False)
        writer = asyncio.create_task(conn.write(self.stats))
        try:
            async for raw in ws:
                try:
                    message = protocol.parse_client_message(raw)
                except protocol.ProtocolError as exc:
                    self._push(conn, protocol.dumps({"type": "error", "message": str(exc)}).encode())
                    continue
                if message.type == "resync":
                    if not await asyncio.to_thread(self._entitled, conn.viewer):
                        await ws.close(protocol.CLOSE_AUTH_FAILED, "signed out: account locked or role changed")
                        break
                    self._request_snapshot(conn, refresh=True)
                elif message.type == "ping":
                    self._push(conn, b'{"type":"pong"}')
        except ConnectionClosed:
            pass
        finally:
            conn.closed = True
            self._unregister(conn)
            writer.cancel()
            for item in [*conn.outbox, conn.sending]:
                if isinstance(item, _PendingSnapshot) and item.future.done():
                    item.release()
            with contextlib.suppress(asyncio.CancelledError, ConnectionClosed):
                await writer

    # ---- plain HTTP on the live port (health, metrics) ---------------------------------------------------
    async def _process_request(self, ws: ServerConnection, request: Request) -> Response | None:
        path = request.path.split("?", 1)[0]
        if path not in PROBE_PATHS:
            return None  # a WebSocket handshake (any other path)
        if self.probes is None:
            status, ctype, body = (200, "application/json", b'{"status": "up"}') if path == "/healthz" \
                else (404, "text/plain; charset=utf-8", b"not found\n")
        else:
            peer = ws.remote_address[0] if ws.remote_address else None
            status, ctype, body = await asyncio.to_thread(self.probes, path, peer)
        response = ws.respond(status, body.decode())
        del response.headers["Content-Type"]  # websockets' Headers append; replace the text/plain default
        response.headers["Content-Type"] = ctype
        response.headers["Cache-Control"] = "no-store"
        return response

    # ---- lifecycle -----------------------------------------------------------------------------------
    def _origins(self) -> list[Origin | None]:
        origins: list[Origin | None] = [Origin(o) for o in self.settings.allowed_origins]
        if self.settings.allow_missing_origin:
            origins.append(None)
        return origins

    async def serve(self, stop: Awaitable[Any], on_ready: Callable[[int], None] | None = None,
                    port: int | None = None) -> None:
        """Serve until *stop* completes."""
        self._loop = asyncio.get_running_loop()
        unsubscribe = self.bus.subscribe(self._from_bus, self._gap_from_bus)
        flusher = asyncio.create_task(self._flush_loop())
        beats = asyncio.create_task(self._heartbeat_loop())
        checks = asyncio.create_task(self._session_check_loop())
        try:
            async with serve(
                self.handler, self.settings.host, self.settings.port if port is None else port,
                origins=self._origins(), max_size=self.settings.max_message_bytes, max_queue=4,
                ping_interval=self.settings.ping_interval_seconds,
                ping_timeout=self.settings.ping_timeout_seconds,
                write_limit=self.settings.write_limit_bytes, close_timeout=2,
                compression=None,  # per-message deflate costs CPU per client; frames are small
                process_request=self._process_request,
            ) as server:
                self._server = server
                self.port = next(iter(server.sockets)).getsockname()[1]
                if on_ready is not None:
                    on_ready(self.port)
                await stop
        finally:
            unsubscribe()
            flusher.cancel()
            beats.cancel()
            checks.cancel()
            self._loop = None


class LiveServerThread:
    """Run a :class:`LiveServer` on its own event loop thread (tests, ``confbridge run``)."""

    def __init__(self, server: LiveServer, port: int | None = None) -> None:
        self.server = server
        self._port = port
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = threading.Thread(target=self._run, name="live-server", daemon=True)
        self._error: BaseException | None = None

    @property
    def port(self) -> int:
        assert self.server.port is not None  # only read after start()
        return self.server.port

    def _run(self) -> None:
        async def main() -> None:
            self._loop = asyncio.get_running_loop()
            self._stop = asyncio.Event()
            await self.server.serve(self._stop.wait(), lambda _port: self._ready.set(), self._port)

        try:
            asyncio.run(main())
        except BaseException as exc:  # reported to start()
            self._error = exc
            self._ready.set()

    def start(self, timeout: float = 10.0) -> LiveServerThread:
        self._thread.start()
        if not self._ready.wait(timeout) or self._error is not None:
            raise RuntimeError(f"live server did not start: {self._error!r}")
        return self

    def call(self, fn: Callable[[], Any]) -> None:
        """Run *fn* on the server's loop (tests: mark a gap, flush now)."""
        assert self._loop is not None
        done = threading.Event()

        def run() -> None:
            try:
                fn()
            finally:
                done.set()

        self._loop.call_soon_threadsafe(run)
        done.wait(5)

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None and self._thread.is_alive():
            with contextlib.suppress(RuntimeError):  # already stopped: the loop is closed
                self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)
