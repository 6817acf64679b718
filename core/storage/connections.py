"""How many Gatepass processes a PostgreSQL server admits, given ``database_pool``.

PostgreSQL refuses a client beyond ``max_connections`` less the connections it keeps for
superusers, with "sorry, too many clients already": every transaction of the refused process
fails (a Slack click answered HTTP 500, a job retried). Said at start and by
``check-config --online``, before it happens under load.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from core.config.database_pool import LISTENERS, DatabasePool
from core.storage.store import Store


@dataclass(frozen=True)
class ConnectionBudget:
    max_connections: int
    reserved: int  # superuser_reserved_connections (and reserved_connections, PostgreSQL 16)
    pool: DatabasePool

    @property
    def processes(self) -> int:
        """How many Gatepass processes the server admits at their busiest."""
        return max(0, (self.max_connections - self.reserved) // self.pool.most_per_process)

    def describe(self) -> str:
        return (
            f"PostgreSQL admits {self.processes} gatepass process(es) at their busiest: "
            f"max_connections {self.max_connections}, {self.reserved} reserved; each process "
            f"opens up to {self.pool.most_per_process} (database_pool size {self.pool.size} + "
            f"overflow {self.pool.overflow} + {LISTENERS} listener)"
        )

    def problem(self) -> str | None:
        if self.processes >= 1:
            return None
        return f"{self.describe()}: lower database_pool or raise PostgreSQL's max_connections"


async def connection_budget(store: Store, pool: DatabasePool) -> ConnectionBudget | None:
    """The server's limits (None on SQLite)."""
    if store.is_sqlite:
        return None
    async with store.engine.connect() as connection:
        found = await connection.execute(
            sa.text(
                "SELECT name, setting FROM pg_settings WHERE name IN "
                "('max_connections', 'superuser_reserved_connections', 'reserved_connections')"
            )
        )
        settings = {name: int(value) for name, value in found.all()}
    reserved = settings.get("superuser_reserved_connections", 0)
    reserved += settings.get("reserved_connections", 0)
    return ConnectionBudget(settings.get("max_connections", 100), reserved, pool)
