"""The reconciler: access an integration holds for Gatepass that no live grant covers is
removed when Gatepass created it, and reported (never removed) when it did not."""

from __future__ import annotations

import logging

from sqlmodel import col, select

from core.context import Context
from core.domain.lifecycle import SYSTEM, Status
from core.domain.ports import ManagedAccess
from core.storage import audit, integration_accounts
from core.storage.models import AccessRequest, IntegrationAccount

log = logging.getLogger("gatepass.jobs")


async def reconcile_integration(ctx: Context, name: str) -> list[str]:
    integration = ctx.integrations[name]
    managed = await integration.list_managed()
    removed: list[str] = []
    for access in managed:
        if access.person is not None and await _still_covered(ctx, name, access.person):
            continue
        if not access.created:  # Gatepass did not create it: reported, never removed
            await _report(ctx, name, access)
            continue
        await integration.remove_managed(access)
        removed.append(access.username)
        async with ctx.store.transaction() as session:
            if access.person is not None:
                await integration_accounts.save_state(session, name, access.person, None)
            await audit.record(
                session,
                at=ctx.clock.now(),
                actor=SYSTEM,
                action="reconcile.removed",
                detail={
                    "integration": name,
                    "username": access.username,
                    "person": access.person,
                    "why": access.detail or "no active grant covers it",
                },
            )
    return removed


async def _report(ctx: Context, name: str, access: ManagedAccess) -> None:
    log.warning("reconcile %s: %s: %s", name, access.username, access.detail)
    async with ctx.store.transaction() as session:
        await audit.record(
            session,
            at=ctx.clock.now(),
            actor=SYSTEM,
            action="reconcile.reported",
            detail={
                "integration": name,
                "username": access.username,
                "person": access.person,
                "why": access.detail or "Gatepass did not create it",
            },
        )


async def _still_covered(ctx: Context, integration: str, person: str) -> bool:
    live = (Status.APPROVED, Status.GRANTING, Status.ACTIVE)
    async with ctx.store.reading() as session:
        request = (
            await session.execute(
                select(AccessRequest.id)
                .where(
                    col(AccessRequest.integration) == integration,
                    col(AccessRequest.requester) == person,
                    AccessRequest.status.in_(live),  # type: ignore[attr-defined]
                )
                .limit(1)
            )
        ).first()
        account = await session.get(IntegrationAccount, (integration, person))
    waiting_cleanup = account is not None and account.cleanup_at is not None
    return request is not None or waiting_cleanup
