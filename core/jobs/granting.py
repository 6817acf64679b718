"""Granting and taking back access: the job steps (grant, expire, revoke).

Every step is idempotent. It reads where the request stands and does only what is left: a
``grant`` job re-run after a crash finds the account already made and goes on to wait for it to
be ready; an ``expire`` re-run finds the request already expired and does nothing.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from core.context import Context
from core.domain.lifecycle import Status
from core.domain.notices import Notice
from core.domain.ports import AccessGrant, GrantResult, RevokeResult
from core.jobs.kinds import (
    CleanupJob,
    ExpireJob,
    GrantJob,
    MessagesUpdate,
    OwnersNotice,
    RequesterNotice,
    RevokeJob,
    WarnExpiryJob,
    ending_of,
)
from core.jobs.queue import PermanentFailure, Reschedule, enqueue
from core.storage import audit, integration_accounts, transitions
from core.storage.integration_accounts import AccountBusy, AccountLease
from core.storage.models import AccessRequest, Grant, Job
from core.use_cases.requests import SYSTEM, locked_request

READY_POLL = timedelta(seconds=5)
BUSY_RETRY = timedelta(seconds=1)
WARN_BEFORE = timedelta(minutes=10)


def warning_time(request: AccessRequest) -> timedelta:
    """10 minutes before the end, or 20 % of a short grant."""
    return min(WARN_BEFORE, timedelta(seconds=request.duration_seconds) * 0.2)


async def _request(ctx: Context, request_id: str) -> AccessRequest:
    async with ctx.store.reading() as session:
        request = await session.get(AccessRequest, request_id)
    if request is None:
        raise PermanentFailure(f"request {request_id} does not exist")
    return request


# ------------------------------------------------------------------ grant


async def grant_step(ctx: Context, job: Job) -> Reschedule | None:
    request = await _request(ctx, GrantJob.of(job).request_id)
    if request.status == Status.APPROVED:
        async with ctx.store.transaction() as session:
            request = await locked_request(session, request.id)
            if request.status == Status.APPROVED:
                await transitions.transition(
                    session, request, Status.GRANTING, at=ctx.clock.now(), actor=SYSTEM
                )
    if request.status != Status.GRANTING:
        return None  # already active, failed or ended: nothing left to do
    if ctx.vault is None:
        raise PermanentFailure("no encryption key is configured, so no password can be handed over")
    try:
        async with integration_accounts.leased(
            ctx, request.integration, request.requester, f"job:{job.id}", worker=job.locked_by
        ) as lease:
            return await _grant_under_lease(ctx, request, lease)
    except AccountBusy as busy:
        return Reschedule(ctx.clock.now() + BUSY_RETRY, str(busy))


async def _grant_under_lease(
    ctx: Context, request: AccessRequest, lease: AccountLease
) -> Reschedule | None:
    integration = ctx.integration(request.integration)
    async with ctx.store.reading() as session:
        grant = await session.get(Grant, request.id)
        state = await integration_accounts.load_state(
            session, request.integration, request.requester
        )
        others = await integration_accounts.active_grants(
            session, request.integration, request.requester, exclude=request.id
        )
    if grant is None:
        this = integration_accounts.access_grant(
            request, ends_at=ctx.clock.now() + timedelta(seconds=request.duration_seconds)
        )
        result = await integration.grant(this, active=[*others, this], account=state)
        await _store_grant(ctx, request, result, lease)
        if result.ready:
            await _activate(ctx, request)
            return None
    elif state is None or not await integration.ready(
        integration_accounts.access_grant(request, ends_at=ctx.clock.now()), account=state
    ):
        return Reschedule(ctx.clock.now() + READY_POLL, "waiting for the change to be deployed")
    else:
        await _activate(ctx, request)
        return None
    return Reschedule(ctx.clock.now() + READY_POLL, "waiting for the change to be deployed")


async def _store_grant(
    ctx: Context, request: AccessRequest, result: GrantResult, lease: AccountLease
) -> None:
    assert ctx.vault is not None
    async with ctx.store.transaction() as session:
        await integration_accounts.confirm(session, lease, now=ctx.clock.now())
        grant = Grant(
            request_id=request.id,
            integration=request.integration,
            person=request.requester,
            username=result.connection.username,
            connection={
                "connection_string": result.connection.connection_string,
                "custom_access_details": result.connection.custom_access_details,
                "notes": list(result.connection.notes),
            },
            password_ciphertext=ctx.vault.seal(result.password) if result.password else None,
        )
        session.add(grant)
        await integration_accounts.save_state(
            session, request.integration, request.requester, result.account
        )
        await audit.record(
            session,
            at=ctx.clock.now(),
            actor=SYSTEM,
            action="grant.applied",
            request_id=request.id,
            detail={
                "username": result.connection.username,
                "new_credential": result.password is not None,
            },
        )


async def _activate(ctx: Context, request: AccessRequest) -> None:
    now = ctx.clock.now()
    ends_at = now + timedelta(seconds=request.duration_seconds)
    async with ctx.store.transaction() as session:
        request = await locked_request(session, request.id)
        if request.status != Status.GRANTING:
            return
        grant = await session.get(Grant, request.id)
        assert grant is not None
        grant.ready, grant.granted_at = True, now
        await transitions.transition(
            session,
            request,
            Status.ACTIVE,
            at=now,
            actor=SYSTEM,
            changes={"starts_at": now, "ends_at": ends_at},
            detail={"ends_at": ends_at.isoformat()},
        )
        await enqueue(
            session,
            ExpireJob.at_end(request.id, ends_at=ends_at),
            WarnExpiryJob.before_end(request.id, at=ends_at - warning_time(request)),
            RequesterNotice.about(request.id, Notice.READY, key="granted", at=now),
            MessagesUpdate.for_request(request.id, version=Status.ACTIVE, at=now),
        )
    ctx.doorbell.ring()


async def grant_gave_up(ctx: Context, job: Job, error: str) -> None:
    """The grant cannot be made: the request fails, the requester and the owners are told."""
    now = ctx.clock.now()
    async with ctx.store.transaction() as session:
        request = await locked_request(session, GrantJob.of(job).request_id)
        if request.status == Status.APPROVED:
            await transitions.transition(session, request, Status.GRANTING, at=now, actor=SYSTEM)
        if request.status != Status.GRANTING:
            return
        await transitions.transition(
            session,
            request,
            Status.FAILED,
            at=now,
            actor=SYSTEM,
            changes={"failure": error[:2000]},
            detail={"error": error[:500], "attempts": job.attempts},
        )
        await enqueue(
            session,
            RequesterNotice.about(request.id, Notice.OUTCOME, key=Status.FAILED, at=now),
            OwnersNotice.about(
                request.id, f"Granting failed: {error[:500]}", key="grant-failed", at=now
            ),
            MessagesUpdate.for_request(request.id, version=Status.FAILED, at=now),
        )
    ctx.doorbell.ring()


# ------------------------------------------------------------------ expire / revoke


async def end_step(ctx: Context, job: Job) -> Reschedule | None:
    """``expire`` and ``revoke``: take this grant's access away, keep what others cover.

    Under the account's lease: read where the request and the account stand, call the
    integration (outside any transaction), then record the end.
    """
    end = ending_of(job)
    request = await _request(ctx, end.request_id)
    if request.status in (Status.APPROVED, Status.GRANTING):
        return Reschedule(ctx.clock.now() + READY_POLL, "the grant is still being made")
    if request.status != Status.ACTIVE:
        return None
    try:
        async with integration_accounts.leased(
            ctx, request.integration, request.requester, f"job:{job.id}", worker=job.locked_by
        ) as lease:
            await _end_under_lease(ctx, request.id, end, lease)
    except AccountBusy as busy:
        return Reschedule(ctx.clock.now() + BUSY_RETRY, str(busy))
    return None


async def _end_under_lease(
    ctx: Context, request_id: str, end: ExpireJob | RevokeJob, lease: AccountLease
) -> None:
    async with ctx.store.reading() as session:
        request = await session.get(AccessRequest, request_id)
        if request is None or request.status != Status.ACTIVE:
            return  # ended by the other end job meanwhile
        state = await integration_accounts.load_state(session, lease.integration, lease.person)
        remaining = await integration_accounts.active_grants(
            session, lease.integration, lease.person, exclude=request_id
        )
    outcome = await ctx.integration(request.integration).revoke(
        integration_accounts.access_grant(request), remaining=remaining, account=state
    )
    await _record_end(ctx, request, end, outcome, remaining, lease)


async def _record_end(
    ctx: Context,
    request: AccessRequest,
    end: ExpireJob | RevokeJob,
    outcome: RevokeResult,
    remaining: list[AccessGrant],
    lease: AccountLease,
) -> None:
    now = ctx.clock.now()
    async with ctx.store.transaction() as session:
        await integration_accounts.confirm(session, lease, now=now)
        request = await locked_request(session, request.id)
        if request.status != Status.ACTIVE:
            return
        await integration_accounts.save_state(
            session, lease.integration, lease.person, outcome.account, cleanup_at=outcome.cleanup_at
        )
        await _erase_password(session, request.id)
        await transitions.transition(
            session,
            request,
            end.target,
            at=now,
            actor=end.actor or SYSTEM,
            platform=end.platform,
            changes={"ended_at": now, "end_reason": end.reason or None},
            detail={"kept_for_other_grants": [g.grant_id for g in remaining]},
        )
        if outcome.cleanup_at is not None:
            await enqueue(
                session,
                CleanupJob.for_account(lease.integration, lease.person, at=outcome.cleanup_at),
            )
        await enqueue(
            session,
            RequesterNotice.about(request.id, Notice.ENDED, key=end.target, at=now),
            MessagesUpdate.for_request(request.id, version=end.target, at=now),
        )
    ctx.doorbell.ring()


async def _erase_password(session: AsyncSession, request_id: str) -> None:
    grant = await session.get(Grant, request_id)
    if grant is not None:
        grant.password_ciphertext = None


async def end_keeps_failing(ctx: Context, job: Job, error: str) -> None:
    """A revocation has failed many times: the owners must know (the job keeps trying)."""
    request_id = ending_of(job).request_id
    now = ctx.clock.now()
    async with ctx.store.transaction() as session:
        await audit.record(
            session,
            at=now,
            actor=SYSTEM,
            action="grant.revoke_failing",
            request_id=request_id,
            detail={"error": error[:500], "attempts": job.attempts},
        )
        await enqueue(
            session,
            OwnersNotice.about(
                request_id,
                f"Removing this access keeps failing ({job.attempts} attempts): {error[:300]}. "
                "Gatepass keeps trying; check the integration.",
                key=f"revoke-failing:{job.id}",
                at=now,
            ),
        )
    ctx.doorbell.ring()
