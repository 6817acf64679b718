"""Disabled accounts kept until their cleanup (``user_cleanup_days``).

A revocation with ``user_cleanup_days`` leaves the account disabled and queues its cleanup. An
integration that would remove the account earlier by itself (Atlas: ``deleteAfterDate``, at
most a week ahead) is asked to ``hold`` it on every periodic refresh until the cleanup is due,
so a cleanup after any number of days is honoured. The refresh is a durable periodic job: a
restart loses nothing, and the account is held again at the next refresh.
"""

from __future__ import annotations

from sqlmodel import col, select

from core.context import Context
from core.domain.ports import KeepsDisabledAccounts
from core.storage import integration_accounts
from core.storage.integration_accounts import AccountBusy, AccountLease
from core.storage.models import IntegrationAccount, Job


async def hold_disabled(ctx: Context, name: str, job: Job) -> int:
    """Hold every disabled account of integration ``name`` whose cleanup is still to come;
    how many were changed. A busy account is held at the next refresh."""
    integration: object = ctx.integrations.get(name)
    if not isinstance(integration, KeepsDisabledAccounts):
        return 0
    async with ctx.store.reading() as session:
        people = (
            (
                await session.execute(
                    select(IntegrationAccount.person).where(
                        col(IntegrationAccount.integration) == name,
                        col(IntegrationAccount.cleanup_at) > ctx.clock.now(),
                    )
                )
            )
            .scalars()
            .all()
        )
    held = 0
    for person in people:
        try:
            async with integration_accounts.leased(
                ctx, name, person, f"job:{job.id}", worker=job.locked_by
            ) as lease:
                held += await _hold(ctx, integration, lease)
        except AccountBusy:
            continue
    return held


async def _hold(ctx: Context, integration: KeepsDisabledAccounts, lease: AccountLease) -> int:
    name, person = lease.integration, lease.person
    async with ctx.store.reading() as session:
        row = await session.get(IntegrationAccount, (name, person))
        state = integration_accounts.to_state(row)
    if row is None or state is None or row.cleanup_at is None:
        return 0  # granted again, or cleaned up, since the list was read
    cleanup_at = row.cleanup_at
    updated = await integration.hold(person, account=state)
    if updated is None:
        return 0
    async with ctx.store.transaction() as session:
        await integration_accounts.confirm(session, lease, now=ctx.clock.now())
        await integration_accounts.save_state(session, name, person, updated, cleanup_at=cleanup_at)
    return 1
