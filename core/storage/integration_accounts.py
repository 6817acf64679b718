"""A person's account in an integration: its remembered state, its lease, and the union rule's
inputs (the person's active grants there)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import select

from core.context import Context
from core.domain.lifecycle import Status
from core.domain.ports import AccessGrant, AccountState, ResourceRef
from core.storage.models import AccessRequest, IntegrationAccount

ACCOUNT_LEASE = timedelta(minutes=2)


class AccountBusy(Exception):
    """Another job is changing this account right now; try again shortly."""


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


async def active_grants(
    session: AsyncSession, integration: str, person: str, *, exclude: str | None = None
) -> list[AccessGrant]:
    query = select(AccessRequest).where(
        AccessRequest.integration == integration,
        AccessRequest.requester == person,
        AccessRequest.status == Status.ACTIVE.value,
    )
    if exclude is not None:
        query = query.where(AccessRequest.id != exclude)
    rows = (await session.execute(query.order_by(AccessRequest.ends_at))).scalars()
    return [access_grant(r) for r in rows if r.ends_at is not None]


async def try_acquire(
    session: AsyncSession, integration: str, person: str, holder: str, *, now: datetime
) -> bool:
    """Take the account's lease in the caller's transaction; False when another holds it."""
    row = await session.get(IntegrationAccount, (integration, person), with_for_update=True)
    if row is None:
        session.add(
            IntegrationAccount(
                integration=integration,
                person=person,
                locked_by=holder,
                locked_until=now + ACCOUNT_LEASE,
            )
        )
        await session.flush()
        return True
    if row.locked_by not in (None, holder) and row.locked_until and row.locked_until > now:
        return False
    row.locked_by, row.locked_until = holder, now + ACCOUNT_LEASE
    return True


async def release(session: AsyncSession, integration: str, person: str, holder: str) -> None:
    await session.execute(
        sa.update(IntegrationAccount)
        .where(
            IntegrationAccount.integration == integration,
            IntegrationAccount.person == person,
            IntegrationAccount.locked_by == holder,
        )
        .values(locked_by=None, locked_until=None)
    )


@asynccontextmanager
async def leased(ctx: Context, integration: str, person: str, holder: str) -> AsyncIterator[None]:
    """Hold the account's lease for the block; AccountBusy when another holder has it."""
    async with ctx.store.transaction() as session:
        if not await try_acquire(session, integration, person, holder, now=ctx.clock.now()):
            raise AccountBusy(f"{integration}/{person} is busy")
    try:
        yield
    finally:
        async with ctx.store.transaction() as session:
            await release(session, integration, person, holder)


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
    if state is None:
        row.username, row.password_set_at, row.created_by_gatepass, row.extra = (
            None,
            None,
            False,
            {},
        )
    else:
        row.username, row.password_set_at = state.username, state.password_set_at
        row.created_by_gatepass, row.extra = state.created_by_gatepass, dict(state.extra)
    row.cleanup_at = cleanup_at
