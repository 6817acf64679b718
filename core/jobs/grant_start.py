"""The grant step's first transaction, everything before the integration is called.

The request becomes granting, the person's account lease is taken (the account row locked
before the request's, as every writer under the lease does), and for a first call the
tentative window is written with its expiry (``core.jobs.windows``) and what the call needs is
read: the account's state and the person's other grants in flight. Once it commits, the window
exists and the lease is held, so a crash during the call is covered as before; and one
transaction instead of several is what keeps an approval's Atlas call within milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from core.context import Context
from core.domain.lifecycle import Status
from core.domain.ports import AccessGrant, AccountState
from core.jobs import windows
from core.jobs.kinds import ExpireJob
from core.jobs.queue import PermanentFailure, enqueue
from core.storage import integration_accounts, transitions
from core.storage.integration_accounts import AccountLease
from core.storage.models import AccessRequest, Grant, IntegrationAccount
from core.use_cases.requests import SYSTEM


@dataclass
class GrantStart:
    """What the grant step's first transaction found and did. ``request`` None: nothing left
    to do; ``lease`` None: the account is busy (the request may have become granting)."""

    request: AccessRequest | None
    lease: AccountLease | None = None
    grant: Grant | None = None
    opened: bool = False  # the tentative window was written in that transaction
    loaded: bool = False  # the account's state and the other grants were read in it
    state: AccountState | None = None
    others: list[AccessGrant] = field(default_factory=list)


async def begin(
    ctx: Context, session: AsyncSession, request_id: str, holder: str, *, worker: str | None
) -> GrantStart:
    """One transaction before the integration is called: the request becomes granting, the
    person's account lease is taken (the account row locked before the request's, as every
    writer under the lease does), and for a first call the tentative window is written and
    what the call needs read. Committed before the call: the window exists, the lease is held."""
    now = ctx.clock.now()
    found = await session.get(AccessRequest, request_id)
    if found is None:
        raise PermanentFailure(f"request {request_id} does not exist")
    if found.status not in (Status.APPROVED, Status.GRANTING):
        return GrantStart(None)
    integration, person = found.integration, found.requester
    taken = await integration_accounts.try_acquire(
        session,
        integration,
        person,
        holder,
        now=now,
        length=ctx.config.jobs.lease,
        worker=worker,
        stale_after=ctx.config.jobs.heartbeat_timeout,
    )
    request = await _relocked(session, request_id)
    if request.status not in (Status.APPROVED, Status.GRANTING):
        if taken:
            await integration_accounts.release(session, integration, person, holder)
        return GrantStart(None)
    if ctx.vault is None:  # nothing of this transaction is kept
        raise PermanentFailure("no encryption key is configured, so no password can be handed over")
    if not taken:
        await _granting(session, request, now=now, window=False)
        return GrantStart(request)
    lease = AccountLease(integration, person, holder, ctx.config.jobs.lease)
    return await _first_steps(session, GrantStart(request, lease), now=now)


async def _first_steps(session: AsyncSession, start: GrantStart, *, now: datetime) -> GrantStart:
    """Under the lease just taken: granting, and for a first call the tentative window written
    (with the status change when the request was approved until now) and the union's inputs
    read. A request granting already may have its grant (a run before this one made it)."""
    request, lease = start.request, start.lease
    assert request is not None and lease is not None
    if request.status == Status.APPROVED:  # never granted yet: no grant, no window
        start.opened = not is_extension(request)
        await _granting(session, request, now=now, window=start.opened)
    else:
        start.grant = await session.get(Grant, request.id)
        if start.grant is not None or is_extension(request) or windows.over(request, now):
            return start
        if not windows.started(request):
            await windows.write_tentative(session, request, now=now)
            start.opened = True
    state = await session.get(IntegrationAccount, (lease.integration, lease.person))
    start.state = integration_accounts.to_state(state)
    start.others = await integration_accounts.live_grants(
        session, lease.integration, lease.person, now=now, exclude=request.id
    )
    start.loaded = True
    return start


async def _granting(
    session: AsyncSession, request: AccessRequest, *, now: datetime, window: bool
) -> None:
    """Approved → granting; with ``window``, the tentative window in the same UPDATE."""
    if request.status != Status.APPROVED:
        return
    if not window:
        await transitions.transition(session, request, Status.GRANTING, at=now, actor=SYSTEM)
        return
    ends_at = now + windows.duration(request)
    await transitions.transition(
        session,
        request,
        Status.GRANTING,
        at=now,
        actor=SYSTEM,
        changes={"starts_at": now, "ends_at": ends_at},
    )
    await enqueue(session, ExpireJob.at_end(request.id, ends_at=ends_at))


async def _relocked(session: AsyncSession, request_id: str) -> AccessRequest:
    """The request, row-locked and read again (the unlocked read may be out of date)."""
    query = (
        select(AccessRequest)
        .where(col(AccessRequest.id) == request_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return (await session.execute(query)).scalar_one()


def is_extension(request: AccessRequest) -> bool:
    return bool(request.extends_request_id) and not windows.started(request)
