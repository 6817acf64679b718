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


def _insert_ignoring_conflicts(
    dialect: str, table: type[SQLModel], values: Mapping[str, Any], key: Sequence[str]
) -> postgresql.Insert | sqlite.Insert:
    if dialect == "postgresql":
        return postgresql.insert(table).values(**values).on_conflict_do_nothing(index_elements=key)
    if dialect == "sqlite":
        return sqlite.insert(table).values(**values).on_conflict_do_nothing(index_elements=key)
    raise NotImplementedError(f"Gatepass stores on SQLite or PostgreSQL, not {dialect}")


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
    columns = sa.inspect(table).columns
    statement = _insert_ignoring_conflicts(
        session.get_bind().dialect.name, table, values, list(key)
    ).returning(*(columns[name] for name in key))
    # RETURNING, not the row count: psycopg's async cursor reports -1 for this statement.
    return (await session.execute(statement)).first() is not None


async def insert_many_or_ignore(
    session: AsyncSession,
    table: type[SQLModel],
    rows: Sequence[Mapping[str, Any]],
    *,
    key: Sequence[str],
) -> None:
    """Insert ``rows`` (each with the same columns) in one statement, skipping each whose
    ``key`` exists."""
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    values = [dict(row) for row in rows]
    statement: postgresql.Insert | sqlite.Insert
    if dialect == "postgresql":
        statement = (
            postgresql.insert(table).values(values).on_conflict_do_nothing(index_elements=list(key))
        )
    elif dialect == "sqlite":
        statement = (
            sqlite.insert(table).values(values).on_conflict_do_nothing(index_elements=list(key))
        )
    else:
        raise NotImplementedError(f"Gatepass stores on SQLite or PostgreSQL, not {dialect}")
    await session.execute(statement)
