"""The job kinds: what each durable step does (every handler is idempotent). ``job_kinds`` is
the worker's table: the steps below, those of ``core.jobs.granting``, and the notice handlers
of ``core.jobs.notices``, which alone send through the notifiers."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import col

from core.context import Context
from core.domain.errors import StaleStatus
from core.domain.lifecycle import Status
from core.domain.notices import Notice
from core.domain.ports import Notifier
from core.jobs import (
    deprovision,
    ending,
    ending_batch,
    escalation,
    granting,
    holding,
    notices_batch,
    passwords,
    windows,
)
from core.jobs.kinds import (
    PERIODIC,
    ApproversNotice,
    CleanupJob,
    Kind,
    MessagesUpdate,
    PendingTimeoutJob,
    PeriodicJob,
    RemindJob,
    RequesterNotice,
    WarnExpiryJob,
)
from core.jobs.notices import Notices
from core.jobs.queue import DONE, JobKind, Reschedule, enqueue
from core.jobs.reconciling import reconcile_integration
from core.jobs.reviews import BreakGlassNotices
from core.storage import audit, deliveries, integration_accounts, transitions, webhook_deliveries
from core.storage.integration_accounts import AccountBusy
from core.storage.models import AccessRequest, IntegrationAccount, Job
from core.use_cases import admin
from core.use_cases.requests import SYSTEM, locked_request
from core.webhooks import delivery as webhook_delivery

log = logging.getLogger("gatepass.jobs")
KEEP_FINISHED_JOBS = timedelta(days=14)
WARN_SLACK = timedelta(seconds=1)


# ------------------------------------------------------------------ pending requests


async def remind(ctx: Context, job: Job) -> None:
    """Ask the approvers who have not decided again; the last round escalates to the
    integration owners (``core.jobs.escalation``)."""
    step = RemindJob.of(job)
    now = ctx.clock.now()
    async with ctx.store.transaction() as session:
        request = await session.get(AccessRequest, step.request_id)
        if request is None or request.status != Status.PENDING:
            return
        round_ = str(step.round)
        if step.escalate:
            await escalation.escalate(
                ctx,
                session,
                request.id,
                because=escalation.not_decided(job.run_at - request.created_at),
                round_=round_,
            )
        else:
            await audit.record(
                session,
                at=now,
                actor=SYSTEM,
                action="request.reminded",
                request_id=request.id,
                detail={"round": step.round},
            )
        await enqueue(session, ApproversNotice.again(request.id, round_, at=now))
    ctx.doorbell.ring()


async def pending_timeout(ctx: Context, job: Job) -> None:
    step = PendingTimeoutJob.of(job)
    now = ctx.clock.now()
    async with ctx.store.transaction() as session:
        request = await locked_request(session, step.request_id)
        if request.status != Status.PENDING:
            return
        try:
            await transitions.transition(
                session,
                request,
                Status.TIMED_OUT,
                at=now,
                actor=SYSTEM,
                changes={"decided_at": now, "decision_reason": "nobody decided in time"},
            )
        except StaleStatus:
            return
        await enqueue(
            session,
            RequesterNotice.about(request.id, Notice.OUTCOME, key=Status.TIMED_OUT, at=now),
            MessagesUpdate.for_request(request.id, version=Status.TIMED_OUT, at=now),
        )
    ctx.doorbell.ring()


async def warn_expiry(ctx: Context, job: Job) -> None:
    """Warn the requester before the end; a warning for an end an extension has since moved
    later does nothing (the one for the new end follows)."""
    step = WarnExpiryJob.of(job)
    now = ctx.clock.now()
    async with ctx.store.transaction() as session:
        request = await session.get(AccessRequest, step.request_id)
        if request is None or request.status != Status.ACTIVE or request.ends_at is None:
            return
        if now + WARN_SLACK < request.ends_at - windows.warning_time(request):
            return
        key = request.ends_at.isoformat()
        await enqueue(
            session, RequesterNotice.about(request.id, Notice.EXPIRY_WARNING, key=key, at=now)
        )
    ctx.doorbell.ring()


# ------------------------------------------------------------------ periodic, per integration


def _slot(now: datetime, every: timedelta) -> int:
    return int(now.timestamp() // every.total_seconds())


def _interval(ctx: Context, task: Kind) -> timedelta:
    config = ctx.config.jobs
    return {
        Kind.SYNC: config.discovery_interval,
        Kind.RECONCILE: config.reconcile_interval,
        Kind.REFRESH: timedelta(hours=6),
        Kind.PRUNE: timedelta(days=1),
    }[task]


async def schedule_periodic(ctx: Context) -> None:
    """Queue the next run of every periodic job (idempotent: one row per time slot)."""
    now = ctx.clock.now()
    async with ctx.store.transaction() as session:
        for task in PERIODIC:
            every = _interval(ctx, task)
            targets = [None] if task is Kind.PRUNE else list(ctx.integrations)
            for integration in targets:
                await enqueue(
                    session,
                    PeriodicJob.for_slot(
                        task,
                        integration,
                        _slot(now, every),
                        at=now if task is not Kind.PRUNE else now + every,
                    ),
                )


async def _queue_next(ctx: Context, run: PeriodicJob) -> None:
    every = _interval(ctx, run.task)
    now = ctx.clock.now()
    run_at = datetime.fromtimestamp((run.slot + 1) * every.total_seconds(), tz=now.tzinfo)
    async with ctx.store.transaction() as session:
        await enqueue(session, run.next(at=max(run_at, now)))


async def sync(ctx: Context, job: Job) -> None:
    run = PeriodicJob.of(job)
    name = run.integration
    if name is not None and name in ctx.integrations:
        synced = await admin.sync_integration(ctx, name)
        log.info("sync %s: %d resources, %d gone", name, synced.stored, synced.removed)
    await _queue_next(ctx, run)


async def reconcile(ctx: Context, job: Job) -> None:
    """Remove access the integration holds for Gatepass that no active grant covers."""
    run = PeriodicJob.of(job)
    if run.integration is not None and run.integration in ctx.integrations:
        await reconcile_integration(ctx, run.integration)
    await _queue_next(ctx, run)


async def refresh(ctx: Context, job: Job) -> Reschedule | None:
    """Upkeep while grants run: push expiry dates forward, rotate passwords that are due."""
    run = PeriodicJob.of(job)
    name = run.integration
    if name is not None and name in ctx.integrations:
        async with ctx.store.reading() as session:
            people = (
                (
                    await session.execute(
                        sa.select(col(AccessRequest.requester))
                        .distinct()
                        .where(
                            col(AccessRequest.integration) == name,
                            col(AccessRequest.status) == Status.ACTIVE,
                        )
                    )
                )
                .scalars()
                .all()
            )
        for person in people:
            try:
                async with integration_accounts.leased(
                    ctx, name, person, f"job:{job.id}", worker=job.locked_by
                ) as lease:
                    await _refresh_person(ctx, lease)
            except AccountBusy:
                continue  # another job is changing the account (or took it over): next time
        await holding.hold_disabled(ctx, name, job)  # user_cleanup_days past Atlas's week
    await _queue_next(ctx, run)
    return None


async def _refresh_person(ctx: Context, lease: integration_accounts.AccountLease) -> None:
    name, person = lease.integration, lease.person
    async with ctx.store.reading() as session:
        state = await integration_accounts.load_state(session, name, person)
        active = await integration_accounts.live_grants(session, name, person, now=ctx.clock.now())
    if state is None or not active:
        return
    result = await ctx.integrations[name].refresh(person, active=active, account=state)
    if result is None:
        return
    latest = active[-1].grant_id
    now = ctx.clock.now()
    async with ctx.store.transaction() as session:
        await integration_accounts.confirm(session, lease, now=now)
        await integration_accounts.save_state(session, name, person, result.account)
        if result.password is not None and ctx.vault is not None:
            await passwords.replace_for_all(session, ctx.vault, name, person, result.password)
            await audit.record(
                session,
                at=now,
                actor=SYSTEM,
                action="credential.rotated",
                request_id=latest,
                detail={"username": result.account.username},
            )
            stamp = now.strftime("%Y%m%d%H%M")
            await enqueue(
                session,
                RequesterNotice.about(latest, Notice.READY, key=f"rotated-{stamp}", at=now),
            )
    ctx.doorbell.ring()


async def cleanup(ctx: Context, job: Job) -> Reschedule | None:
    """Delete an account that ``revoke`` left disabled, unless it is in use again."""
    step = CleanupJob.of(job)
    name, person = step.integration, step.person
    if name not in ctx.integrations:
        return None
    try:
        async with integration_accounts.leased(
            ctx, name, person, f"job:{job.id}", worker=job.locked_by
        ) as lease:
            async with ctx.store.reading() as session:
                state = await integration_accounts.load_state(session, name, person)
                row = await session.get(IntegrationAccount, (name, person))
            if state is None or row is None or row.cleanup_at is None:
                return None  # granted again since, or already cleaned
            await ctx.integrations[name].cleanup(person, account=state)
            async with ctx.store.transaction() as session:
                await integration_accounts.confirm(session, lease, now=ctx.clock.now())
                await integration_accounts.save_state(session, name, person, None)
                await audit.record(
                    session,
                    at=ctx.clock.now(),
                    actor=SYSTEM,
                    action="account.deleted",
                    detail={"integration": name, "person": person, "username": state.username},
                )
    except AccountBusy as busy:
        return Reschedule(ctx.clock.now() + windows.BUSY_RETRY, str(busy))
    return None


async def prune(ctx: Context, job: Job) -> None:
    run = PeriodicJob.of(job)
    cutoff = ctx.clock.now() - KEEP_FINISHED_JOBS
    async with ctx.store.transaction() as session:
        await session.execute(
            sa.delete(Job).where(col(Job.state) == DONE, col(Job.finished_at) < cutoff)
        )
        await webhook_deliveries.forget_delivered(session, before=cutoff)
    await deliveries.forget_expired(ctx)
    await _queue_next(ctx, run)


STEPS: dict[str, JobKind] = {
    Kind.GRANT: JobKind(granting.grant_step, give_up=granting.grant_gave_up, urgent=True),
    Kind.EXPIRE: JobKind(
        ending.end_step,
        give_up=ending.end_keeps_failing,
        retry_forever=True,
        urgent=True,
        batch=ending_batch.end_batch,
    ),
    Kind.REVOKE: JobKind(
        ending.end_step,
        give_up=ending.end_keeps_failing,
        retry_forever=True,
        urgent=True,
        batch=ending_batch.end_batch,
    ),
    Kind.REMIND: JobKind(remind),
    Kind.PENDING_TIMEOUT: JobKind(pending_timeout),
    Kind.WARN_EXPIRY: JobKind(warn_expiry),
    Kind.SYNC: JobKind(sync, retry_forever=True),
    Kind.RECONCILE: JobKind(reconcile, retry_forever=True),
    Kind.REFRESH: JobKind(refresh, retry_forever=True),
    Kind.CLEANUP: JobKind(cleanup, retry_forever=True),
    Kind.PRUNE: JobKind(prune, retry_forever=True),
    Kind.DEPROVISION: JobKind(deprovision.deprovision, retry_forever=True),
    Kind.WEBHOOK: JobKind(webhook_delivery.deliver, give_up=webhook_delivery.gave_up),
    Kind.AWAIT_INVITATION: JobKind(granting.invitation_step, retry_forever=True),
    Kind.ESCALATE: JobKind(escalation.escalate_step),
}


def job_kinds(notifiers: Sequence[Notifier]) -> dict[str, JobKind]:
    """Every job kind's handler; the notice jobs send through ``notifiers``."""
    notices = Notices(notifiers)
    return {
        **STEPS,
        **notices.kinds(),
        **notices_batch.batched(notices),
        **BreakGlassNotices(notifiers).kinds(),
    }
