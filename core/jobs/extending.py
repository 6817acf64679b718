"""Applying an approved extension: the grant it extends runs on from its current end.

One continuous window, the same Atlas user and password: the extended grant's ``ends_at``
moves by the extension's duration, Atlas's ``deleteAfterDate`` is pushed with it (the union is
granted again with the new end), its expiry and warning are queued for the new end, and the
extension request itself becomes ``extended``. An extension approved after the grant it
extends ended is granted as a grant of its own, from its approval (``core.jobs.granting``).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from core.context import Context
from core.domain.lifecycle import Status
from core.domain.notices import Notice
from core.domain.ports import GrantResult
from core.jobs import passwords, windows
from core.jobs.kinds import ExpireJob, MessagesUpdate, RequesterNotice, WarnExpiryJob
from core.jobs.queue import PermanentFailure, enqueue
from core.storage import audit, integration_accounts, transitions
from core.storage.integration_accounts import IN_FLIGHT, AccountLease
from core.storage.models import AccessRequest, Grant
from core.use_cases.requests import SYSTEM, locked_request, total_cap


def _runs_on(base: AccessRequest | None, now: datetime) -> bool:
    """The grant's window has started and not ended: an extension continues it."""
    return (
        base is not None
        and base.status in IN_FLIGHT
        and windows.started(base)
        and not windows.over(base, now)
    )


async def extend(ctx: Context, extension: AccessRequest, lease: AccountLease) -> bool:
    """Apply ``extension`` to the grant it extends; False when that grant has ended (the
    extension is then a grant of its own)."""
    now = ctx.clock.now()
    async with ctx.store.reading() as session:
        base = await session.get(AccessRequest, extension.extends_request_id)
        state = await integration_accounts.load_state(session, lease.integration, lease.person)
        others = await integration_accounts.live_grants(
            session, lease.integration, lease.person, now=now, exclude=base.id if base else None
        )
    if base is None or not _runs_on(base, now):
        return False
    assert base.starts_at is not None and base.ends_at is not None
    old_end = base.ends_at
    new_end = old_end + windows.duration(extension)
    _check_cap(ctx, base, new_end - base.starts_at)
    this = integration_accounts.access_grant(base, ends_at=new_end)
    result = await ctx.integration(base.integration).grant(
        this, active=[*others, this], account=state
    )
    return await _record(ctx, base.id, extension.id, old_end, new_end, result, lease)


def _check_cap(ctx: Context, base: AccessRequest, total: timedelta) -> None:
    cap = total_cap(ctx, base.flow)
    if cap is not None and total > cap:
        raise PermanentFailure(
            f"the grant would last {total} with this extension, more than its access flow's "
            f"max_total_duration ({cap})"
        )


async def _record(
    ctx: Context,
    base_id: str,
    extension_id: str,
    old_end: datetime,
    new_end: datetime,
    result: GrantResult,
    lease: AccountLease,
) -> bool:
    now = ctx.clock.now()
    async with ctx.store.transaction() as session:
        await integration_accounts.confirm(session, lease, now=now)
        base = await locked_request(session, base_id)
        extension = await locked_request(session, extension_id)
        if extension.status is not Status.GRANTING:
            return True  # revoked meanwhile: nothing to record
        if not _runs_on(base, now) or base.ends_at != old_end:
            return False  # cannot happen under the lease; granted on its own if it does
        await integration_accounts.save_state(
            session, lease.integration, lease.person, result.account
        )
        await _new_password(ctx, session, base_id, result)
        base.ends_at = new_end
        await audit.record(
            session,
            at=now,
            actor=SYSTEM,
            action="grant.extended",
            request_id=base_id,
            detail={"by": extension_id, "from": old_end.isoformat(), "to": new_end.isoformat()},
        )
        await transitions.transition(
            session,
            extension,
            Status.EXTENDED,
            at=now,
            actor=SYSTEM,
            changes={"starts_at": old_end, "ends_at": new_end},
            detail={"extends": base_id, "ends_at": new_end.isoformat()},
        )
        await _queue_after(session, base, extension_id, new_end, now=now)
    ctx.doorbell.ring()
    return True


async def _new_password(
    ctx: Context, session: AsyncSession, base_id: str, result: GrantResult
) -> None:
    """Atlas had lost the user and it was made again: its new password for every live grant."""
    if result.password is None or ctx.vault is None:
        return
    grant = await session.get(Grant, base_id)
    if grant is not None:
        await passwords.hand_over(session, ctx.vault, grant, result.password)


async def _queue_after(
    session: AsyncSession,
    base: AccessRequest,
    extension_id: str,
    new_end: datetime,
    *,
    now: datetime,
) -> None:
    stamp = new_end.isoformat()
    jobs = [
        ExpireJob.at_end(base.id, ends_at=new_end),
        MessagesUpdate.for_request(base.id, version=f"extended:{stamp}", at=now),
        MessagesUpdate.for_request(extension_id, version=Status.EXTENDED, at=now),
    ]
    if base.status is Status.ACTIVE:  # a grant still granting is told (and warned) when ready
        warn_at = max(now, new_end - windows.warning_time(base))
        jobs += [
            WarnExpiryJob.before_end(base.id, ends_at=new_end, at=warn_at),
            RequesterNotice.about(base.id, Notice.READY, key=f"extended:{stamp}", at=now),
        ]
    await enqueue(session, *jobs)
