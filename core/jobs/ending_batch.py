"""Ending many grants at once: the ``expire`` and ``revoke`` jobs of one claim, together.

The same steps as ``core.jobs.ending``, with the bookkeeping done for the whole batch:

1. one transaction reads the requests, takes the account lease of every person in the batch
   (one UPDATE … RETURNING) and reads the union inputs (the person's other grants in flight);
2. the integration is called for each grant, concurrently (the Atlas client bounds how many
   calls are in flight and how fast, see ``core.integrations.atlas.limits``);
3. one transaction confirms the leases, moves every request to its end status (a
   compare-and-set per status), saves the accounts and lets their leases go, erases the
   passwords, appends the audit events, queues the notices and marks the jobs done.

A job this path cannot take as it is (a second grant of the same person in the batch, a person
a failed grant's access, a busy account, a missing request) is
handed back, and the worker runs it through the one-job path.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from core import metrics
from core.context import Context
from core.domain.lifecycle import ACTION, Status, allowed
from core.domain.notices import Notice
from core.domain.ports import AccessGrant, AccountState, RevokeResult
from core.jobs import windows
from core.jobs.contract import DONE, BatchResult, enqueue
from core.jobs.ending import Ending, due
from core.jobs.kinds import CleanupJob, MessagesUpdate, RequesterNotice, ending_of
from core.storage import audit, integration_accounts, workers
from core.storage.models import AccessRequest, Grant, IntegrationAccount, Job
from core.storage.upsert import insert_many_or_ignore
from core.use_cases.requests import SYSTEM

Account = tuple[str, str]  # integration, person


@dataclass
class Item:
    """One end job of the batch and what it found."""

    job: Job
    end: Ending
    request: AccessRequest
    state: AccountState | None = None
    remaining: list[AccessGrant] = field(default_factory=list)
    outcome: RevokeResult | None = None
    error: BaseException | None = None

    @property
    def account(self) -> Account:
        return (self.request.integration, self.request.requester)


async def end_batch(ctx: Context, jobs: Sequence[Job], *, worker: str) -> BatchResult:
    """End the grants of ``jobs`` (claimed by ``worker``) together."""
    result = BatchResult()
    holder = f"batch:{secrets.token_hex(8)}"
    items, idle = await _take(ctx, jobs, holder, worker, result)
    if not items and not idle:
        return result
    renewing = asyncio.create_task(_renew_while_calling(ctx, items, holder, worker))
    try:
        await asyncio.gather(*(_call(ctx, item) for item in items))
    finally:
        renewing.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await renewing
    await _record(ctx, items, idle, holder, worker, result)
    ctx.doorbell.ring()
    return result


async def _take(
    ctx: Context, jobs: Sequence[Job], holder: str, worker: str, result: BatchResult
) -> tuple[list[Item], list[Job]]:
    """Step 1. The items whose account lease this batch holds, and the jobs with nothing to do
    (their request ended meanwhile)."""
    now = ctx.clock.now()
    ends = {job.id: ending_of(job) for job in jobs}
    wanted = {end.request_id for end in ends.values()}
    async with ctx.store.transaction() as session:
        found = await session.execute(
            select(AccessRequest).where(col(AccessRequest.id).in_(wanted))
        )
        requests = {row.id: row for row in found.scalars()}
        candidates, idle, seen = [], [], set()
        for job in jobs:
            request = requests.get(ends[job.id].request_id)
            if request is None or request.status is Status.FAILED:
                result.handed_back.append(job)
            elif due(request, ends[job.id], now) and not allowed(
                Status(request.status), ends[job.id].target
            ):
                result.handed_back.append(job)  # the one-job path says why
            elif not due(request, ends[job.id], now):
                idle.append(job)
            elif (request.integration, request.requester) in seen:
                result.handed_back.append(job)  # one change per account at a time
            else:
                seen.add((request.integration, request.requester))
                candidates.append(Item(job, ends[job.id], request))
        states = await _lease(ctx, session, seen, holder, worker, now=now)
        items = [item for item in candidates if item.account in states]
        result.handed_back.extend(item.job for item in candidates if item.account not in states)
        others = await _live_grants(session, items, now=now)
    for item in items:
        item.state = states[item.account]
        item.remaining = others.get(item.account, [])
    return items, idle


async def _lease(
    ctx: Context,
    session: AsyncSession,
    accounts: set[Account],
    holder: str,
    worker: str,
    *,
    now: datetime,
) -> dict[Account, AccountState | None]:
    """Take the lease of every free account (made first when missing; two statements);
    their remembered states."""
    if not accounts:
        return {}
    table = IntegrationAccount
    await insert_many_or_ignore(
        session,
        table,
        [
            {"integration": i, "person": p, "extra": {}, "created_by_gatepass": False}
            for i, p in sorted(accounts)
        ],
        key=["integration", "person"],
    )
    free = sa.or_(
        col(table.locked_by).is_(None),
        col(table.locked_until) < now,
        workers.dead(
            col(table.locked_by_worker), now=now, stale_after=ctx.config.jobs.heartbeat_timeout
        ),
    )
    taken = await session.execute(
        sa.update(table)
        .where(sa.tuple_(col(table.integration), col(table.person)).in_(list(accounts)), free)
        .values(locked_by=holder, locked_until=now + ctx.config.jobs.lease, locked_by_worker=worker)
        .returning(table)
        .execution_options(synchronize_session=False)
    )
    return {
        (row.integration, row.person): integration_accounts.to_state(row) for row in taken.scalars()
    }


async def _live_grants(
    session: AsyncSession, items: list[Item], *, now: datetime
) -> dict[Account, list[AccessGrant]]:
    """Each person's other grants whose window runs (the union the account must keep)."""
    if not items:
        return {}
    ending = [item.request.id for item in items]
    rows = await session.execute(
        select(AccessRequest)
        .where(
            sa.tuple_(col(AccessRequest.integration), col(AccessRequest.requester)).in_(
                [item.account for item in items]
            ),
            col(AccessRequest.status).in_([s.value for s in integration_accounts.IN_FLIGHT]),
            col(AccessRequest.starts_at).is_not(None),
            col(AccessRequest.ends_at) > now,
            col(AccessRequest.id).not_in(ending),
        )
        .order_by(col(AccessRequest.ends_at))
    )
    grouped: dict[Account, list[AccessGrant]] = {}
    for row in rows.scalars():
        grouped.setdefault((row.integration, row.requester), []).append(
            integration_accounts.access_grant(row)
        )
    return grouped


async def _call(ctx: Context, item: Item) -> None:
    """Step 2, one grant: remove what it gave (nothing was given when its window never
    started). An error is kept for the worker's retry rules."""
    if not windows.started(item.request):
        return
    try:
        item.outcome = await ctx.integration(item.request.integration).revoke(
            integration_accounts.access_grant(item.request),
            remaining=item.remaining,
            account=item.state,
        )
    except Exception as error:  # handed to the worker's retry rules
        item.error = error


async def _renew_while_calling(ctx: Context, items: list[Item], holder: str, worker: str) -> None:
    """Keep the batch's account leases and job leases while the calls run (every third)."""
    lease = ctx.config.jobs.lease
    ids = [item.job.id for item in items]
    while True:
        await asyncio.sleep(max(0.05, lease.total_seconds() / 3))
        with contextlib.suppress(*integration_accounts.DATABASE_ERRORS):
            async with ctx.store.transaction() as session:
                until = ctx.clock.now() + lease
                await session.execute(
                    sa.update(IntegrationAccount)
                    .where(col(IntegrationAccount.locked_by) == holder)
                    .values(locked_until=until)
                )
                await session.execute(
                    sa.update(Job)
                    .where(col(Job.id).in_(ids), col(Job.locked_by) == worker)
                    .values(locked_until=until)
                )


async def _record(
    ctx: Context,
    items: list[Item],
    idle: list[Job],
    holder: str,
    worker: str,
    result: BatchResult,
) -> None:
    """Step 3: everything the batch did, in one transaction."""
    now = ctx.clock.now()
    async with ctx.store.transaction() as session:
        kept = await _confirm(session, holder, now=now, lease=ctx.config.jobs.lease)
        called = [item for item in items if item.error is None and item.account in kept]
        ended = await _move(session, called, now=now)
        await _save_accounts(session, items, ended, kept)
        await _erase_passwords(session, ended)
        await audit.record_many(session, [_event(item, now) for item in ended])
        await _follow_ups(session, ended, now=now)
        finished = [item.job for item in called] + idle
        await _mark_done(session, finished, worker, now=now)
    result.done.extend(finished)
    for item in items:
        if item.error is not None:
            result.failed.append((item.job, item.error))
        elif item.account not in kept:
            result.handed_back.append(item.job)  # the lease was lost: the one-job path retries


async def _confirm(
    session: AsyncSession, holder: str, *, now: datetime, lease: object
) -> set[Account]:
    """The accounts whose lease is still this batch's (renewed in this transaction)."""
    rows = await session.execute(
        sa.update(IntegrationAccount)
        .where(col(IntegrationAccount.locked_by) == holder)
        .values(locked_until=now + lease)  # type: ignore[operator]
        .returning(col(IntegrationAccount.integration), col(IntegrationAccount.person))
        .execution_options(synchronize_session=False)
    )
    return {(integration, person) for integration, person in rows.all()}


async def _move(session: AsyncSession, items: list[Item], *, now: datetime) -> list[Item]:
    """Each request to its end status, a compare-and-set per (from, to, reason) group; the
    items whose request moved."""
    groups: dict[tuple[Status, Status, str | None], list[Item]] = {}
    for item in items:
        key = (Status(item.request.status), item.end.target, item.end.reason or None)
        groups.setdefault(key, []).append(item)
    moved: list[Item] = []
    for (source, target, reason), members in groups.items():
        by_id = {item.request.id: item for item in members}
        rows = await session.execute(
            sa.update(AccessRequest)
            .where(col(AccessRequest.id).in_(list(by_id)), col(AccessRequest.status) == source)
            .values(status=target, ended_at=now, end_reason=reason)
            .returning(col(AccessRequest.id))
            .execution_options(synchronize_session=False)
        )
        for request_id in rows.scalars():
            moved.append(by_id[request_id])
            metrics.request_reached(session, target)
    return moved


async def _save_accounts(
    session: AsyncSession, items: list[Item], ended: list[Item], kept: set[Account]
) -> None:
    """Each account as the integration left it, its lease let go (one executemany); the
    account's password goes with its last grant."""
    done = {id(item) for item in ended}
    rows = []
    for item in items:
        if item.account not in kept:
            continue
        row: dict[str, object] = {
            "integration": item.account[0],
            "person": item.account[1],
            "locked_by": None,
            "locked_until": None,
            "locked_by_worker": None,
        }
        if id(item) in done and item.outcome is not None:
            state = item.outcome.account
            row.update(
                username=state.username if state else None,
                password_set_at=state.password_set_at if state else None,
                created_by_gatepass=state.created_by_gatepass if state else False,
                extra=dict(state.extra) if state else {},
                cleanup_at=item.outcome.cleanup_at,
            )
        if id(item) in done and not item.remaining:
            row["password_ciphertext"] = None
        rows.append(row)
    if rows:
        await session.execute(sa.update(IntegrationAccount), rows)


async def _erase_passwords(session: AsyncSession, ended: list[Item]) -> None:
    if ended:
        await session.execute(
            sa.update(Grant)
            .where(col(Grant.request_id).in_([item.request.id for item in ended]))
            .values(password_ciphertext=None)
            .execution_options(synchronize_session=False)
        )


def _event(item: Item, now: datetime) -> dict[str, object]:
    return audit.event_row(
        at=now,
        actor=item.end.actor or SYSTEM,
        action=ACTION[item.end.target],
        request_id=item.request.id,
        from_status=Status(item.request.status),
        to_status=item.end.target,
        platform=item.end.platform,
        detail={"kept_for_other_grants": [g.grant_id for g in item.remaining]},
    )


async def _follow_ups(session: AsyncSession, ended: list[Item], *, now: datetime) -> None:
    specs = []
    for item in ended:
        target = item.end.target
        specs.append(RequesterNotice.about(item.request.id, Notice.ENDED, key=target, at=now))
        specs.append(MessagesUpdate.for_request(item.request.id, version=target, at=now))
        cleanup_at = item.outcome.cleanup_at if item.outcome is not None else None
        if cleanup_at is not None:
            specs.append(CleanupJob.for_account(*item.account, at=cleanup_at))
    await enqueue(session, *specs)


async def _mark_done(session: AsyncSession, jobs: list[Job], worker: str, *, now: datetime) -> None:
    if jobs:
        await session.execute(
            sa.update(Job)
            .where(col(Job.id).in_([job.id for job in jobs]), col(Job.locked_by) == worker)
            .values(
                state=DONE,
                finished_at=now,
                locked_by=None,
                locked_until=None,
                last_error=None,
                waiting_since=None,
            )
            .execution_options(synchronize_session=False)
        )
