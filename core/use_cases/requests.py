"""Use cases of a requester: submit, cancel, extend; and who would approve a draft.

Each use case checks who may act and whether the status allows it, changes state through the
lifecycle in one transaction with its audit event and the jobs it causes, then wakes the worker.
"""

from __future__ import annotations

import secrets
from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from core import metrics
from core.config.schema import AccessFlow
from core.context import Context
from core.domain import lifecycle
from core.domain.directory import Person, normalize_email
from core.domain.durations import describe_duration
from core.domain.errors import (
    InvalidRequest,
    JustificationRequired,
    NotAllowed,
    RequestNotFound,
    StaleStatus,
    WrongStatus,
)
from core.domain.lifecycle import Status
from core.domain.notices import Notice
from core.domain.request_form import Draft
from core.domain.routing import Routing, route
from core.domain.views import RequestView
from core.jobs import escalation
from core.jobs.kinds import (
    ApproversNotice,
    GrantJob,
    MessagesUpdate,
    PendingTimeoutJob,
    RequesterNotice,
)
from core.jobs.queue import enqueue
from core.storage import audit, resources, transitions
from core.storage.models import AccessRequest, RequestApprover, Resource
from core.storage.request_views import load_view
from core.use_cases import break_glass, eligibility

MAX_JUSTIFICATION = 2000
_ID_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
SYSTEM = lifecycle.SYSTEM


def new_request_id() -> str:
    return "R" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(9))


def _clean_justification(flow: AccessFlow, text: str) -> str:
    text = (text or "").strip()
    if len(text) > MAX_JUSTIFICATION:
        raise InvalidRequest(
            f"The justification is {len(text)} characters long; at most {MAX_JUSTIFICATION}.",
            field="justification",
        )
    if flow.require_justification and not text:
        raise JustificationRequired()
    return text


async def preview(
    ctx: Context,
    session: AsyncSession,
    requester: Person,
    draft: Draft,
    *,
    resource: Resource | None = None,
) -> tuple[AccessFlow, Routing]:
    """The flow a draft matches and who would approve it; the same checks as ``submit``.
    ``resource``: the draft's resource when the caller has resolved it already."""
    resource = resource or await eligibility.resolve_resource(ctx, session, draft)
    flow = eligibility.choose_flow(ctx, requester, draft)
    if flow.break_glass is not None:
        return flow, Routing(approvers=())  # its requester approves it (``break_glass``)
    chain = await resources.chain(session, resource)
    routing = route(
        requester=requester.email,
        flow=flow,
        integration=ctx.integration_config(draft.integration),
        chain=chain,
        directory=ctx.directory,
    )
    return flow, routing


async def check_submission(ctx: Context, *, requester: str, draft: Draft) -> AccessFlow:
    """Raise what :func:`submit` would refuse ``draft`` with, reading only (nothing waits on a
    writer): an edge checks a form this way before it answers, and submits after. The flow
    it falls under."""
    async with ctx.store.reading() as session:
        _, person, flow, _, justification = await _accepted(ctx, session, requester, draft)
        if flow.break_glass is not None:
            await break_glass.check_use(
                session, person.email, flow.break_glass, justification, now=ctx.clock.now()
            )
    return flow


async def _accepted(
    ctx: Context, session: AsyncSession, requester: str, draft: Draft
) -> tuple[Resource, Person, AccessFlow, Routing, str]:
    """What a submission needs, each checked: the resource, the requester, the flow and its
    routing, and the justification as the flow wants it."""
    resource = await eligibility.resolve_resource(ctx, session, draft)
    # Read once the transaction has begun: its start brings a live directory up to date.
    person = ctx.person(requester)
    flow, routing = await preview(ctx, session, person, draft, resource=resource)
    if draft.integration not in ctx.integrations:
        raise InvalidRequest(
            f"{draft.integration} is not available right now (it is not fully configured).",
            field="integration",
        )
    return resource, person, flow, routing, _clean_justification(flow, draft.justification)


async def submit(
    ctx: Context,
    *,
    requester: str,
    draft: Draft,
    platform: str,
    extends: str | None = None,
    request_id: str | None = None,
) -> RequestView:
    """Store a new pending request (``request_id``: one the edge already showed the person,
    from :func:`new_request_id`) with its approvers, audit event and follow-up jobs."""
    async with ctx.store.transaction() as session:
        resource, person, flow, routing, justification = await _accepted(
            ctx, session, requester, draft
        )
        now = ctx.clock.now()
        request = AccessRequest(
            id=request_id or new_request_id(),
            flow=flow.name,
            integration=draft.integration,
            resource_type=draft.resource_type,
            resource_name=draft.resource_name,
            resource_external_id=resource.external_id,
            permission=draft.permission,
            duration_seconds=int(draft.duration.total_seconds()),
            justification=justification,
            requester=person.email,
            platform=platform,
            status=Status.PENDING,
            approvals_required=flow.approvals_required,
            extends_request_id=extends,
            created_at=now,
            pending_until=now + flow.pending_timeout,
        )
        if flow.break_glass is not None:
            await break_glass.self_approve(ctx, session, request, flow)
        else:
            await _record_submitted(session, request, routing, extends=extends)
            await _queue_after_submit(session, request, flow, routing, now=now)
        view = await load_view(session, ctx.directory, request.id)
    ctx.doorbell.ring()
    return view


async def _record_submitted(
    session: AsyncSession, request: AccessRequest, routing: Routing, *, extends: str | None
) -> None:
    session.add(request)
    metrics.request_reached(session, Status.PENDING)
    for approver in routing.approvers:
        session.add(
            RequestApprover(request_id=request.id, email=approver.email, reason=approver.reason)
        )
    await session.flush()
    await audit.record(
        session,
        at=request.created_at,
        actor=request.requester,
        action="request.submitted",
        request_id=request.id,
        to_status=Status.PENDING,
        platform=request.platform,
        detail={
            "flow": request.flow,
            "integration": request.integration,
            "resource": f"{request.resource_type}:{request.resource_name}",
            "permission": request.permission,
            "duration_seconds": request.duration_seconds,
            "approvers": [a.email for a in routing.approvers],
            "extends": extends,
        },
    )


async def _queue_after_submit(
    session: AsyncSession,
    request: AccessRequest,
    flow: AccessFlow,
    routing: Routing,
    *,
    now: datetime,
) -> None:
    """Approved at once by an automatic flow; else the approvers' ask, the reminders and the
    pending timeout. The requester's receipt either way."""
    if routing.automatic:
        await approve(
            session,
            request,
            at=now,
            by=None,
            platform=request.platform,
            reason="approved automatically by its access flow",
        )
    else:
        await enqueue(
            session,
            ApproversNotice.first(request.id, at=now),
            *escalation.queued_at_submit(request.id, flow, submitted_at=now),
            PendingTimeoutJob.for_request(request.id, at=now + flow.pending_timeout),
        )
    await enqueue(session, RequesterNotice.about(request.id, Notice.RECEIPT, at=now))


async def approve(
    session: AsyncSession,
    request: AccessRequest,
    *,
    at: datetime,
    by: str | None,
    platform: str | None,
    reason: str | None,
) -> None:
    """The one way a pending request becomes approved, by an approver (``by``) or by its
    access flow (``by`` None): moved to approved, its grant queued in the same transaction.
    StaleStatus when someone else decided first."""
    await transitions.transition(
        session,
        request,
        Status.APPROVED,
        at=at,
        actor=by or SYSTEM,
        platform=platform,
        changes={
            "decided_at": at,
            "decided_by": by,
            "decided_on": platform if by else None,
            "decision_reason": reason,
        },
        detail=None if by else {"automatic": True, "flow": request.flow, "why": reason},
    )
    await enqueue(session, GrantJob.for_request(request.id, at=at))


async def locked_request(session: AsyncSession, request_id: str) -> AccessRequest:
    """The request, row-locked for this transaction (PostgreSQL; SQLite's lock is global)."""
    request = (
        await session.execute(
            select(AccessRequest).where(AccessRequest.id == request_id).with_for_update()
        )
    ).scalar_one_or_none()
    if request is None:
        raise RequestNotFound(request_id)
    return request


async def cancel(ctx: Context, *, actor: str, request_id: str, platform: str) -> RequestView:
    actor = normalize_email(actor)
    async with ctx.store.transaction() as session:
        request = await locked_request(session, request_id)
        if request.requester != actor:
            raise NotAllowed(f"Only the requester can cancel request {request_id}.")
        if request.status != Status.PENDING:
            raise WrongStatus(request_id, status=request.status, action="cancelled")
        now = ctx.clock.now()
        try:
            await transitions.transition(
                session,
                request,
                Status.CANCELLED,
                at=now,
                actor=actor,
                platform=platform,
                changes={"decided_at": now, "decided_by": actor, "decided_on": platform},
            )
        except StaleStatus as stale:
            raise WrongStatus(
                request_id, status=stale.current or "gone", action="cancelled"
            ) from None
        await enqueue(
            session, MessagesUpdate.for_request(request.id, version=Status.CANCELLED, at=now)
        )
        view = await load_view(session, ctx.directory, request_id)
    ctx.doorbell.ring()
    return view


async def extend(
    ctx: Context,
    *,
    actor: str,
    request_id: str,
    duration: timedelta,
    justification: str,
    platform: str,
) -> RequestView:
    """Ask to extend an active grant: a new request linked to it, through approval like any
    other (its justification as the flow requires). Approved while the grant runs, it
    continues that grant from its current end; approved after, it is a grant of its own."""
    actor = normalize_email(actor)
    draft = await _extension_draft(ctx, actor, request_id, duration, justification)
    return await submit(ctx, requester=actor, draft=draft, platform=platform, extends=request_id)


async def check_extension(
    ctx: Context, *, actor: str, request_id: str, duration: timedelta, justification: str
) -> None:
    """Raise what :func:`extend` would refuse with, reading only."""
    actor = normalize_email(actor)
    draft = await _extension_draft(ctx, actor, request_id, duration, justification)
    await check_submission(ctx, requester=actor, draft=draft)


async def _extension_draft(
    ctx: Context, actor: str, request_id: str, duration: timedelta, justification: str
) -> Draft:
    async with ctx.store.reading() as session:
        current = await session.get(AccessRequest, request_id)
        if current is None:
            raise RequestNotFound(request_id)
        asked = await _extensions_asked(session, request_id)
    if current.requester != actor:
        raise NotAllowed(f"Only the requester can extend request {request_id}.")
    if current.status != Status.ACTIVE:
        raise WrongStatus(request_id, status=current.status, action="extended")
    _check_total(ctx, current, asked=asked, more=duration)
    draft = Draft(
        integration=current.integration,
        resource_type=current.resource_type,
        resource_name=current.resource_name,
        permission=current.permission,
        duration=duration,
        justification=justification,
    )
    return draft


EXTENSIONS_ON_THEIR_WAY = (Status.PENDING, Status.APPROVED, Status.GRANTING)


async def _extensions_asked(session: AsyncSession, request_id: str) -> timedelta:
    """The extensions of a grant still on their way to it (not decided, or not applied yet)."""
    rows = await session.execute(
        select(AccessRequest.duration_seconds).where(
            col(AccessRequest.extends_request_id) == request_id,
            col(AccessRequest.status).in_([s.value for s in EXTENSIONS_ON_THEIR_WAY]),
        )
    )
    return timedelta(seconds=sum(rows.scalars()))


def total_cap(ctx: Context, flow_name: str) -> timedelta | None:
    """The flow's ``max_total_duration`` (None: no cap, or the flow is gone)."""
    try:
        return ctx.config.flow(flow_name).max_total_duration
    except KeyError:
        return None


def _check_total(
    ctx: Context, current: AccessRequest, *, asked: timedelta, more: timedelta
) -> None:
    """The grant's window, the extensions already asked for and this one: within the flow's
    max_total_duration."""
    cap = total_cap(ctx, current.flow)
    if cap is None or current.starts_at is None or current.ends_at is None:
        return
    left = cap - (current.ends_at - current.starts_at) - asked
    if more > left:
        raise InvalidRequest(
            f"This access may last {describe_duration(cap)} in all, extensions included; "
            f"at most {describe_duration(max(timedelta(0), left))} more can be asked for.",
            field="duration",
        )


def draft_again(view: RequestView) -> Draft:
    """The draft of an earlier request, for "Request again"."""
    return replace(
        Draft(
            view.integration, view.resource_type, view.resource_name, view.permission, view.duration
        ),
        justification=view.justification,
    )
