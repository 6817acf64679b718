"""Insert a row unless one with the same key exists: the one statement whose spelling differs
between SQLite and PostgreSQL (``INSERT … ON CONFLICT DO NOTHING`` on both, built by each
dialect's own ``insert``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel

_INSERTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


async def insert_or_ignore(
    session: AsyncSession,
    table: type[SQLModel],
    values: Mapping[str, Any],
    *,
    key: Sequence[str],
) -> bool:
    """Insert ``values`` into ``table`` in the caller's transaction, unless a row with the same
    ``key`` columns (a primary key or unique constraint) exists. True when the row was inserted.
    """
    dialect = session.get_bind().dialect.name
    insert = _INSERTS.get(dialect)
    if insert is None:
        raise NotImplementedError(f"Gatepass stores on SQLite or PostgreSQL, not {dialect}")
    columns = sa.inspect(table).columns
    statement = (
        insert(table)
        .values(**values)
        .on_conflict_do_nothing(index_elements=list(key))
        .returning(*(columns[name] for name in key))
    )
    # RETURNING, not the row count: psycopg's async cursor reports -1 for this statement.
    return (await session.execute(statement)).first() is not None
