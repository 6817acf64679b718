"""Taking access back: the ``expire`` and ``revoke`` job steps.

Under the person's account lease: read where the request and the account stand, call the
integration (outside any transaction) to remove what this grant gave while keeping the union of
the person's other grants in flight, then record the end. A grant ends this way whether it is
active or still granting (its window may have started before Atlas deployed it), and a grant
that failed after its access was made has that access removed too.
"""

from __future__ import annotations

from datetime import datetime

from core.context import Context
from core.domain.lifecycle import Status
from core.domain.notices import Notice
from core.domain.ports import AccessGrant, RevokeResult
from core.jobs import passwords, windows
from core.jobs.granting import read_request
from core.jobs.kinds import (
    CleanupJob,
    ExpireJob,
    MessagesUpdate,
    OwnersNotice,
    RequesterNotice,
    RevokeJob,
    ending_of,
)
from core.jobs.queue import Reschedule, enqueue
from core.storage import audit, integration_accounts, transitions
from core.storage.integration_accounts import AccountBusy, AccountLease
from core.storage.models import AccessRequest, Job
from core.use_cases.requests import SYSTEM, locked_request

Ending = ExpireJob | RevokeJob


def due(request: AccessRequest, end: Ending, now: datetime) -> bool:
    """Whether this end job has anything to do now.

    A revocation ends a grant approved, granting or active; an expiry, a grant whose window
    is over (one queued for an end an extension has since moved later does nothing). A failed
    grant whose access was made has it removed once (``ended_at`` not yet written).
    """
    status = request.status
    if status is Status.FAILED:
        return windows.started(request) and request.ended_at is None and windows.over(request, now)
    if isinstance(end, RevokeJob):
        return status in (Status.APPROVED, Status.GRANTING, Status.ACTIVE)
    return status in (Status.GRANTING, Status.ACTIVE) and windows.over(request, now)


async def end_step(ctx: Context, job: Job) -> Reschedule | None:
    end = ending_of(job)
    request = await read_request(ctx, end.request_id)
    if not due(request, end, ctx.clock.now()):
        return None
    try:
        async with integration_accounts.leased(
            ctx, request.integration, request.requester, f"job:{job.id}", worker=job.locked_by
        ) as lease:
            await _end_under_lease(ctx, request.id, end, lease)
    except AccountBusy as busy:
        return Reschedule(ctx.clock.now() + windows.BUSY_RETRY, str(busy))
    return None


async def _end_under_lease(ctx: Context, request_id: str, end: Ending, lease: AccountLease) -> None:
    now = ctx.clock.now()
    async with ctx.store.reading() as session:
        request = await session.get(AccessRequest, request_id)
        if request is None or not due(request, end, now):
            return  # ended by the other end job meanwhile
        state = await integration_accounts.load_state(session, lease.integration, lease.person)
        remaining = await integration_accounts.live_grants(
            session, lease.integration, lease.person, now=now, exclude=request_id
        )
    outcome = None
    if windows.started(request):  # else nothing was ever given: only the status changes
        outcome = await ctx.integration(request.integration).revoke(
            integration_accounts.access_grant(request), remaining=remaining, account=state
        )
    await _record_end(ctx, request, end, outcome, remaining, lease)


async def _record_end(
    ctx: Context,
    request: AccessRequest,
    end: Ending,
    outcome: RevokeResult | None,
    remaining: list[AccessGrant],
    lease: AccountLease,
) -> None:
    now = ctx.clock.now()
    async with ctx.store.transaction() as session:
        await integration_accounts.confirm(session, lease, now=now)
        request = await locked_request(session, request.id)
        if not due(request, end, now):
            return
        if outcome is not None:
            await integration_accounts.save_state(
                session,
                lease.integration,
                lease.person,
                outcome.account,
                cleanup_at=outcome.cleanup_at,
            )
            if outcome.cleanup_at is not None:
                await enqueue(
                    session,
                    CleanupJob.for_account(lease.integration, lease.person, at=outcome.cleanup_at),
                )
        await passwords.erase(
            session, lease.integration, lease.person, request.id, last=not remaining
        )
        kept = {"kept_for_other_grants": [g.grant_id for g in remaining]}
        if request.status is Status.FAILED:
            request.ended_at = now
            await audit.record(
                session,
                at=now,
                actor=SYSTEM,
                action="grant.access_removed",
                request_id=request.id,
                detail={"why": "granting failed", **kept},
            )
        else:
            await transitions.transition(
                session,
                request,
                end.target,
                at=now,
                actor=end.actor or SYSTEM,
                platform=end.platform,
                changes={"ended_at": now, "end_reason": end.reason or None},
                detail=kept,
            )
            await enqueue(
                session,
                RequesterNotice.about(request.id, Notice.ENDED, key=end.target, at=now),
                MessagesUpdate.for_request(request.id, version=end.target, at=now),
            )
    ctx.doorbell.ring()


async def end_keeps_failing(ctx: Context, job: Job, error: str) -> None:
    """A revocation has failed many times, or waited too long: the owners must know (the job
    keeps trying)."""
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
                key=f"revoke-failing:{job.id}:{now.isoformat()}",
                at=now,
            ),
        )
    ctx.doorbell.ring()
