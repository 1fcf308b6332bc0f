"""Field validators shared by the request schemas.

Row ids are 32-bit INTEGER columns (PostgreSQL and SQLite alike): a larger number in a body or a query
string must be refused as invalid input (422 naming the field), not reach the database driver, which
raises an overflow error (a 500)."""

from __future__ import annotations

from marshmallow import validate

DB_INT_MAX = 2**31 - 1

#: a row id: positive and small enough for the database's INTEGER columns
ROW_ID = validate.Range(min=1, max=DB_INT_MAX)
