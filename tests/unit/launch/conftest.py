"""Launch test fixtures.

``sqlite_template`` overrides the shared one: the shared fixture runs ``PRAGMA wal_checkpoint`` through
an engine whose begin hook opened ``BEGIN IMMEDIATE`` first, which SQLite refuses ("database table is
locked"); here the checkpoint runs on a plain sqlite3 connection.  Reported to the lead.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from confbridge.db import make_engine
from confbridge.migrate import upgrade


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("launch-template") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return path
