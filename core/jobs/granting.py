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
from core.domain.ports import AccessGrant, GrantResult, RevokeResult
from core.jobs import notices, queue
from core.jobs.queue import PermanentFailure, Reschedule
from core.storage import audit, integration_accounts, transitions
from core.storage.integration_accounts import AccountBusy
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
    request = await _request(ctx, job.payload["request_id"])
    if request.status == Status.APPROVED.value:
        async with ctx.store.transaction() as session:
            request = await locked_request(session, request.id)
            if request.status == Status.APPROVED.value:
                await transitions.transition(
                    session, request, Status.GRANTING, at=ctx.clock.now(), actor=SYSTEM
                )
    if request.status != Status.GRANTING.value:
        return None  # already active, failed or ended: nothing left to do
    if ctx.vault is None:
        raise PermanentFailure("no encryption key is configured, so no password can be handed over")
    try:
        async with integration_accounts.leased(
            ctx, request.integration, request.requester, f"job:{job.id}"
        ):
            return await _grant_under_lease(ctx, request)
    except AccountBusy:
        return Reschedule(ctx.clock.now() + BUSY_RETRY, "account busy")


async def _grant_under_lease(ctx: Context, request: AccessRequest) -> Reschedule | None:
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
        await _store_grant(ctx, request, result)
        if result.ready:
            return await _activate(ctx, request)
    elif state is None or not await integration.ready(
        integration_accounts.access_grant(request, ends_at=ctx.clock.now()), account=state
    ):
        return Reschedule(ctx.clock.now() + READY_POLL, "waiting for the change to be deployed")
    else:
        return await _activate(ctx, request)
    return Reschedule(ctx.clock.now() + READY_POLL, "waiting for the change to be deployed")


async def _store_grant(ctx: Context, request: AccessRequest, result: GrantResult) -> None:
    assert ctx.vault is not None
    async with ctx.store.transaction() as session:
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
        if request.status != Status.GRANTING.value:
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
        payload = {"request_id": request.id}
        await queue.enqueue(
            session,
            kind="expire",
            run_at=ends_at,
            dedupe_key=f"expire:{request.id}",
            payload=payload,
        )
        await queue.enqueue(
            session,
            kind="warn_expiry",
            run_at=ends_at - warning_time(request),
            dedupe_key=f"warn:{request.id}",
            payload=payload,
        )
        await notices.queue_requester(session, request.id, "ready", at=now, key="granted")
        await notices.queue_update(session, request.id, at=now, version="active")
    ctx.wake_worker()


async def grant_gave_up(ctx: Context, job: Job, error: str) -> None:
    """The grant cannot be made: the request fails, the requester and the owners are told."""
    now = ctx.clock.now()
    async with ctx.store.transaction() as session:
        request = await locked_request(session, job.payload["request_id"])
        if request.status == Status.APPROVED.value:
            await transitions.transition(session, request, Status.GRANTING, at=now, actor=SYSTEM)
        if request.status != Status.GRANTING.value:
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
        await notices.queue_requester(session, request.id, "outcome", at=now, key="failed")
        await notices.queue_owner_alert(
            session, request.id, f"Granting failed: {error[:500]}", at=now, key="grant-failed"
        )
        await notices.queue_update(session, request.id, at=now, version="failed")
    ctx.wake_worker()


# ------------------------------------------------------------------ expire / revoke


async def end_step(ctx: Context, job: Job) -> Reschedule | None:
    """``expire`` and ``revoke``: take this grant's access away, keep what others cover.

    One transaction reads where the request stands and takes the account's lease; the
    integration is called outside any transaction; one more records the end and lets go.
    """
    holder = f"job:{job.id}"
    async with ctx.store.transaction() as session:
        request = await session.get(AccessRequest, job.payload["request_id"])
        if request is None:
            raise PermanentFailure(f"request {job.payload['request_id']} does not exist")
        if request.status in (Status.APPROVED.value, Status.GRANTING.value):
            return Reschedule(ctx.clock.now() + READY_POLL, "the grant is still being made")
        if request.status != Status.ACTIVE.value:
            return None
        now = ctx.clock.now()
        if not await integration_accounts.try_acquire(
            session, request.integration, request.requester, holder, now=now
        ):
            return Reschedule(now + BUSY_RETRY, "account busy")
        state = await integration_accounts.load_state(
            session, request.integration, request.requester
        )
        remaining = await integration_accounts.active_grants(
            session, request.integration, request.requester, exclude=request.id
        )
    try:
        outcome = await ctx.integration(request.integration).revoke(
            integration_accounts.access_grant(request), remaining=remaining, account=state
        )
    except BaseException:
        async with ctx.store.transaction() as session:
            await integration_accounts.release(
                session, request.integration, request.requester, holder
            )
        raise
    await _record_end(ctx, request, job, outcome, remaining, holder)
    return None


async def _record_end(
    ctx: Context,
    request: AccessRequest,
    job: Job,
    outcome: RevokeResult,
    remaining: list[AccessGrant],
    holder: str,
) -> None:
    target = Status.EXPIRED if job.kind == "expire" else Status.REVOKED
    now = ctx.clock.now()
    async with ctx.store.transaction() as session:
        await integration_accounts.release(session, request.integration, request.requester, holder)
        request = await locked_request(session, request.id)
        if request.status != Status.ACTIVE.value:
            return
        await integration_accounts.save_state(
            session,
            request.integration,
            request.requester,
            outcome.account,
            cleanup_at=outcome.cleanup_at,
        )
        await _erase_password(session, request.id)
        reason = job.payload.get("reason") or (
            "its time was up" if target is Status.EXPIRED else None
        )
        await transitions.transition(
            session,
            request,
            target,
            at=now,
            actor=job.payload.get("actor", SYSTEM),
            platform=job.payload.get("platform"),
            changes={"ended_at": now, "end_reason": reason},
            detail={"kept_for_other_grants": [g.grant_id for g in remaining]},
        )
        if outcome.cleanup_at is not None:
            await queue.enqueue(
                session,
                kind="cleanup",
                run_at=outcome.cleanup_at,
                dedupe_key=f"cleanup:{request.integration}:{request.requester}:{outcome.cleanup_at.isoformat()}",
                payload={"integration": request.integration, "person": request.requester},
            )
        await notices.queue_requester(session, request.id, "ended", at=now, key=target.value)
        await notices.queue_update(session, request.id, at=now, version=target.value)
    ctx.wake_worker()


async def _erase_password(session: AsyncSession, request_id: str) -> None:
    grant = await session.get(Grant, request_id)
    if grant is not None:
        grant.password_ciphertext = None


async def end_keeps_failing(ctx: Context, job: Job, error: str) -> None:
    """A revocation has failed many times: the owners must know (the job keeps trying)."""
    async with ctx.store.transaction() as session:
        await audit.record(
            session,
            at=ctx.clock.now(),
            actor=SYSTEM,
            action="grant.revoke_failing",
            request_id=job.payload["request_id"],
            detail={"error": error[:500], "attempts": job.attempts},
        )
        await notices.queue_owner_alert(
            session,
            job.payload["request_id"],
            f"Removing this access keeps failing ({job.attempts} attempts): {error[:300]}. "
            "Gatepass keeps trying; check the integration.",
            at=ctx.clock.now(),
            key=f"revoke-failing:{job.id}",
        )
    ctx.wake_worker()
