"""Read models: a request as the edges render it, and the queries behind "my requests",
"waiting for my decision" and "my active access"."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from core.domain.directory import Directory
from core.domain.errors import RequestNotFound
from core.domain.lifecycle import Status
from core.domain.sentences import short_name
from core.domain.views import ApproverView, DecisionView, RequestView
from core.storage.models import AccessRequest, Decision, Grant, RequestApprover


def _name(directory: Directory, email: str | None) -> str | None:
    """The person's display name, cut short (``sentences.short_name``) for every message."""
    if email is None:
        return None
    person = directory.person(email)
    return short_name(person.label if person else email)


async def load_view(session: AsyncSession, directory: Directory, request_id: str) -> RequestView:
    request = await session.get(AccessRequest, request_id)
    if request is None:
        raise RequestNotFound(request_id)
    return (await build_views(session, directory, [request]))[0]


async def build_views(
    session: AsyncSession, directory: Directory, requests: Sequence[AccessRequest]
) -> list[RequestView]:
    ids = [r.id for r in requests]
    if not ids:
        return []
    approvers: dict[str, list[ApproverView]] = {i: [] for i in ids}
    for row in (
        await session.execute(
            select(RequestApprover).where(col(RequestApprover.request_id).in_(ids))
        )
    ).scalars():
        approvers[row.request_id].append(
            ApproverView(
                row.email, _name(directory, row.email) or row.email, row.reason, row.escalation
            )
        )
    decisions: dict[str, list[DecisionView]] = {i: [] for i in ids}
    for decision in (
        await session.execute(
            select(Decision)
            .where(col(Decision.request_id).in_(ids))
            .order_by(col(Decision.decided_at))
        )
    ).scalars():
        decisions[decision.request_id].append(
            DecisionView(
                decision.approver,
                _name(directory, decision.approver) or decision.approver,
                decision.outcome,
                decision.reason,
                decision.platform,
                decision.decided_at,
            )
        )
    grants = {
        g.request_id: g
        for g in (await session.execute(select(Grant).where(Grant.request_id.in_(ids)))).scalars()  # type: ignore[attr-defined]
    }
    return [
        _view(r, directory, approvers[r.id], decisions[r.id], grants.get(r.id)) for r in requests
    ]


def _view(
    r: AccessRequest,
    directory: Directory,
    approvers: list[ApproverView],
    decisions: list[DecisionView],
    grant: Grant | None,
) -> RequestView:
    return RequestView(
        id=r.id,
        flow=r.flow,
        integration=r.integration,
        resource_type=r.resource_type,
        resource_name=r.resource_name,
        permission=r.permission,
        duration=timedelta(seconds=r.duration_seconds),
        justification=r.justification,
        requester=r.requester,
        requester_name=_name(directory, r.requester) or r.requester,
        platform=r.platform,
        status=Status(r.status),
        approvals_required=r.approvals_required,
        approvers=tuple(sorted(approvers, key=lambda a: (a.escalation, a.email))),
        decisions=tuple(decisions),
        created_at=r.created_at,
        pending_until=r.pending_until,
        decided_at=r.decided_at,
        decided_by=r.decided_by,
        decided_by_name=_name(directory, r.decided_by),
        decided_on=r.decided_on,
        decision_reason=r.decision_reason,
        starts_at=r.starts_at,
        ends_at=r.ends_at,
        ended_at=r.ended_at,
        end_reason=r.end_reason,
        failure=r.failure,
        extends_request_id=r.extends_request_id,
        username=grant.username if grant else None,
        connection=dict(grant.connection) if grant and grant.connection else None,
        password_waiting=bool(grant and grant.password_ciphertext),
        invited=Status(r.status) is Status.GRANTING
        and bool(grant and grant.connection.get("invited")),
    )


async def my_requests(
    session: AsyncSession, directory: Directory, person: str, *, limit: int = 20
) -> list[RequestView]:
    rows = (
        await session.execute(
            select(AccessRequest)
            .where(AccessRequest.requester == person)
            .order_by(col(AccessRequest.created_at).desc())
            .limit(limit)
        )
    ).scalars()
    return await build_views(session, directory, list(rows))


async def pending_my_decision(
    session: AsyncSession, directory: Directory, person: str, *, limit: int = 50
) -> list[RequestView]:
    rows = (
        await session.execute(
            select(AccessRequest)
            .join(RequestApprover, col(RequestApprover.request_id) == col(AccessRequest.id))
            .where(
                col(RequestApprover.email) == person,
                col(AccessRequest.status) == Status.PENDING.value,
            )
            .order_by(col(AccessRequest.created_at))
            .limit(limit)
        )
    ).scalars()
    views = await build_views(session, directory, list(rows))
    return [v for v in views if v.awaits_decision_from(person)]


async def my_active_access(
    session: AsyncSession, directory: Directory, person: str, *, limit: int | None = None
) -> list[RequestView]:
    rows = (
        await session.execute(
            select(AccessRequest)
            .where(
                col(AccessRequest.requester) == person,
                col(AccessRequest.status).in_(
                    [Status.ACTIVE.value, Status.GRANTING.value, Status.APPROVED.value]
                ),
            )
            .order_by(col(AccessRequest.ends_at))
            .limit(limit)
        )
    ).scalars()
    return await build_views(session, directory, list(rows))


async def list_requests(
    session: AsyncSession, directory: Directory, *, status: str | None = None, limit: int = 200
) -> list[RequestView]:
    query = select(AccessRequest).order_by(AccessRequest.created_at.desc()).limit(limit)  # type: ignore[attr-defined]
    if status:
        query = query.where(AccessRequest.status == status)
    return await build_views(session, directory, list((await session.execute(query)).scalars()))
