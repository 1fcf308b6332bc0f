"""Engine and sessions, the declarative Base, the naming convention and the UTC datetime type."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import DateTime, Engine, MetaData, create_engine, event
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from confbridge.files import private_dir, private_file, tighten_sqlite

_ZERO = timedelta(0)
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """An instant: aware datetimes in, aware UTC datetimes out, on SQLite and PostgreSQL alike.

    Naive datetimes are refused on the way in: a naive value is a bug (whose zone was it?).
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given for a UTC column")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            # SQLite keeps text; a fixed naive-UTC form sorts and compares correctly.
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        if value.utcoffset() == _ZERO:
            return value  # already UTC (PostgreSQL sessions run in UTC): skip a conversion per value
        return value.astimezone(UTC)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # Python's sqlite3 opens transactions lazily; we take control so that BEGIN IMMEDIATE is possible.
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    # A year of bookings is tens of MB: keep it in SQLite's page cache rather than the default 2 MB.
    cur.execute("PRAGMA cache_size=-65536")
    cur.execute("PRAGMA temp_store=MEMORY")
    cur.close()


def _sqlite_begin(conn: Any) -> None:
    # Every write transaction takes the database write lock up front: two concurrent bookings are
    # serialised instead of both reading "free" and both writing (SQLite has no row locks).
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(url: str, echo: bool = False, *, pool_size: int = 10, max_overflow: int = 20) -> Engine:
    if url.startswith("sqlite"):
        db_path = url.split("///", 1)[-1]
        on_disk = bool(db_path) and db_path != ":memory:" and not db_path.startswith("file:")
        if on_disk:  # owner-only from the start, whatever the umask (addresses, PINs, password hashes)
            private_dir(Path(db_path).parent)
            private_file(Path(db_path))
        # A pooled connection keeps its pragmas; opening one per transaction costs ~20 ms.
        engine = create_engine(url, echo=echo, pool_size=pool_size, max_overflow=max_overflow,
                               pool_pre_ping=False)
        event.listen(engine, "connect", _sqlite_pragmas)
        if on_disk:
            event.listen(engine, "connect", lambda *_: tighten_sqlite(Path(db_path)))
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    # psycopg prepares a statement after a few executions and PostgreSQL may then switch to a generic
    # plan, which for the overlap queries (ranges bound from a VALUES list) reads every slot of the
    # endpoints: plan each execution with its actual values instead.
    # Sessions in UTC: instants come back already in UTC (no conversion per value).
    options = "-c plan_cache_mode=force_custom_plan -c timezone=UTC"
    connect_args = {"options": options} if url.startswith("postgresql") else {}
    return create_engine(url, echo=echo, pool_pre_ping=True, pool_size=pool_size, max_overflow=max_overflow,
                         connect_args=connect_args)


IN_CHUNK = 500  # ids per IN (…) list: well under every driver's bound-parameter limit


def chunked(ids: Sequence[int], size: int = IN_CHUNK) -> Iterator[list[int]]:
    """*ids* in slices of *size*, for ``IN (…)`` queries over many rows."""
    for first in range(0, len(ids), size):
        yield list(ids[first:first + size])


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def unit_of_work(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One transaction: commit on success, roll back on any error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
