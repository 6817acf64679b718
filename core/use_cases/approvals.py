"""The decide use case: approve or deny, by one of the approvers routing chose.

The request row is locked for the transaction and moved with a compare-and-set, so two approvers
deciding at once produce exactly one decision; the other learns who decided.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import select

from core.context import Context
from core.domain.directory import normalize_email
from core.domain.errors import (
    AlreadyDecided,
    ApprovalReasonRequired,
    DenyReasonRequired,
    InvalidRequest,
    NotAnApprover,
    SelfApproval,
    StaleStatus,
)
from core.domain.lifecycle import Outcome, Status
from core.domain.views import RequestView
from core.jobs import notices, queue
from core.storage import audit, transitions
from core.storage.models import AccessRequest, Decision, RequestApprover
from core.storage.request_views import load_view
from core.use_cases.requests import MAX_JUSTIFICATION, locked_request

APPROVE, DENY = Outcome.APPROVE, Outcome.DENY


@dataclass(frozen=True)
class DecisionResult:
    request: RequestView
    final: bool  # the request left pending with this decision


def _reason(text: str | None) -> str | None:
    text = (text or "").strip()
    if len(text) > MAX_JUSTIFICATION:
        raise InvalidRequest(
            f"The reason is too long (at most {MAX_JUSTIFICATION} characters).", field="reason"
        )
    return text or None


async def _check_approver(session: AsyncSession, request: AccessRequest, approver: str) -> None:
    if approver == request.requester:
        raise SelfApproval(request.id)
    chosen = await session.get(RequestApprover, (request.id, approver))
    if chosen is None:
        raise NotAnApprover(request.id)


async def _decided_by_name(ctx: Context, request: AccessRequest) -> str | None:
    if request.decided_by is None:
        return None
    person = ctx.directory.person(request.decided_by)
    return person.label if person else request.decided_by


def _require_reason(ctx: Context, request: AccessRequest, outcome: str, reason: str | None) -> None:
    if outcome == DENY:
        if reason is None:
            raise DenyReasonRequired()
        return
    try:
        flow = ctx.config.flow(request.flow)
    except KeyError:
        raise InvalidRequest(
            f"The access flow {request.flow} no longer exists; the request can only be denied."
        ) from None
    if flow.require_approval_reason and reason is None:
        raise ApprovalReasonRequired()


async def decide(
    ctx: Context, *, approver: str, request_id: str, outcome: str, reason: str | None, platform: str
) -> DecisionResult:
    if outcome not in (APPROVE, DENY):
        raise InvalidRequest(f"{outcome!r} is not a decision (approve or deny).")
    approver = normalize_email(approver)
    ctx.person(approver)
    reason = _reason(reason)
    async with ctx.store.transaction() as session:
        request = await locked_request(session, request_id)
        await _check_approver(session, request, approver)
        if request.status != Status.PENDING.value:
            raise AlreadyDecided(
                request_id, status=request.status, by=await _decided_by_name(ctx, request)
            )
        earlier = (
            await session.execute(
                select(Decision).where(
                    Decision.request_id == request_id, Decision.approver == approver
                )
            )
        ).scalar_one_or_none()
        if earlier is not None:
            raise AlreadyDecided(request_id, status=f"{earlier.outcome}d by you", by=None)
        _require_reason(ctx, request, outcome, reason)
        final = await _record(ctx, session, request, approver, outcome, reason, platform)
        view = await load_view(session, ctx.directory, request_id)
    ctx.wake_worker()
    return DecisionResult(view, final)


async def _record(
    ctx: Context,
    session: AsyncSession,
    request: AccessRequest,
    approver: str,
    outcome: str,
    reason: str | None,
    platform: str,
) -> bool:
    now = ctx.clock.now()
    session.add(
        Decision(
            request_id=request.id,
            approver=approver,
            outcome=outcome,
            reason=reason,
            platform=platform,
            decided_at=now,
        )
    )
    await session.flush()
    approvals = len(
        (
            await session.execute(
                select(Decision.id).where(
                    Decision.request_id == request.id, Decision.outcome == APPROVE
                )
            )
        ).all()
    )
    final = outcome == DENY or approvals >= request.approvals_required
    if not final:
        await audit.record(
            session,
            at=now,
            actor=approver,
            action="request.approval_recorded",
            request_id=request.id,
            platform=platform,
            detail={"approvals": approvals, "required": request.approvals_required},
        )
    else:
        target = Status.DENIED if outcome == DENY else Status.APPROVED
        try:
            await transitions.transition(
                session,
                request,
                target,
                at=now,
                actor=approver,
                platform=platform,
                changes={
                    "decided_at": now,
                    "decided_by": approver,
                    "decided_on": platform,
                    "decision_reason": reason,
                },
            )
        except StaleStatus as stale:
            raise AlreadyDecided(request.id, status=stale.current or "gone", by=None) from None
        if target is Status.APPROVED:
            await queue.enqueue(
                session,
                kind="grant",
                run_at=now,
                dedupe_key=f"grant:{request.id}",
                payload={"request_id": request.id},
            )
        await notices.queue_requester(session, request.id, "outcome", at=now, key=target.value)
    await notices.queue_update(
        session, request.id, at=now, version=f"{request.status}:{approvals}:{outcome}:{approver}"
    )
    return final
