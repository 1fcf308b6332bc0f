"""The one composition root: what a confbridge process needs, opened from settings in one place.

Every entry point — ``confbridge run|web|scheduler|live|mail worker``, each WSGI worker
(``confbridge.wsgi``), and the CLI commands that write — calls :func:`open_runtime` first.  It opens:

- logging (``[logging]``: text or JSON, secrets redacted; :mod:`confbridge.logs`);
- the database engine and session factory;
- the event publisher for ``[live] bus`` (in-process or Redis), so every event a process raises reaches
  the live servers — with ``bus = "redis"`` a booking in a web worker or a dial in the scheduler too;
- the booking hooks (invitations are queued in the booking's transaction).

A process cannot forget a piece: there is no other place that installs them.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import Literal

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from confbridge import events
from confbridge.db import make_engine, make_session_factory
from confbridge.live.bus import Bus, MemoryBus, RedisBus, make_bus
from confbridge.settings import Settings

log = logging.getLogger(__name__)
Kind = Literal["run", "web", "wsgi", "scheduler", "live", "mail-worker", "cli"]
KINDS: tuple[Kind, ...] = ("run", "web", "wsgi", "scheduler", "live", "mail-worker", "cli")
_lock = threading.Lock()


@dataclass
class Runtime:
    """What :func:`open_runtime` opened for one process (``close()`` releases what it owns)."""

    settings: Settings
    kind: Kind
    engine: Engine
    session_factory: sessionmaker[Session]
    bus: Bus
    hooks: tuple[str, ...] = ()
    _owns_engine: bool = field(default=True, repr=False)

    def close(self) -> None:
        if self._owns_engine:
            self.engine.dispose()


def _install_bus(settings: Settings) -> Bus:
    """The process's publisher: the one already installed when it is a bus of the configured kind
    (``confbridge run`` shares one in-process bus between its threads), else a new one."""
    current = events.get_publisher()
    wanted = RedisBus if settings.live.bus == "redis" else MemoryBus
    if isinstance(current, wanted) and (
        not isinstance(current, RedisBus) or current.url == settings.live.redis_url
    ):
        return current
    bus = make_bus(settings.live)
    events.set_publisher(bus)
    return bus


def _install_hooks(settings: Settings) -> tuple[str, ...]:
    """Booking hooks: the invitation mailer queues e-mails in the booking's own transaction."""
    from confbridge.invites import hooks as invitation_hooks

    invitation_hooks.install(settings)
    return ("invitations",)


def open_runtime(settings: Settings, kind: Kind, *, engine: Engine | None = None,
                 configure_logging: bool = True) -> Runtime:
    """Wire this process from *settings* (see the module docstring).

    *engine* lets a caller (tests, the app factory given one) share an engine it owns; the runtime then
    does not dispose it.  *configure_logging* is false only where the host owns logging (pytest).
    """
    if kind not in KINDS:
        raise ValueError(f"unknown process kind {kind!r}")
    with _lock:
        if configure_logging:
            from confbridge.logs import configure_logging as configure

            configure(settings.logging)
        bus = _install_bus(settings)
        hooks = _install_hooks(settings)
    owns = engine is None
    engine = engine or make_engine(settings.database.url, settings.database.echo)
    runtime = Runtime(settings, kind, engine, make_session_factory(engine), bus, hooks, owns)
    # One line per process says how it is wired (the tests of every entry point read it).
    # (a one-shot command keeps its output to what the operator asked for).
    log.log(logging.DEBUG if kind == "cli" else logging.INFO, "process %s wired: bus %s, hooks %s, database %s",
            kind, type(bus).__name__, ",".join(hooks) or "none", engine.dialect.name)
    if kind != "cli":
        from confbridge.startup_checks import warn_clear_text

        warn_clear_text(settings)  # MCU/SMTP passwords that would cross the network in clear text
    return runtime
