"""The database: an async engine and short transactions.

SQLite (the embedded default) runs in WAL mode and every write transaction starts with
``BEGIN IMMEDIATE`` (``core.storage.sqlite``). PostgreSQL uses row locks (``SELECT … FOR
UPDATE``) where a decision is claimed.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from core.config.database_pool import DatabasePool
from core.storage.sqlite import create_sqlite_engine

DATABASE_ERRORS = (sa.exc.OperationalError, sa.exc.InterfaceError, OSError)
"""What a database that cannot be reached, or went away mid-transaction, raises."""


def create_engine(
    url: str, *, readonly: bool = False, pool: DatabasePool | None = None, **options: Any
) -> AsyncEngine:
    """``pool`` (PostgreSQL): the connections this process may hold, ``database_pool`` of
    the config; its defaults otherwise."""
    if url.startswith("sqlite"):
        return create_sqlite_engine(url, readonly=readonly, **options)
    options.setdefault("pool_pre_ping", True)
    for name, value in (pool or DatabasePool()).engine_options().items():
        options.setdefault(name, value)
    return create_async_engine(url, **options)


class Store:
    """Owns the engine; hands out sessions, each one transaction.

    On SQLite, writers of this process queue on an asyncio lock rather than on SQLite's busy
    handler (which sleeps in growing steps), and reads run on a second engine with a deferred
    ``BEGIN`` so that they never wait for a writer (WAL keeps their snapshot consistent).
    """

    def __init__(self, engine: AsyncEngine, reader: AsyncEngine | None = None) -> None:
        self.engine = engine
        self.reader = reader
        # Handed to every write transaction as ``session.info``: what the composition root
        # attaches to the store's changes (the webhooks subscribed to its events).
        self.info: dict[str, Any] = {}
        self._sessions = async_sessionmaker(engine, expire_on_commit=False, info=self.info)
        self._read_sessions = async_sessionmaker(reader or engine, expire_on_commit=False)
        self._write_lock = asyncio.Lock() if engine.dialect.name == "sqlite" else None

    @classmethod
    def from_url(cls, url: str, *, pool: DatabasePool | None = None, **options: Any) -> Store:
        reader = create_engine(url, readonly=True, **options) if url.startswith("sqlite") else None
        return cls(create_engine(url, pool=pool, **options), reader)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """One unit of work: committed when the block ends, rolled back on an exception."""
        if self._write_lock is None:
            async with self._sessions() as session, session.begin():
                yield session
            return
        async with self._write_lock, self._sessions() as session, session.begin():
            yield session

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[AsyncSession]:
        """A read-only look (still one transaction, so what it reads is consistent)."""
        async with self._read_sessions() as session, session.begin():
            yield session

    async def ping(self) -> None:
        """Raise when the database cannot be reached."""
        async with self.engine.connect() as connection:
            await connection.execute(sa.text("SELECT 1"))

    async def close(self) -> None:
        await self.engine.dispose()
        if self.reader is not None:
            await self.reader.dispose()
