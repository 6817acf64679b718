"""Escalation to the integration owners: one rule for every request that needs an approval.

When: a pending request escalates at its flow's last reminder, or, when the flow has no
reminders, at half its pending timeout (``queued_at_submit``, a durable job either way) — for
every flow that needs an approval, whoever its approvers are (resource owners, named people, a
manager). It also escalates when none of its approvers can be reached on any platform.

What: the integration's owners (never the requester, never someone already asked) become
approvers of the request — they may decide, and its read door lets them see it — the audit log
says why, and they are asked, their message saying why ("escalated: nobody decided in
2 hours"). An owner who already is an approver is not asked twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import select

from core.config.schema import AccessFlow
from core.context import Context
from core.domain.durations import describe_duration
from core.domain.lifecycle import SYSTEM, Status
from core.domain.routing import integration_owners
from core.jobs.kinds import (
    ESCALATION_ROUND,
    ApproversNotice,
    EscalateJob,
    MessagesUpdate,
    RemindJob,
)
from core.jobs.queue import JobSpec, enqueue
from core.storage import audit
from core.storage.models import AccessRequest, Job, RequestApprover


@dataclass(frozen=True)
class Because:
    why: str  # in the audit log
    reason_suffix: str  # after "integration owner of …" on the owner's approval message


def not_decided(after: timedelta) -> Because:
    """Nobody decided within ``after`` of the request (its last reminder, or half its timeout)."""
    why = f"nobody decided in {describe_duration(after)}"
    return Because(why, f" (escalated: {why})")


UNREACHABLE = Because(
    "no approver is reachable on any platform", " (the approvers cannot be reached)"
)


def queued_at_submit(request_id: str, flow: AccessFlow, *, submitted_at: datetime) -> list[JobSpec]:
    """The reminders of a request needing approval, the last one escalating; without
    reminders, one escalation at half the pending timeout."""
    if flow.reminders:
        return RemindJob.rounds(
            request_id, flow.reminders, escalate_last=True, submitted_at=submitted_at
        )
    return [EscalateJob.for_request(request_id, at=submitted_at + flow.pending_timeout / 2)]


async def escalate_step(ctx: Context, job: Job) -> None:
    """The escalation of a flow without reminders: only the owners are asked."""
    step = EscalateJob.of(job)
    async with ctx.store.transaction() as session:
        request = await session.get(AccessRequest, step.request_id)
        if request is None or request.status != Status.PENDING:
            return
        await escalate(
            ctx,
            session,
            request.id,
            because=not_decided(job.run_at - request.created_at),
            round_=ESCALATION_ROUND,
        )
    ctx.doorbell.ring()


async def escalate(
    ctx: Context, session: AsyncSession, request_id: str, *, because: Because, round_: str
) -> list[str]:
    """Make the integration owners approvers of a pending request, in the caller's transaction,
    and queue their ask (approvers' round ``round_``). The owners added, by email."""
    request = await session.get(AccessRequest, request_id)
    if request is None or request.status != Status.PENDING:
        return []
    asked = set(
        (
            await session.execute(
                select(RequestApprover.email).where(RequestApprover.request_id == request_id)
            )
        ).scalars()
    )
    owners = [
        owner
        for owner in integration_owners(
            ctx.integration_config(request.integration),
            ctx.directory,
            reason_suffix=because.reason_suffix,
        )
        if owner.email != request.requester and owner.email not in asked
    ]
    for owner in owners:
        session.add(
            RequestApprover(
                request_id=request_id, email=owner.email, reason=owner.reason, escalation=True
            )
        )
    now = ctx.clock.now()
    added = [owner.email for owner in owners]
    await audit.record(
        session,
        at=now,
        actor=SYSTEM,
        action="request.escalated",
        request_id=request_id,
        detail={"why": because.why, "to": added, "round": round_},
    )
    if added:
        await enqueue(
            session,
            ApproversNotice.again(request_id, round_, at=now),
            MessagesUpdate.for_request(request_id, version=f"escalated:{round_}", at=now),
        )
    return added
