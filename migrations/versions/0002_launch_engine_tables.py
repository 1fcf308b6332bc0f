"""launch engine tables

Revision ID: 0002
Revises: 0001

Placeholder reserved so that features can add their tables in parallel without branching the history;
the owning feature fills in upgrade() and downgrade().
"""
from __future__ import annotations

from collections.abc import Sequence

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
