"""notice codes: timeline entries and alarms store a message code with parameters

The reader's language is chosen when the entry is shown, not when it is written.  Rows written before
this revision keep their stored ``message`` (``code`` NULL) and are shown as they are.

Revision ID: 0005
Revises: 0004
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("conference_timeline", "alarms")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("code", sa.String(length=60), nullable=True))
            batch.add_column(sa.Column("params", sa.JSON(), nullable=True))


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("params")
            batch.drop_column("code")
