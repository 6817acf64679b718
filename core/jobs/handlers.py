"""The job kinds: what each durable step does. Every handler is idempotent."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import select

from core.context import Context
from core.domain.errors import StaleStatus
from core.domain.lifecycle import Status
from core.domain.routing import integration_owners
from core.jobs import granting, notices, queue
from core.jobs.queue import JobKind, Reschedule
from core.storage import audit, deliveries, integration_accounts, resources, transitions
from core.storage.integration_accounts import AccountBusy
from core.storage.models import AccessRequest, Grant, IntegrationAccount, Job, RequestApprover
from core.use_cases.requests import SYSTEM, locked_request

log = logging.getLogger("gatepass.jobs")
PERIODIC = ("sync", "reconcile", "refresh", "prune")
KEEP_FINISHED_JOBS = timedelta(days=14)


# ------------------------------------------------------------------ pending requests


async def remind(ctx: Context, job: Job) -> None:
    """Re-notify approvers who have not decided; the last round escalates to the integration
    owners when routing chose resource owners."""
    request_id = job.payload["request_id"]
    now = ctx.clock.now()
    async with ctx.store.transaction() as session:
        request = await session.get(AccessRequest, request_id)
        if request is None or request.status != Status.PENDING.value:
            return
        added: list[str] = []
        if job.payload.get("escalate"):
            integration = ctx.integration_config(request.integration)
            for owner in integration_owners(
                integration,
                ctx.directory,
                reason_suffix=" (escalated: the resource owners have not decided)",
            ):
                if owner.email == request.requester or await session.get(
                    RequestApprover, (request_id, owner.email)
                ):
                    continue
                session.add(
                    RequestApprover(
                        request_id=request_id,
                        email=owner.email,
                        reason=owner.reason,
                        escalation=True,
                    )
                )
                added.append(owner.email)
        await audit.record(
            session,
            at=now,
            actor=SYSTEM,
            action="request.escalated" if added else "request.reminded",
            request_id=request_id,
            detail={"round": job.payload.get("round"), "escalated_to": added},
        )
        await notices.queue_approvals(
            session, request_id, at=now, round_=str(job.payload.get("round", 1))
        )
        if added:
            await notices.queue_update(
                session, request_id, at=now, version=f"escalated:{job.payload.get('round')}"
            )
    ctx.wake_worker()


async def pending_timeout(ctx: Context, job: Job) -> None:
    now = ctx.clock.now()
    async with ctx.store.transaction() as session:
        request = await locked_request(session, job.payload["request_id"])
        if request.status != Status.PENDING.value:
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
        await notices.queue_requester(session, request.id, "outcome", at=now, key="timed_out")
        await notices.queue_update(session, request.id, at=now, version="timed_out")
    ctx.wake_worker()


async def warn_expiry(ctx: Context, job: Job) -> None:
    async with ctx.store.transaction() as session:
        request = await session.get(AccessRequest, job.payload["request_id"])
        if request is None or request.status != Status.ACTIVE.value:
            return
        await notices.queue_requester(
            session, request.id, "expiry_warning", at=ctx.clock.now(), key="1"
        )
    ctx.wake_worker()


# ------------------------------------------------------------------ periodic, per integration


def _slot(now: datetime, every: timedelta) -> int:
    return int(now.timestamp() // every.total_seconds())


def _interval(ctx: Context, kind: str) -> timedelta:
    config = ctx.config.jobs
    return {
        "sync": config.discovery_interval,
        "reconcile": config.reconcile_interval,
        "refresh": timedelta(hours=6),
        "prune": timedelta(days=1),
    }[kind]


async def schedule_periodic(ctx: Context) -> None:
    """Queue the next run of every periodic job (idempotent: one row per time slot)."""
    now = ctx.clock.now()
    async with ctx.store.transaction() as session:
        for kind in PERIODIC:
            every = _interval(ctx, kind)
            targets = [None] if kind == "prune" else list(ctx.integrations)
            for integration in targets:
                slot = _slot(now, every)
                await queue.enqueue(
                    session,
                    kind=kind,
                    run_at=now if kind != "prune" else now + every,
                    dedupe_key=f"{kind}:{integration or '*'}:{slot}",
                    payload={"integration": integration, "slot": slot},
                )


async def _queue_next(ctx: Context, job: Job) -> None:
    every = _interval(ctx, job.kind)
    slot = int(job.payload.get("slot", _slot(ctx.clock.now(), every))) + 1
    run_at = datetime.fromtimestamp(slot * every.total_seconds(), tz=ctx.clock.now().tzinfo)
    async with ctx.store.transaction() as session:
        await queue.enqueue(
            session,
            kind=job.kind,
            run_at=max(run_at, ctx.clock.now()),
            dedupe_key=f"{job.kind}:{job.payload.get('integration') or '*'}:{slot}",
            payload={**job.payload, "slot": slot},
        )


async def sync(ctx: Context, job: Job) -> None:
    name = job.payload["integration"]
    if name in ctx.integrations:
        found = await ctx.integrations[name].discover()
        async with ctx.store.transaction() as session:
            stored, removed = await resources.replace_discovered(
                session, name, found, at=ctx.clock.now()
            )
        log.info("sync %s: %d resources, %d gone", name, stored, removed)
    await _queue_next(ctx, job)


async def reconcile(ctx: Context, job: Job) -> None:
    """Remove access the integration holds for Gatepass that no active grant covers."""
    name = job.payload["integration"]
    if name in ctx.integrations:
        await reconcile_integration(ctx, name)
    await _queue_next(ctx, job)


async def reconcile_integration(ctx: Context, name: str) -> list[str]:
    integration = ctx.integrations[name]
    managed = await integration.list_managed()
    removed: list[str] = []
    for access in managed:
        if access.person is not None and await _still_covered(ctx, name, access.person):
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


async def _still_covered(ctx: Context, integration: str, person: str) -> bool:
    live = (Status.APPROVED.value, Status.GRANTING.value, Status.ACTIVE.value)
    async with ctx.store.reading() as session:
        request = (
            await session.execute(
                select(AccessRequest.id)
                .where(
                    AccessRequest.integration == integration,
                    AccessRequest.requester == person,
                    AccessRequest.status.in_(live),  # type: ignore[attr-defined]
                )
                .limit(1)
            )
        ).first()
        account = await session.get(IntegrationAccount, (integration, person))
    waiting_cleanup = account is not None and account.cleanup_at is not None
    return request is not None or waiting_cleanup


async def refresh(ctx: Context, job: Job) -> Reschedule | None:
    """Upkeep while grants run: push expiry dates forward, rotate passwords that are due."""
    name = job.payload["integration"]
    if name in ctx.integrations:
        async with ctx.store.reading() as session:
            people = (
                (
                    await session.execute(
                        sa.select(AccessRequest.requester)
                        .distinct()
                        .where(
                            AccessRequest.integration == name,
                            AccessRequest.status == Status.ACTIVE.value,
                        )
                    )
                )
                .scalars()
                .all()
            )
        for person in people:
            try:
                async with integration_accounts.leased(ctx, name, person, f"job:{job.id}"):
                    await _refresh_person(ctx, name, person)
            except AccountBusy:
                continue  # the job holding it is changing the account right now
    await _queue_next(ctx, job)
    return None


async def _refresh_person(ctx: Context, name: str, person: str) -> None:
    async with ctx.store.reading() as session:
        state = await integration_accounts.load_state(session, name, person)
        active = await integration_accounts.active_grants(session, name, person)
    if state is None or not active:
        return
    result = await ctx.integrations[name].refresh(person, active=active, account=state)
    if result is None:
        return
    latest = active[-1].grant_id
    async with ctx.store.transaction() as session:
        await integration_accounts.save_state(session, name, person, result.account)
        if result.password is not None and ctx.vault is not None:
            grant = await session.get(Grant, latest)
            if grant is not None:
                grant.password_ciphertext = ctx.vault.seal(result.password)
            stamp = ctx.clock.now().strftime("%Y%m%d%H%M")
            await audit.record(
                session,
                at=ctx.clock.now(),
                actor=SYSTEM,
                action="credential.rotated",
                request_id=latest,
                detail={"username": result.account.username},
            )
            await notices.queue_requester(
                session, latest, "ready", at=ctx.clock.now(), key=f"rotated-{stamp}"
            )
    ctx.wake_worker()


async def cleanup(ctx: Context, job: Job) -> Reschedule | None:
    """Delete an account that ``revoke`` left disabled, unless it is in use again."""
    name, person = job.payload["integration"], job.payload["person"]
    if name not in ctx.integrations:
        return None
    try:
        async with integration_accounts.leased(ctx, name, person, f"job:{job.id}"):
            async with ctx.store.reading() as session:
                state = await integration_accounts.load_state(session, name, person)
                row = await session.get(IntegrationAccount, (name, person))
            if state is None or row is None or row.cleanup_at is None:
                return None  # granted again since, or already cleaned
            await ctx.integrations[name].cleanup(person, account=state)
            async with ctx.store.transaction() as session:
                await integration_accounts.save_state(session, name, person, None)
                await audit.record(
                    session,
                    at=ctx.clock.now(),
                    actor=SYSTEM,
                    action="account.deleted",
                    detail={"integration": name, "person": person, "username": state.username},
                )
    except AccountBusy:
        return Reschedule(ctx.clock.now() + granting.BUSY_RETRY, "account busy")
    return None


async def prune(ctx: Context, job: Job) -> None:
    cutoff = ctx.clock.now() - KEEP_FINISHED_JOBS
    async with ctx.store.transaction() as session:
        await session.execute(
            sa.delete(Job).where(Job.state == queue.DONE, Job.finished_at < cutoff)
        )  # type: ignore[operator]
    await deliveries.forget_expired(ctx)
    await _queue_next(ctx, job)


async def _notify(ctx: Context, job: Job) -> None:
    await {
        "notify_approvers": notices.notify_approvers,
        "notify_requester": notices.notify_requester,
        "notify_owners": notices.notify_owners,
        "update_messages": notices.update_messages,
    }[job.kind](ctx, job)


KINDS: dict[str, JobKind] = {
    "grant": JobKind(granting.grant_step, give_up=granting.grant_gave_up),
    "expire": JobKind(granting.end_step, give_up=granting.end_keeps_failing, retry_forever=True),
    "revoke": JobKind(granting.end_step, give_up=granting.end_keeps_failing, retry_forever=True),
    "remind": JobKind(remind),
    "pending_timeout": JobKind(pending_timeout),
    "warn_expiry": JobKind(warn_expiry),
    "notify_approvers": JobKind(_notify),
    "notify_requester": JobKind(_notify),
    "notify_owners": JobKind(_notify),
    "update_messages": JobKind(_notify),
    "sync": JobKind(sync, retry_forever=True),
    "reconcile": JobKind(reconcile, retry_forever=True),
    "refresh": JobKind(refresh, retry_forever=True),
    "cleanup": JobKind(cleanup, retry_forever=True),
    "prune": JobKind(prune, retry_forever=True),
}
