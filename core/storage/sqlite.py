"""The embedded SQLite database: how its connections are opened and set up.

The journal mode (WAL) is set as each connection opens, and that is when SQLite may answer
"database is locked" at once, without waiting in its busy handler: when two connections switch
a database still in rollback-journal mode to WAL together (each holds a shared lock and wants
the exclusive one, so SQLite refuses one rather than deadlock), and while another process's
last connection cleans up the write-ahead log, or its first one after a crash recovers it
(https://sqlite.org/wal.html#busy). A `serve` and a `worker` started together on a new
database, or a `gatepass` command started as one of them stops, would then fail outright.
Opening waits such a lock out instead, for as long as the busy timeout would.
"""

from __future__ import annotations

import asyncio
import functools
import sqlite3
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiosqlite
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

BUSY_TIMEOUT_S = 30.0
_FIRST_PAUSE_S, _LONGEST_PAUSE_S = 0.005, 0.1


def create_sqlite_engine(url: str, *, readonly: bool, **options: Any) -> AsyncEngine:
    """Writers start with ``BEGIN IMMEDIATE``, so that they queue on the database lock instead
    of failing to upgrade a read lock halfway; ``readonly`` ones with a deferred ``BEGIN``."""
    engine = create_async_engine(url, async_creator=opener(url), **options)

    @sa.event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: sa.Connection) -> None:
        connection.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")

    return engine


async def use_write_ahead_log(url: str) -> None:
    """Put the database in WAL mode (it stays so), before the processes that share it open it
    together: switching a rollback-journal database to WAL needs its exclusive lock, and two
    connections switching at once make SQLite refuse one of them without waiting."""
    connection = await open_waiting_out_locks(_path(url), BUSY_TIMEOUT_S)
    await connection.close()


def _path(url: str) -> str:
    return sa.engine.make_url(url).database or ""


def opener(url: str) -> Callable[[], Awaitable[aiosqlite.Connection]]:
    return functools.partial(open_waiting_out_locks, _path(url), BUSY_TIMEOUT_S)


async def open_waiting_out_locks(path: str, patience: float) -> aiosqlite.Connection:
    """A connection set up for Gatepass; "database is locked" while it is set up is tried
    again, in growing pauses, until ``patience`` seconds have passed."""
    deadline, pause = time.monotonic() + patience, _FIRST_PAUSE_S
    while True:
        connection = await aiosqlite.connect(path, timeout=patience, isolation_level=None)
        try:
            await _set_up(connection, patience)
            return connection
        except sqlite3.OperationalError as error:
            await connection.close()
            if "locked" not in str(error) or time.monotonic() + pause > deadline:
                raise
        await asyncio.sleep(pause)
        pause = min(pause * 2, _LONGEST_PAUSE_S)


async def _set_up(connection: aiosqlite.Connection, patience: float) -> None:
    for pragma in (
        f"PRAGMA busy_timeout = {int(patience * 1000)}",
        "PRAGMA journal_mode = WAL",
        "PRAGMA foreign_keys = ON",
        "PRAGMA synchronous = NORMAL",
    ):
        await connection.execute(pragma)
