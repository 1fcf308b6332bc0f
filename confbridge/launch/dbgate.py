"""One in-process gate for the launch engine's database transactions on SQLite.

SQLite has one writer, and ``confbridge.db`` begins every transaction ``IMMEDIATE`` (reads included).
Under a launch storm a dozen worker threads then wait in SQLite's busy handler, which sleeps and
retries: it is not fair, and a thread can starve for seconds — fatal for the lease renewal.  Taking a
Python lock around each (short) transaction instead hands the database over in order, so a wait is
bounded by the transactions ahead of it.  PostgreSQL needs no gate (row locks; MVCC reads).
"""

from __future__ import annotations

import threading
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from sqlalchemy.orm import Session, sessionmaker


def gate_for(session_factory: sessionmaker[Session]) -> AbstractContextManager[Any]:
    bind = session_factory.kw.get("bind")
    if bind is not None and bind.dialect.name == "sqlite":
        return threading.RLock()
    return nullcontext()
