"""The decide use case: approve or deny, by one of the approvers routing chose.

The request row is locked for the transaction and moved with a compare-and-set, so two approvers
deciding at once produce exactly one decision; the other learns who decided.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from core import metrics
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
from core.domain.notices import Notice
from core.domain.views import RequestView
from core.jobs.kinds import MessagesUpdate, RequesterNotice
from core.jobs.queue import enqueue
from core.storage import audit, transitions
from core.storage.models import AccessRequest, Decision, RequestApprover
from core.storage.request_views import load_view
from core.use_cases.requests import MAX_JUSTIFICATION, approve, locked_request

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


def _require_reason(
    ctx: Context, request: AccessRequest, outcome: Outcome, reason: str | None
) -> None:
    if outcome is Outcome.DENY:
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


def _outcome(value: Outcome | str) -> Outcome:
    try:
        return Outcome(value)
    except ValueError:
        raise InvalidRequest(f"{value!r} is not a decision (approve or deny).") from None


async def decide(
    ctx: Context,
    *,
    approver: str,
    request_id: str,
    outcome: Outcome | str,
    reason: str | None,
    platform: str,
) -> DecisionResult:
    decision = _outcome(outcome)
    approver = normalize_email(approver)
    ctx.person(approver)
    reason = _reason(reason)
    async with ctx.store.transaction() as session:
        request = await locked_request(session, request_id)
        await _may_decide(ctx, session, request, approver, decision, reason)
        final = await _record(ctx, session, request, approver, decision, reason, platform)
        view = await load_view(session, ctx.directory, request_id)
    metrics.decision(decision, platform)
    ctx.doorbell.ring()
    return DecisionResult(view, final)


async def check_decision(
    ctx: Context, *, approver: str, request_id: str, outcome: Outcome | str, reason: str | None
) -> None:
    """Raise what :func:`decide` would refuse with, reading only (nothing waits on a writer):
    an edge checks a submitted reason this way before it answers, and decides after."""
    decision = _outcome(outcome)
    approver = normalize_email(approver)
    ctx.person(approver)
    reason = _reason(reason)
    async with ctx.store.reading() as session:
        request = await session.get(AccessRequest, request_id)
        if request is None:
            raise NotAnApprover(request_id)
        await _may_decide(ctx, session, request, approver, decision, reason)


async def _may_decide(
    ctx: Context,
    session: AsyncSession,
    request: AccessRequest,
    approver: str,
    decision: Outcome,
    reason: str | None,
) -> None:
    """The rules of a decision: a routed approver, still pending, once each, with a reason
    where the flow asks for one."""
    await _check_approver(session, request, approver)
    if request.status != Status.PENDING:
        raise AlreadyDecided(
            request.id, status=request.status, by=await _decided_by_name(ctx, request)
        )
    earlier = (
        await session.execute(
            select(Decision).where(
                col(Decision.request_id) == request.id, col(Decision.approver) == approver
            )
        )
    ).scalar_one_or_none()
    if earlier is not None:
        raise AlreadyDecided(request.id, status=f"{earlier.outcome}d by you", by=None)
    _require_reason(ctx, request, decision, reason)


async def _record(
    ctx: Context,
    session: AsyncSession,
    request: AccessRequest,
    approver: str,
    outcome: Outcome,
    reason: str | None,
    platform: str,
) -> bool:
    """Store the decision; when it is the last one needed (or a deny), conclude the request.
    True when the request left pending with it."""
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
    approvals = await _approvals(session, request.id)
    final = outcome is Outcome.DENY or approvals >= request.approvals_required
    if final:
        await _conclude(session, request, approver, outcome, reason, platform, now=now)
    else:
        await audit.record(
            session,
            at=now,
            actor=approver,
            action="request.approval_recorded",
            request_id=request.id,
            platform=platform,
            detail={"approvals": approvals, "required": request.approvals_required},
        )
    version = f"{request.status}:{approvals}:{outcome}:{approver}"
    await enqueue(session, MessagesUpdate.for_request(request.id, version=version, at=now))
    return final


async def _approvals(session: AsyncSession, request_id: str) -> int:
    rows = await session.execute(
        select(Decision.id).where(
            col(Decision.request_id) == request_id, col(Decision.outcome) == Outcome.APPROVE
        )
    )
    return len(rows.all())


async def _conclude(
    session: AsyncSession,
    request: AccessRequest,
    approver: str,
    outcome: Outcome,
    reason: str | None,
    platform: str,
    *,
    now: datetime,
) -> None:
    """The deciding decision: approved (and its grant queued) or denied; the requester told."""
    try:
        if outcome is Outcome.APPROVE:
            await approve(session, request, at=now, by=approver, platform=platform, reason=reason)
        else:
            await transitions.transition(
                session,
                request,
                Status.DENIED,
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
    await enqueue(
        session, RequesterNotice.about(request.id, Notice.OUTCOME, key=request.status, at=now)
    )
