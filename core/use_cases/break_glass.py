"""Break-glass: the requester approves their own request, with a reason, and the integration
owners review the use afterwards.

``self_approve`` is the one exception to "a requester never approves their own request", and
it lives here only: ``requests.submit`` calls it for a flow with ``break_glass`` and for no
other; it refuses any other flow. In the submitting transaction it checks the reason's length,
claims one of the requester's uses of the day (race-safe: a unique ``(person, day, slot)``), moves
the request to approved with its grant queued, records ``request.break_glass_used`` and queues
the broadcast, the owners' review requests and the review reminders. A refusal rolls it all
back: nothing is stored, nothing granted.

``review`` is an integration owner's Acknowledge or Flag, claimed with a compare-and-set so the
first review wins; it records ``request.break_glass_reviewed`` and updates every copy.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, func, select

from core import metrics
from core.config.break_glass import BreakGlass
from core.config.schema import AccessFlow
from core.context import Context
from core.domain.break_glass import (
    AlreadyReviewed,
    LimitReached,
    NotAReviewer,
    NotBreakGlass,
    ReasonTooShort,
    Review,
    ReviewState,
    review_of,
)
from core.domain.errors import GatepassError, SelfApproval
from core.domain.lifecycle import Status
from core.domain.notices import Notice
from core.domain.routing import integration_owners
from core.domain.sentences import short_name
from core.domain.views import RequestView
from core.jobs.announcement_kinds import BreakGlassNotice, BreakGlassRemind, BreakGlassUpdate
from core.jobs.kinds import RequesterNotice
from core.jobs.queue import enqueue
from core.storage import audit, request_views
from core.storage.models import AccessRequest, BreakGlassUse
from core.use_cases import reads, requests

USED = "request.break_glass_used"
REVIEWED = "request.break_glass_reviewed"


def check_reason(rules: BreakGlass, reason: str) -> None:
    given = len(reason.strip())
    if given < rules.min_reason_length:
        raise ReasonTooShort(rules.min_reason_length, given)


async def self_approve(
    ctx: Context, session: AsyncSession, request: AccessRequest, flow: AccessFlow
) -> None:
    """Approve ``request`` (just built, not stored yet) by its own requester: break-glass.
    SelfApproval for a flow without ``break_glass``."""
    rules = flow.break_glass
    if rules is None or request.flow != flow.name:
        raise SelfApproval(request.id)
    check_reason(rules, request.justification)
    now = request.created_at
    session.add(request)
    metrics.request_reached(session, Status.PENDING)
    await session.flush()
    await _record_submitted(session, request)
    use = await _claim_use(session, request, rules, now=now)
    await requests.approve(
        session,
        request,
        at=now,
        by=request.requester,
        platform=request.platform,
        reason=request.justification,
    )
    await audit.record(
        session,
        at=now,
        actor=request.requester,
        action=USED,
        request_id=request.id,
        platform=request.platform,
        detail={
            "break_glass": True,
            "flow": request.flow,
            "reason": request.justification,
            "duration_seconds": request.duration_seconds,
            "use_of_day": use.slot + 1,
            "max_uses_per_day": rules.max_uses_per_day,
        },
    )
    await enqueue(
        session,
        BreakGlassNotice.first(request.id, at=now),
        *BreakGlassRemind.rounds(request.id, rules.review_reminders, used_at=now),
        RequesterNotice.about(request.id, Notice.RECEIPT, at=now),
    )


async def _record_submitted(session: AsyncSession, request: AccessRequest) -> None:
    """The submission's audit event, marked as break-glass (no approvers: its requester)."""
    now = request.created_at
    await audit.record(
        session,
        at=now,
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
            "approvers": [],
            "extends": request.extends_request_id,
            "break_glass": True,
        },
    )


def _day(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d")


async def check_use(
    session: AsyncSession, person: str, rules: BreakGlass, reason: str, *, now: datetime
) -> None:
    """Raise what :func:`self_approve` would refuse this use with, reading only: a reason too
    short, or no use of the day left."""
    check_reason(rules, reason)
    if await _uses_on(session, person, _day(now)) >= rules.max_uses_per_day:
        raise LimitReached(rules.max_uses_per_day)


async def _uses_on(session: AsyncSession, person: str, day: str) -> int:
    taken = await session.execute(
        select(func.count())
        .select_from(BreakGlassUse)
        .where(col(BreakGlassUse.person) == person, col(BreakGlassUse.day) == day)
    )
    return int(taken.scalar_one())


async def _claim_use(
    session: AsyncSession, request: AccessRequest, rules: BreakGlass, *, now: datetime
) -> BreakGlassUse:
    """One of the requester's uses of the day, or LimitReached. Each slot is a unique row, so two
    uses recorded at once cannot take the same one: the later insert waits for the earlier's
    transaction and, when it commits, tries the next slot (a savepoint keeps the rest)."""
    day = _day(now)
    taken = await _uses_on(session, request.requester, day)
    for slot in range(taken, rules.max_uses_per_day):
        use = BreakGlassUse(
            request_id=request.id, person=request.requester, day=day, slot=slot, used_at=now
        )
        try:
            async with session.begin_nested():
                session.add(use)
        except IntegrityError:
            continue
        return use
    raise LimitReached(rules.max_uses_per_day)


# --------------------------------------------------------------------------- reading


async def review_state(ctx: Context, session: AsyncSession, request_id: str) -> ReviewState | None:
    """The review of a break-glass use (None: the request was not break-glass)."""
    use = (
        await session.execute(
            select(BreakGlassUse)
            .where(col(BreakGlassUse.request_id) == request_id)
            .execution_options(populate_existing=True)
        )
    ).scalar_one_or_none()
    if use is None:
        return None
    person = ctx.directory.person(use.reviewed_by) if use.reviewed_by else None
    name = short_name(person.label) if person else use.reviewed_by
    return ReviewState(Review(use.review) if use.review else None, name, use.reviewed_at)


async def break_glass_ids(session: AsyncSession, request_ids: list[str]) -> set[str]:
    """Which of these requests were break-glass uses."""
    if not request_ids:
        return set()
    rows = await session.execute(
        select(BreakGlassUse.request_id).where(col(BreakGlassUse.request_id).in_(request_ids))
    )
    return set(rows.scalars())


def reviewers(ctx: Context, view: RequestView) -> list[str]:
    """Who reviews a break-glass use: the integration's owners but its requester."""
    try:
        integration = ctx.integration_config(view.integration)
    except GatepassError:
        return []
    owners = integration_owners(integration, ctx.directory)
    return [o.email for o in owners if o.email != view.requester]


# --------------------------------------------------------------------------- the review


@dataclass(frozen=True)
class Reviewed:
    request: RequestView
    review: ReviewState


async def review(
    ctx: Context, *, reviewer: str, request_id: str, outcome: Review | str, platform: str
) -> Reviewed:
    """An integration owner acknowledges or flags a break-glass use; the first review wins."""
    verdict = review_of(outcome)
    view = await reads.request_for(ctx, request_id, viewer=reviewer)  # NotAParty: outsiders
    reviewer = ctx.person(reviewer).email
    if reviewer == view.requester:
        raise NotAReviewer(own=True)
    if reviewer not in reviewers(ctx, view):
        raise NotAReviewer(own=False)
    now = ctx.clock.now()
    async with ctx.store.transaction() as session:
        state = await review_state(ctx, session, request_id)
        if state is None:
            raise NotBreakGlass(request_id)
        unreviewed = (
            col(BreakGlassUse.request_id) == request_id,
            col(BreakGlassUse.review).is_(None),
        )
        claimed = await session.execute(
            sa.update(BreakGlassUse)
            .where(*unreviewed)
            .values(
                review=verdict.value,
                reviewed_by=reviewer,
                reviewed_at=now,
                review_platform=platform,
            )
            .execution_options(synchronize_session=False)
        )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            state = await review_state(ctx, session, request_id) or state
            raise AlreadyReviewed(request_id, review=str(state.review), by=state.by_name or "?")
        await audit.record(
            session,
            at=now,
            actor=reviewer,
            action=REVIEWED,
            request_id=request_id,
            platform=platform,
            detail={"break_glass": True, "review": verdict.value},
        )
        await enqueue(session, BreakGlassUpdate.for_review(request_id, at=now))
    ctx.doorbell.ring()
    person = ctx.directory.person(reviewer)
    name = short_name(person.label if person else reviewer)
    return Reviewed(view, ReviewState(verdict, name, now))


async def reviewed_use(ctx: Context, request_id: str, *, viewer: str) -> Reviewed:
    """A break-glass use and its review, as a party of the request sees it."""
    view = await reads.request_for(ctx, request_id, viewer=viewer)
    async with ctx.store.reading() as session:
        state = await review_state(ctx, session, request_id)
    if state is None:
        raise NotBreakGlass(request_id)
    return Reviewed(view, state)


@dataclass(frozen=True)
class Use:
    """A break-glass use for the administrator's list: the request, when, and its review."""

    request: RequestView
    used_at: datetime
    review: ReviewState


async def uses_for_admin(ctx: Context, *, status: str | None = None, limit: int = 200) -> list[Use]:
    """Every break-glass use, newest first, for the administrator's CLI (no edge calls this)."""
    async with ctx.store.reading() as session:
        query = (
            select(BreakGlassUse, AccessRequest)
            .join(AccessRequest, col(AccessRequest.id) == col(BreakGlassUse.request_id))
            .order_by(col(BreakGlassUse.used_at).desc())
            .limit(limit)
        )
        if status is not None:
            query = query.where(col(AccessRequest.status) == status)
        rows = (await session.execute(query)).all()
        views = await request_views.build_views(session, ctx.directory, [r for _, r in rows])
        found = []
        for (use, _), view in zip(rows, views, strict=True):
            state = await review_state(ctx, session, use.request_id)
            found.append(Use(view, use.used_at, state or ReviewState()))
    return found
