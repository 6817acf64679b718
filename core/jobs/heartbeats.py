"""A running worker's background loops: its heartbeat, and the audit sequencer's rounds.

Each runs in a task of its own, so that neither waits behind the other: a long chaining round
never makes a live worker look dead (its leases would be taken over and its work repeated).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from core.context import Context
from core.storage import workers
from core.storage.store import DATABASE_ERRORS

log = logging.getLogger("gatepass.jobs")


async def beat(ctx: Context, worker_id: str) -> None:
    """Write ``worker_id``'s heartbeat now."""
    async with ctx.store.transaction() as session:
        await workers.beat(session, worker_id, now=ctx.clock.now())


async def beat_forever(ctx: Context, worker_id: str, every: timedelta) -> None:
    while True:
        try:
            await beat(ctx, worker_id)
        except DATABASE_ERRORS as error:
            log.warning("worker %s cannot write its heartbeat: %s", worker_id, error)
        await asyncio.sleep(every.total_seconds())


async def chain_forever(ctx: Context, worker_id: str, every: timedelta) -> None:
    """Rounds of the audit sequencer (off the hot path: one worker at a time chains, the
    others skip)."""
    # Imported here: the audit log queues webhook jobs, whose kinds build on the queue.
    from core.storage import audit

    while True:
        try:
            await audit.chain_all(ctx.store)
        except Exception as error:  # the sequencer must go on; the next round tries again
            log.warning("worker %s cannot chain audit events: %s", worker_id, error)
        await asyncio.sleep(every.total_seconds())


async def sign_off(ctx: Context, worker_id: str) -> None:
    """Stopped cleanly with nothing in hand: remove the heartbeat (and old dead ones)."""
    try:
        async with ctx.store.transaction() as session:
            await workers.forget(session, worker_id)
            await workers.forget_gone(session, now=ctx.clock.now())
    except DATABASE_ERRORS as error:
        log.warning("worker %s cannot remove its heartbeat: %s", worker_id, error)
