"""Alembic history: one head, and the migrated schema equals the models (SQLite and PostgreSQL)."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import confbridge.model_registry  # noqa: F401
from confbridge.db import Base, make_engine
from confbridge.migrate import heads
from tests.conftest import both_databases


def test_single_head() -> None:
    assert len(heads()) == 1


@both_databases
def test_models_and_migrations_agree(db_url: str) -> None:
    engine = make_engine(db_url)
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": False})
        diff = compare_metadata(ctx, Base.metadata)
    engine.dispose()
    assert diff == []
