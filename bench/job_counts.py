"""What the job bench counts: the SQL statements and transactions of its engines (by table),
and what is left in the database at the end."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import sqlalchemy as sa

from core.storage.models import AccessRequest, Job
from core.storage.store import Store

TABLE = re.compile(r'\b(?:FROM|INTO|UPDATE)\s+"?(\w+)', re.IGNORECASE)


class Counts:
    """SQL statements and committed transactions of the engines it watches."""

    def __init__(self) -> None:
        self.statements = 0
        self.transactions = 0
        self.by_table: Counter[str] = Counter()  # statements by the first table they name

    def watch(self, store: Store) -> None:
        for engine in (store.engine, store.reader):
            if engine is None:
                continue
            sa.event.listen(engine.sync_engine, "before_cursor_execute", self._statement)
            sa.event.listen(engine.sync_engine, "commit", self._commit)

    def _statement(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        self.statements += 1
        table = TABLE.search(statement)
        self.by_table[table.group(1) if table else statement.split(None, 1)[0].lower()] += 1

    def _commit(self, *_args: Any) -> None:
        self.transactions += 1


async def stored_counts(store: Store) -> tuple[int, int]:
    """Requests expired, and jobs still queued."""
    async with store.reading() as session:
        expired = (
            await session.execute(
                sa.select(sa.func.count())
                .select_from(AccessRequest)
                .where(AccessRequest.status == "expired")
            )
        ).scalar_one()
        left = (
            await session.execute(
                sa.select(sa.func.count()).select_from(Job).where(Job.state == "queued")
            )
        ).scalar_one()
    return expired, left


async def jobs_retried(store: Store) -> int:
    async with store.reading() as session:
        return int(
            (
                await session.execute(
                    sa.select(sa.func.count()).select_from(Job).where(Job.attempts > 1)
                )
            ).scalar_one()
        )
