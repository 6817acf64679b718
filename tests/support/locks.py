"""Another client holding the database's write locks, as a long transaction of another process
would: SQLite's one write lock (``BEGIN IMMEDIATE``), or on PostgreSQL every table locked in
EXCLUSIVE mode (reads still go through, as they do behind any writer)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from sqlalchemy.engine import make_url

from tests.support.databases import TABLES


@contextmanager
def writers_held(database_url: str) -> Iterator[None]:
    """Every write to ``database_url`` waits until the block ends."""
    url = make_url(database_url)
    if url.drivername.startswith("sqlite"):
        connection = sqlite3.connect(str(url.database), isolation_level=None, timeout=1)
        try:
            connection.execute("BEGIN IMMEDIATE")
            yield
            connection.execute("ROLLBACK")
        finally:
            connection.close()
        return
    libpq = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(libpq) as held:
        held.execute("LOCK TABLE " + ", ".join(TABLES) + " IN EXCLUSIVE MODE")
        yield
        held.rollback()
