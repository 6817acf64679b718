"""Escalation to the integration owners: one rule for both reasons a request escalates.

A pending request escalates when the resource owners routing chose have not decided by its last
reminder, or when none of its approvers can be reached on any platform. Either way the
integration's owners (never the requester, never someone already asked) become approvers of the
request, the audit log says why, and they are asked.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import select

from core.context import Context
from core.domain.lifecycle import Status
from core.domain.routing import integration_owners
from core.jobs.kinds import ApproversNotice, MessagesUpdate
from core.jobs.queue import enqueue
from core.storage import audit
from core.storage.models import AccessRequest, RequestApprover
from core.use_cases.requests import SYSTEM


@dataclass(frozen=True)
class Because:
    why: str  # in the audit log
    reason_suffix: str  # after "integration owner of …" on the owner's approval message


NOT_DECIDED = Because(
    "the resource owners have not decided", " (escalated: the resource owners have not decided)"
)
UNREACHABLE = Because(
    "no approver is reachable on any platform", " (the approvers cannot be reached)"
)


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
