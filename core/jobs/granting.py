"""Granting access: the ``grant`` job step, from approved to active.

Every step is idempotent. It reads where the request stands and does only what is left: a
``grant`` job re-run after a crash finds the access made and goes on to wait for it to be
ready; one that finds the window over does nothing (its expiry, due, removes the access).
One transaction before the integration is called (``core.jobs.grant_start``): the request
becomes granting, the person's account lease is taken, and for a first call the tentative
window is written (``core.jobs.windows``) and the account's state read. Under that lease the
integration is called with the union of the person's grants in flight, and what it gave is
recorded in its own transaction before waiting for Atlas to deploy it. An extension is applied
to the grant it extends instead (``core.jobs.extending``).
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from core.context import Context
from core.domain.lifecycle import Status
from core.domain.notices import Notice
from core.domain.ports import (
    AccessGrant,
    AccessMissing,
    AccountState,
    GrantResult,
    IntegrationError,
)
from core.jobs import extending, grant_start, passwords, windows
from core.jobs.grant_start import GrantStart
from core.jobs.kinds import (
    ExpireJob,
    GrantJob,
    InvitationJob,
    MessagesUpdate,
    OwnerCopies,
    OwnersNotice,
    RequesterNotice,
    WarnExpiryJob,
)
from core.jobs.queue import PermanentFailure, Reschedule, enqueue
from core.storage import audit, integration_accounts, transitions
from core.storage.integration_accounts import AccountBusy, AccountLease
from core.storage.models import AccessRequest, Grant, Job
from core.use_cases.requests import SYSTEM, locked_request

INVITED = "invited"
WAITING_DEPLOY = "waiting for the change to be deployed"
WAITING_INVITED = "waiting for the invited person to accept"
QUICK_POLL, FIRST_POLLS = timedelta(seconds=1), timedelta(seconds=10)
# An invited person accepts in minutes or hours: ask Atlas once a minute (its budget for
# organization users is 250 calls a minute).
INVITATION_POLL = timedelta(minutes=1)


async def read_request(ctx: Context, request_id: str) -> AccessRequest:
    async with ctx.store.reading() as session:
        request = await session.get(AccessRequest, request_id)
    if request is None:
        raise PermanentFailure(f"request {request_id} does not exist")
    return request


async def grant_step(ctx: Context, job: Job) -> Reschedule | None:
    return await _grant(ctx, job, GrantJob.of(job).request_id, hand_over=True)


async def invitation_step(ctx: Context, job: Job) -> Reschedule | None:
    """The grant step for an invited person: it waits for them to accept as long as the window
    runs (the grant job's deadline is for Atlas's deploys, not for people)."""
    return await _grant(ctx, job, InvitationJob.of(job).request_id, hand_over=False)


async def _grant(ctx: Context, job: Job, request_id: str, *, hand_over: bool) -> Reschedule | None:
    async with ctx.store.transaction() as session:
        start = await grant_start.begin(
            ctx, session, request_id, f"job:{job.id}", worker=job.locked_by
        )
    request, lease = start.request, start.lease
    if request is None:
        return None  # already active, failed or ended: nothing left to do
    if lease is None:
        busy = f"{request.integration}/{request.requester} is busy"
        return Reschedule(ctx.clock.now() + windows.BUSY_RETRY, busy)
    try:
        async with integration_accounts.held(ctx, lease):
            outcome = await _grant_under_lease(ctx, start, lease)
    except AccountBusy as busy:
        return Reschedule(ctx.clock.now() + windows.BUSY_RETRY, str(busy))
    if hand_over and outcome is not None and outcome.note == WAITING_INVITED:
        async with ctx.store.transaction() as session:
            await enqueue(session, InvitationJob.for_request(request.id, at=outcome.at))
        ctx.doorbell.ring()
        return None
    return outcome


async def _grant_under_lease(
    ctx: Context, start: GrantStart, lease: AccountLease
) -> Reschedule | None:
    request = start.request
    assert request is not None
    if grant_start.is_extension(request) and await extending.extend(ctx, request, lease):
        return None
    if windows.over(request, ctx.clock.now()):
        return None  # the window ran out first: its expiry is due and removes the access
    if start.grant is not None:
        return await _await_ready(ctx, request, lease)
    if not start.loaded:  # an extension that became a grant of its own
        start.state, start.others = await _account(ctx, request, lease)
    return await _make_access(ctx, start, lease)


async def _make_access(ctx: Context, start: GrantStart, lease: AccountLease) -> Reschedule | None:
    """Call the integration with the union, and record what it gave at once."""
    request = start.request
    assert request is not None
    if not windows.started(request):  # an extension that became a grant of its own
        await windows.open_tentative(ctx, request, lease)
        start.opened = True
    try:
        result = await _call(ctx, request, start.state, start.others)
    except IntegrationError:
        if start.opened:
            await windows.withdraw_tentative(ctx, request, lease)
        raise
    await _record_access(ctx, request, result, lease, restart=start.opened)
    if result.ready:
        await _activate(ctx, request.id)
        return None
    if result.invited:
        await _tell_invited(ctx, request.id)
    return _poll_again(ctx, request, invited=result.invited)


async def _account(
    ctx: Context, request: AccessRequest, lease: AccountLease
) -> tuple[AccountState | None, list[AccessGrant]]:
    """The account's state and the person's other grants in flight: the union's inputs."""
    async with ctx.store.reading() as session:
        state = await integration_accounts.load_state(session, lease.integration, lease.person)
        others = await integration_accounts.live_grants(
            session, lease.integration, lease.person, now=ctx.clock.now(), exclude=request.id
        )
    return state, others


async def _call(
    ctx: Context,
    request: AccessRequest,
    state: AccountState | None,
    others: list[AccessGrant],
) -> GrantResult:
    this = integration_accounts.access_grant(request)
    return await ctx.integration(request.integration).grant(
        this, active=[*others, this], account=state
    )


async def _call_grant(ctx: Context, request: AccessRequest, lease: AccountLease) -> GrantResult:
    state, others = await _account(ctx, request, lease)
    return await _call(ctx, request, state, others)


async def _await_ready(
    ctx: Context, request: AccessRequest, lease: AccountLease
) -> Reschedule | None:
    """Poll the integration until the access is usable; if it is gone meanwhile (deleted,
    expired there), make it again within the same window."""
    async with ctx.store.reading() as session:
        state = await integration_accounts.load_state(session, lease.integration, lease.person)
        grant = await session.get(Grant, request.id)
    invited = grant is not None and bool(grant.connection.get("invited"))
    ready, missing = False, state is None
    if state is not None:
        this = integration_accounts.access_grant(request)
        try:
            ready = await ctx.integration(request.integration).ready(this, account=state)
        except AccessMissing:
            missing = True
    if missing:
        result = await _call_grant(ctx, request, lease)
        await _record_access(ctx, request, result, lease, restart=False)
        ready, invited = result.ready, result.invited
    if not ready:
        return _poll_again(ctx, request, invited=invited)
    await _activate(ctx, request.id)
    return None


def _poll_again(ctx: Context, request: AccessRequest, *, invited: bool = False) -> Reschedule:
    """Atlas often deploys a user change in seconds: poll every second at first, then every
    ``windows.READY_POLL``; an invitation is asked about every ``INVITATION_POLL``."""
    now = ctx.clock.now()
    if invited:
        return Reschedule(now + INVITATION_POLL, WAITING_INVITED)
    early = request.starts_at is not None and now - request.starts_at < FIRST_POLLS
    return Reschedule(now + (QUICK_POLL if early else windows.READY_POLL), WAITING_DEPLOY)


async def _record_access(
    ctx: Context, request: AccessRequest, result: GrantResult, lease: AccountLease, *, restart: bool
) -> None:
    """What the call gave, in one transaction: the window (from now when this run opened it),
    its expiry, the account, the grant and its password copy."""
    assert ctx.vault is not None
    now = ctx.clock.now()
    starts_at, ends_at = windows.confirmed_window(request, now=now, restart=restart)
    async with ctx.store.transaction() as session:
        await integration_accounts.confirm(session, lease, now=now)
        row = await locked_request(session, request.id)
        row.starts_at, row.ends_at = starts_at, ends_at
        request.starts_at, request.ends_at = starts_at, ends_at
        grant = await _grant_row(session, request, result)
        await integration_accounts.save_state(
            session, request.integration, request.requester, result.account
        )
        await passwords.hand_over(session, ctx.vault, grant, result.password)
        await enqueue(session, ExpireJob.at_end(request.id, ends_at=ends_at))
        await audit.record(
            session,
            at=now,
            actor=SYSTEM,
            action="grant.applied",
            request_id=request.id,
            detail={
                "username": result.connection.username,
                "new_credential": result.password is not None,
                "starts_at": starts_at.isoformat(),
                "ends_at": ends_at.isoformat(),
            },
        )


async def _grant_row(session: AsyncSession, request: AccessRequest, result: GrantResult) -> Grant:
    grant = await session.get(Grant, request.id)
    if grant is None:
        grant = Grant(
            request_id=request.id, integration=request.integration, person=request.requester
        )
        session.add(grant)
    grant.username = result.connection.username
    grant.connection = {
        "connection_string": result.connection.connection_string,
        "custom_access_details": result.connection.custom_access_details,
        "notes": list(result.connection.notes),
        "invited": result.invited,
    }
    return grant


async def _tell_invited(ctx: Context, request_id: str) -> None:
    """Invited, not yet accepted: the requester learns the access is theirs once they accept,
    until its end; every copy of the request shows it invited."""
    now = ctx.clock.now()
    async with ctx.store.transaction() as session:
        await enqueue(
            session,
            RequesterNotice.about(request_id, Notice.READY, key=INVITED, at=now),
            MessagesUpdate.for_request(request_id, version=INVITED, at=now),
        )
    ctx.doorbell.ring()


async def _activate(ctx: Context, request_id: str) -> None:
    """Atlas deployed it: the requester is told how to connect, until the window's end."""
    now = ctx.clock.now()
    async with ctx.store.transaction() as session:
        request = await locked_request(session, request_id)
        if request.status != Status.GRANTING or windows.over(request, now):
            return  # ended meanwhile, or its expiry is due and ends it
        ends_at = request.ends_at
        assert ends_at is not None
        grant = await session.get(Grant, request.id)
        assert grant is not None
        grant.ready, grant.granted_at = True, now
        await transitions.transition(
            session,
            request,
            Status.ACTIVE,
            at=now,
            actor=SYSTEM,
            detail={"ends_at": ends_at.isoformat()},
        )
        await enqueue(
            session,
            WarnExpiryJob.before_end(
                request.id, ends_at=ends_at, at=max(now, ends_at - windows.warning_time(request))
            ),
            RequesterNotice.about(request.id, Notice.READY, key="granted", at=now),
            MessagesUpdate.for_request(request.id, version=Status.ACTIVE, at=now),
            OwnerCopies.for_grant(request.id, at=now),
        )
    ctx.doorbell.ring()


async def grant_gave_up(ctx: Context, job: Job, error: str) -> None:
    """The grant cannot be made: the request fails, the requester and the owners are told, and
    whatever access a call may have given is removed now (the window closes here)."""
    now = ctx.clock.now()
    async with ctx.store.transaction() as session:
        request = await locked_request(session, GrantJob.of(job).request_id)
        if request.status == Status.APPROVED:
            await transitions.transition(session, request, Status.GRANTING, at=now, actor=SYSTEM)
        if request.status != Status.GRANTING:
            return
        given = windows.started(request)
        await transitions.transition(
            session,
            request,
            Status.FAILED,
            at=now,
            actor=SYSTEM,
            changes={"failure": error[:2000], **({"ends_at": now} if given else {})},
            detail={"error": error[:500], "attempts": job.attempts},
        )
        if given:
            await enqueue(session, ExpireJob.at_end(request.id, ends_at=now))
        await enqueue(
            session,
            RequesterNotice.about(request.id, Notice.OUTCOME, key=Status.FAILED, at=now),
            OwnersNotice.about(
                request.id, f"Granting failed: {error[:500]}", key="grant-failed", at=now
            ),
            MessagesUpdate.for_request(request.id, version=Status.FAILED, at=now),
        )
    ctx.doorbell.ring()
