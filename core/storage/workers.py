"""Workers' heartbeats: who is alive to hold a lease.

Every worker writes its row (``workers``) every tick. A lease — of a job (``jobs.locked_by``)
or of a person's account (``integration_accounts.locked_by_worker``) — whose worker has not
written for ``heartbeat_timeout`` belongs to a dead process: any other worker may take it over
at once, instead of waiting for the lease to run out (a process killed in the middle of a
revocation no longer delays it by a whole lease). The times are the workers' own clocks,
so replicas keep them in step (NTP) well within the timeout.
"""

from __future__ import annotations

import os
import random
import socket
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from core.storage.models import WorkerBeat
from core.storage.upsert import insert_or_ignore

FORGET_AFTER = timedelta(days=1)  # rows of workers gone this long are deleted


def default_worker_id() -> str:
    """``host:pid:random``, within the 64 characters a lease holder column takes."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{random.randrange(16**6):06x}"


async def beat(session: AsyncSession, worker_id: str, *, now: datetime) -> None:
    """Write ``worker_id``'s heartbeat at ``now`` in the caller's transaction."""
    inserted = await insert_or_ignore(
        session,
        WorkerBeat,
        {"id": worker_id, "started_at": now, "seen_at": now},
        key=["id"],
    )
    if not inserted:
        await session.execute(
            sa.update(WorkerBeat).where(col(WorkerBeat.id) == worker_id).values(seen_at=now)
        )


def dead(worker: Any, *, now: datetime, stale_after: timedelta) -> sa.ColumnElement[bool]:
    """SQL: the worker named by the column (or value) ``worker`` has a heartbeat, and it is
    stale. A holder with no heartbeat row at all (a release without heartbeats, in a rolling
    upgrade) is not known dead: its lease lasts until it runs out, as before."""
    return sa.exists().where(
        col(WorkerBeat.id) == worker, col(WorkerBeat.seen_at) < now - stale_after
    )


async def is_dead(
    session: AsyncSession, worker: str | None, *, now: datetime, stale_after: timedelta
) -> bool:
    if worker is None:
        return False
    found = await session.execute(sa.select(dead(worker, now=now, stale_after=stale_after)))
    return bool(found.scalar())


async def forget(session: AsyncSession, worker_id: str) -> None:
    """A worker stopping cleanly removes its row: its leases are free at once."""
    await session.execute(sa.delete(WorkerBeat).where(col(WorkerBeat.id) == worker_id))


async def forget_gone(session: AsyncSession, *, now: datetime) -> None:
    """Remove the rows of workers silent for a day (processes that died long ago)."""
    await session.execute(sa.delete(WorkerBeat).where(col(WorkerBeat.seen_at) < now - FORGET_AFTER))
