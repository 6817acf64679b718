"""A grant's window: the time its access exists, ``starts_at`` to ``ends_at`` on its request.

The window starts when the integration call that gives the access succeeds, and is written in
its own transaction right after that call returns, before Gatepass waits for Atlas to deploy
the change; it ends at that start plus the approved duration, whatever happens to Gatepass.

A crash can come between the call and that write. So before the first call a *tentative*
window is written (starting now, the earliest the access can exist), with its expiry job, in
the transaction that takes the person's account lease (``core.jobs.granting``); the run that
makes the call moves it to the call's success, and withdraws it if the call failed. A later
run that finds a tentative window it did not write knows a crash came in between: the access
may exist since then, so the window stays where it is — and when it is over, the access is
removed at once, never given a fresh window. The access is never longer than approved.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from core.context import Context
from core.jobs.kinds import ExpireJob
from core.jobs.queue import enqueue
from core.storage import integration_accounts
from core.storage.integration_accounts import AccountLease
from core.storage.models import AccessRequest

log = logging.getLogger("gatepass.jobs")

READY_POLL = timedelta(seconds=5)
BUSY_RETRY = timedelta(seconds=1)
WARN_BEFORE = timedelta(minutes=10)


def warning_time(request: AccessRequest) -> timedelta:
    """10 minutes before the end, or 20 % of a short grant."""
    return min(WARN_BEFORE, timedelta(seconds=request.duration_seconds) * 0.2)


def duration(request: AccessRequest) -> timedelta:
    return timedelta(seconds=request.duration_seconds)


def started(request: AccessRequest) -> bool:
    """A window was written: the access may exist."""
    return request.starts_at is not None


def over(request: AccessRequest, now: datetime) -> bool:
    """The window was written and has run out."""
    return request.ends_at is not None and request.ends_at <= now


async def write_tentative(session: AsyncSession, request: AccessRequest, *, now: datetime) -> None:
    """Before the first call that may give the access, in the transaction that holds the
    account's lease: the window starts now (tentatively), and its expiry is queued with it.
    ``request`` is updated to match."""
    ends_at = now + duration(request)
    await session.execute(
        sa.update(AccessRequest)
        .where(col(AccessRequest.id) == request.id, col(AccessRequest.starts_at).is_(None))
        .values(starts_at=now, ends_at=ends_at)
    )
    await enqueue(session, ExpireJob.at_end(request.id, ends_at=ends_at))
    request.starts_at, request.ends_at = now, ends_at


async def open_tentative(ctx: Context, request: AccessRequest, lease: AccountLease) -> None:
    """``write_tentative`` in a transaction of its own, under a lease taken before."""
    async with ctx.store.transaction() as session:
        now = ctx.clock.now()
        await integration_accounts.confirm(session, lease, now=now)
        await write_tentative(session, request, now=now)


async def withdraw_tentative(ctx: Context, request: AccessRequest, lease: AccountLease) -> None:
    """The call failed with an answer: no access was given, the window has not started (its
    expiry job, finding no window, does nothing). Best effort: left in place, the window
    only shortens the access, never lengthens it."""
    try:
        async with ctx.store.transaction() as session:
            await integration_accounts.confirm(session, lease, now=ctx.clock.now())
            await session.execute(
                sa.update(AccessRequest)
                .where(col(AccessRequest.id) == request.id)
                .values(starts_at=None, ends_at=None)
            )
    except (*integration_accounts.DATABASE_ERRORS, integration_accounts.AccountBusy) as error:
        log.warning("request %s: the tentative window stays: %s", request.id, error)
        return
    request.starts_at = request.ends_at = None


def confirmed_window(
    request: AccessRequest, *, now: datetime, restart: bool
) -> tuple[datetime, datetime]:
    """The window once the call succeeded: from now when this run opened it (``restart``),
    else where an earlier run left it."""
    if restart or request.starts_at is None or request.ends_at is None:
        return now, now + duration(request)
    return request.starts_at, request.ends_at
