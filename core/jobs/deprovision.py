"""A person the identity provider deprovisioned (deactivated or deleted) loses everything here
at once: each pending request of theirs is cancelled and each grant still giving access is
revoked (reason "deprovisioned"), through the same use cases a person would use; the owners of
each integration concerned are told, and every step is an audit event saying why."""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import col

from core.context import Context
from core.domain.errors import WrongStatus
from core.domain.lifecycle import Status
from core.jobs.kinds import DeprovisionJob, OwnersNotice
from core.jobs.queue import enqueue
from core.storage import audit
from core.storage.models import AccessRequest, Job
from core.use_cases import grants, requests

PLATFORM = "scim"
REASON = "deprovisioned"
LIVE = (Status.ACTIVE, Status.GRANTING, Status.APPROVED)


async def deprovision(ctx: Context, job: Job) -> None:
    step = DeprovisionJob.of(job)
    person = step.person
    async with ctx.store.reading() as session:
        rows = (
            await session.execute(
                sa.select(col(AccessRequest.id), col(AccessRequest.status)).where(
                    col(AccessRequest.requester) == person,
                    col(AccessRequest.status).in_([Status.PENDING, *LIVE]),
                )
            )
        ).all()
    name = ctx.directory.person(person)
    label = name.label if name is not None else person
    for request_id, status in rows:
        try:
            if status == Status.PENDING:
                await requests.cancel(ctx, actor=person, request_id=request_id, platform=PLATFORM)
                action = "request.cancelled_deprovisioned"
            else:
                await grants.revoke(
                    ctx,
                    actor=PLATFORM,
                    request_id=request_id,
                    reason=REASON,
                    platform=PLATFORM,
                    as_admin=True,
                )
                action = "grant.revoked_deprovisioned"
        except WrongStatus:
            continue  # it ended on its own meanwhile
        now = ctx.clock.now()
        async with ctx.store.transaction() as session:
            await audit.record(
                session,
                at=now,
                actor=PLATFORM,
                action=action,
                request_id=request_id,
                platform=PLATFORM,
                detail={"person": person, "why": f"{REASON}: {step.why} in the identity provider"},
            )
            await enqueue(
                session,
                OwnersNotice.about(
                    request_id,
                    f"{label} was {step.why} in the identity provider: "
                    + (
                        "their pending request was cancelled."
                        if status == Status.PENDING
                        else "their access is being revoked now."
                    ),
                    key=f"deprovisioned:{job.id}",
                    at=now,
                ),
            )
        ctx.doorbell.ring()
