"""The outbox worker: a loop (``confbridge mail worker``, never in a web request) that delivers due
invitation e-mails every ``mail.poll_seconds``.  The active scheduler delivers them too (a job of
``confbridge.scheduler.process``); a separate worker is for sites that want mail in its own process."""

from __future__ import annotations

import logging
import threading

from sqlalchemy.orm import Session, sessionmaker

from confbridge.db import make_engine, make_session_factory
from confbridge.invites.outbox import deliver_due
from confbridge.settings import Settings

log = logging.getLogger(__name__)


def run_outbox_worker(
    settings: Settings, stop_event: threading.Event, *,
    session_factory: sessionmaker[Session] | None = None,
) -> None:
    """Deliver due messages until *stop_event* is set.  A failing round is logged and retried next round:
    the rows stay in the outbox, so nothing is lost."""
    engine = None
    if session_factory is None:
        engine = make_engine(settings.database.url, settings.database.echo)
        session_factory = make_session_factory(engine)
    try:
        while not stop_event.is_set():
            try:
                report = deliver_due(session_factory, settings)
                if report.attempted:
                    log.info("outbox: %d sent, %d to retry, %d failed",
                             len(report.sent), len(report.retrying), len(report.failed))
            except Exception:  # the worker must outlive a database or SMTP hiccup
                log.exception("outbox round failed; retrying in %.0f s", settings.mail.poll_seconds)
            stop_event.wait(settings.mail.poll_seconds)
    finally:
        if engine is not None:
            engine.dispose()


def start_outbox_worker(
    settings: Settings, *, session_factory: sessionmaker[Session] | None = None,
) -> tuple[threading.Thread, threading.Event]:
    """Start :func:`run_outbox_worker` in a daemon thread; set the returned event to stop it."""
    stop = threading.Event()
    thread = threading.Thread(
        target=run_outbox_worker, args=(settings, stop), kwargs={"session_factory": session_factory},
        name="confbridge-outbox", daemon=True,
    )
    thread.start()
    return thread, stop
