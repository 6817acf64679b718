"""A person's account in an integration: its remembered state, its lease, and the union rule's
inputs (every grant of the person there whose window is running).

The lease lets one job at a time compute and apply the union of a person's grants. It lasts as
long as a job's own lease (``jobs.lease``) and is renewed while the job works under it, however
long an Atlas call takes; when a renewal fails (another holder took the account over, or the
database refused) the work under the lease is cut short and ``LeaseLost`` raised, so that the
job runs again later instead of writing over someone else's change. A lease whose holder's
worker is dead (its heartbeat stale, see ``core.storage.workers``) is free to take over at once.

The union counts every grant in flight — granting or active — whose window has started and not
ended: a grant still waiting for Atlas to deploy it, or one whose Atlas call a crash cut off,
may already give access, so nothing else may take that access away.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from core.context import Context
from core.domain.lifecycle import Status
from core.domain.ports import AccessGrant, AccountState, ResourceRef
from core.storage import workers
from core.storage.models import AccessRequest, IntegrationAccount

log = logging.getLogger("gatepass.jobs")
RENEW_EVERY = 1 / 3  # of the lease
DATABASE_ERRORS = (sa.exc.SQLAlchemyError, OSError)
IN_FLIGHT = (Status.GRANTING, Status.ACTIVE)  # a grant's access may exist in these statuses


class AccountBusy(Exception):
    """Another job is changing this account right now; try again shortly."""


class LeaseLost(AccountBusy):
    """The account's lease could not be kept (taken over, or not renewed): the work under it
    was stopped; the job tries again shortly."""


@dataclass
class AccountLease:
    """One holder's lease on one person's account in one integration."""

    integration: str
    person: str
    holder: str
    length: timedelta
    lost: str | None = None  # why it was lost, once it is

    def __str__(self) -> str:
        return f"{self.integration}/{self.person} (held by {self.holder})"


def to_state(row: IntegrationAccount | None) -> AccountState | None:
    if row is None or (row.username is None and not row.extra):
        return None
    return AccountState(
        username=row.username,
        password_set_at=row.password_set_at,
        created_by_gatepass=row.created_by_gatepass,
        extra=dict(row.extra),
    )


def access_grant(request: AccessRequest, *, ends_at: datetime | None = None) -> AccessGrant:
    end = ends_at or request.ends_at
    assert end is not None, "a grant has an end"
    return AccessGrant(
        grant_id=request.id,
        person=request.requester,
        resource=ResourceRef(
            request.resource_type, request.resource_name, request.resource_external_id
        ),
        permission=request.permission,
        ends_at=end,
    )


async def live_grants(
    session: AsyncSession,
    integration: str,
    person: str,
    *,
    now: datetime,
    exclude: str | None = None,
) -> list[AccessGrant]:
    """The person's grants there whose window runs at ``now`` (granting or active), soonest
    end first: the union the account's access must be."""
    query = select(AccessRequest).where(
        col(AccessRequest.integration) == integration,
        col(AccessRequest.requester) == person,
        col(AccessRequest.status).in_([status.value for status in IN_FLIGHT]),
        col(AccessRequest.starts_at).is_not(None),
        col(AccessRequest.ends_at) > now,
    )
    if exclude is not None:
        query = query.where(AccessRequest.id != exclude)
    rows = (await session.execute(query.order_by(col(AccessRequest.ends_at)))).scalars()
    return [access_grant(r) for r in rows]


async def try_acquire(
    session: AsyncSession,
    integration: str,
    person: str,
    holder: str,
    *,
    now: datetime,
    length: timedelta,
    worker: str | None = None,
    stale_after: timedelta | None = None,
) -> bool:
    """Take the account's lease in the caller's transaction; False when another holds it and
    its worker is not known dead (a heartbeat older than ``stale_after``)."""
    row = await session.get(IntegrationAccount, (integration, person), with_for_update=True)
    if row is None:
        session.add(
            IntegrationAccount(
                integration=integration,
                person=person,
                locked_by=holder,
                locked_until=now + length,
                locked_by_worker=worker,
            )
        )
        await session.flush()
        return True
    held = row.locked_by not in (None, holder) and row.locked_until and row.locked_until > now
    if (
        held
        and stale_after is not None
        and await workers.is_dead(session, row.locked_by_worker, now=now, stale_after=stale_after)
    ):
        log.info("taking over the lease on %s/%s: %s is dead", integration, person, row.locked_by)
        held = False
    if held:
        return False
    row.locked_by, row.locked_until, row.locked_by_worker = holder, now + length, worker
    return True


async def renew(session: AsyncSession, lease: AccountLease, *, now: datetime) -> bool:
    """Extend the lease from ``now`` in the caller's transaction; False when it is no longer
    this holder's."""
    result = await session.execute(
        sa.update(IntegrationAccount)
        .where(
            col(IntegrationAccount.integration) == lease.integration,
            col(IntegrationAccount.person) == lease.person,
            col(IntegrationAccount.locked_by) == lease.holder,
        )
        .values(locked_until=now + lease.length)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def confirm(session: AsyncSession, lease: AccountLease, *, now: datetime) -> None:
    """Before writing what was done under the lease: still ours (and renewed), in the same
    transaction as the write, or LeaseLost and nothing is written."""
    if lease.lost is not None or not await renew(session, lease, now=now):
        if lease.lost is None:
            lease.lost = "another holder took it over"
            log.warning(
                "lease on %s lost: %s; nothing written, the job tries again later",
                lease,
                lease.lost,
            )
        raise LeaseLost(f"lease on {lease} lost: {lease.lost}")


async def release(session: AsyncSession, integration: str, person: str, holder: str) -> None:
    await session.execute(
        sa.update(IntegrationAccount)
        .where(
            col(IntegrationAccount.integration) == integration,
            col(IntegrationAccount.person) == person,
            col(IntegrationAccount.locked_by) == holder,
        )
        .values(locked_by=None, locked_until=None, locked_by_worker=None)
    )


@asynccontextmanager
async def leased(
    ctx: Context, integration: str, person: str, holder: str, *, worker: str | None = None
) -> AsyncIterator[AccountLease]:
    """Hold the account's lease for the block, renewed while the block runs. ``worker``: the
    worker running the holder, so that others can take the lease over when it dies.

    AccountBusy when another (live) holder has it; LeaseLost when it could not be kept, after
    the block was stopped where it was (an Atlas call in flight is cut short: every integration
    call is idempotent, and the job's next run starts over from what is stored).
    """
    lease = AccountLease(integration, person, holder, ctx.config.jobs.lease)
    async with ctx.store.transaction() as session:
        now = ctx.clock.now()
        if not await try_acquire(
            session,
            integration,
            person,
            holder,
            now=now,
            length=lease.length,
            worker=worker,
            stale_after=ctx.config.jobs.heartbeat_timeout,
        ):
            raise AccountBusy(f"{integration}/{person} is busy")
    async with held(ctx, lease):
        yield lease


@asynccontextmanager
async def held(ctx: Context, lease: AccountLease) -> AsyncIterator[AccountLease]:
    """A lease already taken (``try_acquire`` in a committed transaction, which may have
    written more under it): renewed while the block runs, let go after, as ``leased``."""
    try:
        async with _kept(ctx, lease):
            yield lease
    finally:
        await _let_go(ctx, lease)


@asynccontextmanager
async def _kept(ctx: Context, lease: AccountLease) -> AsyncIterator[None]:
    renewing: asyncio.Task[None] | None = None
    try:
        async with asyncio.timeout(None) as cutoff:
            renewing = asyncio.create_task(_renew_while_held(ctx, lease, cutoff))
            yield
    except TimeoutError:
        if lease.lost is None:
            raise  # the block's own timeout
        raise LeaseLost(f"lease on {lease} lost: {lease.lost}") from None
    finally:
        if renewing is not None:
            renewing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewing


async def _renew_while_held(ctx: Context, lease: AccountLease, cutoff: asyncio.Timeout) -> None:
    """Renew every third of the lease; on the first failure stop the block under it."""
    every = max(0.05, lease.length.total_seconds() * RENEW_EVERY)
    while True:
        await asyncio.sleep(every)
        try:
            async with ctx.store.transaction() as session:
                if await renew(session, lease, now=ctx.clock.now()):
                    continue
            lease.lost = "another holder took it over"
        except DATABASE_ERRORS as error:
            lease.lost = f"the database refused to renew it ({type(error).__name__}: {error})"
        log.warning(
            "lease on %s lost: %s; stopping the work under it, the job tries again later",
            lease,
            lease.lost,
        )
        cutoff.reschedule(asyncio.get_running_loop().time())
        return


async def _let_go(ctx: Context, lease: AccountLease) -> None:
    try:
        async with ctx.store.transaction() as session:
            await release(session, lease.integration, lease.person, lease.holder)
    except DATABASE_ERRORS as error:  # it lapses by itself at locked_until
        log.warning("could not release the lease on %s (it lapses by itself): %s", lease, error)


async def load_state(session: AsyncSession, integration: str, person: str) -> AccountState | None:
    return to_state(await session.get(IntegrationAccount, (integration, person)))


async def save_state(
    session: AsyncSession,
    integration: str,
    person: str,
    state: AccountState | None,
    *,
    cleanup_at: datetime | None = None,
) -> None:
    row = await session.get(IntegrationAccount, (integration, person))
    if row is None:
        row = IntegrationAccount(integration=integration, person=person)
        session.add(row)
    if state is None:  # the account is gone, and its password with it
        row.username, row.password_set_at, row.created_by_gatepass, row.extra = (
            None,
            None,
            False,
            {},
        )
        row.password_ciphertext = None
    else:
        row.username, row.password_set_at = state.username, state.password_set_at
        row.created_by_gatepass, row.extra = state.created_by_gatepass, dict(state.extra)
    row.cleanup_at = cleanup_at
