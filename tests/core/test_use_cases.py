"""Every bad input to the use cases: a typed error, and nothing changes."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from core.domain.errors import (
    AlreadyDecided,
    DenyReasonRequired,
    DurationTooLong,
    InvalidRequest,
    JustificationRequired,
    NoMatchingFlow,
    NotAllowed,
    NotAnApprover,
    NotInDirectory,
    SelfApproval,
    UnknownIntegration,
    UnknownResource,
)
from core.domain.lifecycle import Status
from core.storage.models import AccessRequest, AuditEvent, Decision, Job
from core.use_cases import approvals, requests
from core.use_cases.eligibility import Draft
from tests.support.domain import Domain

GOOD = Draft(
    "prod-atlas", "database", "analytics", "read", timedelta(hours=1), "debug the nightly job"
)


async def snapshot(domain: Domain) -> tuple[int, int, int, int]:
    async with domain.ctx.store.reading() as session:
        counts = []
        for table in (AccessRequest, Decision, AuditEvent, Job):
            counts.append(
                (await session.execute(sa.select(sa.func.count()).select_from(table))).scalar_one()
            )
    return tuple(counts)  # type: ignore[return-value]


async def submit(domain: Domain, draft: Draft = GOOD, requester: str = "alice@example.com"):
    return await requests.submit(domain.ctx, requester=requester, draft=draft, platform="slack")


async def test_submit_routes_to_resource_owners_with_reasons(domain: Domain) -> None:
    view = await submit(domain)
    assert view.status is Status.PENDING
    assert [(a.email, a.reason) for a in view.approvers] == [
        ("bob@example.com", "owner of cluster Cluster0 via tag owner=dba"),
        ("carol@example.com", "owner of cluster Cluster0 via tag owner=dba"),
    ]
    assert view.pending_until == domain.clock.now() + timedelta(hours=24)


BAD_DRAFTS = [
    (
        Draft("nope", "database", "analytics", "read", timedelta(hours=1), "x"),
        UnknownIntegration,
        "integration",
    ),
    (
        Draft("prod-atlas", "database", "missing", "read", timedelta(hours=1), "x"),
        UnknownResource,
        "resource",
    ),
    (
        Draft("prod-atlas", "database", "billing", "read", timedelta(hours=1), "x"),
        NoMatchingFlow,
        "resource",
    ),
    (
        Draft("prod-atlas", "database", "analytics", "dbAdmin", timedelta(hours=1), "x"),
        NoMatchingFlow,
        "permission",
    ),
    (
        Draft("prod-atlas", "database", "analytics", "atlasAdmin", timedelta(hours=1), "x"),
        NoMatchingFlow,
        "permission",
    ),
    (
        Draft("prod-atlas", "database", "analytics", "read", timedelta(hours=9), "x"),
        DurationTooLong,
        "duration",
    ),
    (
        Draft("prod-atlas", "database", "analytics", "read", timedelta(0), "x"),
        DurationTooLong,
        "duration",
    ),
    (
        Draft("prod-atlas", "database", "analytics", "read", timedelta(hours=1), "   "),
        JustificationRequired,
        "justification",
    ),
    (
        Draft("prod-atlas", "database", "analytics", "read", timedelta(hours=1), "x" * 2001),
        InvalidRequest,
        "justification",
    ),
]


@pytest.mark.parametrize(("draft", "error", "field"), BAD_DRAFTS)
async def test_bad_request_is_refused_and_nothing_stored(
    domain: Domain, draft: Draft, error: type, field: str
) -> None:
    before = await snapshot(domain)
    with pytest.raises(error) as raised:
        await submit(domain, draft)
    assert raised.value.field == field
    assert str(raised.value)
    assert await snapshot(domain) == before


async def test_person_outside_the_directory_cannot_request(domain: Domain) -> None:
    before = await snapshot(domain)
    with pytest.raises(NotInDirectory):
        await submit(domain, requester="mallory@evil.example")
    assert await snapshot(domain) == before


async def test_person_without_a_flow_cannot_request(domain: Domain) -> None:
    with pytest.raises(NoMatchingFlow) as raised:
        await submit(domain, requester="erin@example.com")
    assert raised.value.field == "integration"


async def test_non_approver_and_requester_cannot_decide(domain: Domain) -> None:
    view = await submit(domain)
    before = await snapshot(domain)
    with pytest.raises(NotAnApprover):
        await approvals.decide(
            domain.ctx,
            approver="erin@example.com",
            request_id=view.id,
            outcome="approve",
            reason=None,
            platform="slack",
        )
    with pytest.raises(SelfApproval):
        await approvals.decide(
            domain.ctx,
            approver="alice@example.com",
            request_id=view.id,
            outcome="approve",
            reason=None,
            platform="slack",
        )
    with pytest.raises(NotInDirectory):
        await approvals.decide(
            domain.ctx,
            approver="mallory@evil.example",
            request_id=view.id,
            outcome="approve",
            reason=None,
            platform="slack",
        )
    with pytest.raises(InvalidRequest):
        await approvals.decide(
            domain.ctx,
            approver="bob@example.com",
            request_id=view.id,
            outcome="maybe",
            reason=None,
            platform="slack",
        )
    with pytest.raises(DenyReasonRequired):
        await approvals.decide(
            domain.ctx,
            approver="bob@example.com",
            request_id=view.id,
            outcome="deny",
            reason="  ",
            platform="slack",
        )
    assert await snapshot(domain) == before


async def test_deciding_twice_is_refused_and_names_the_decider(domain: Domain) -> None:
    view = await submit(domain)
    result = await approvals.decide(
        domain.ctx,
        approver="bob@example.com",
        request_id=view.id,
        outcome="approve",
        reason=None,
        platform="slack",
    )
    assert result.final and result.request.status is Status.APPROVED
    before = await snapshot(domain)
    with pytest.raises(AlreadyDecided) as raised:
        await approvals.decide(
            domain.ctx,
            approver="carol@example.com",
            request_id=view.id,
            outcome="deny",
            reason="no",
            platform="teams",
        )
    assert raised.value.by == "Bob Ray"
    assert "approved by Bob Ray" in str(raised.value)
    with pytest.raises(AlreadyDecided):
        await approvals.decide(
            domain.ctx,
            approver="bob@example.com",
            request_id=view.id,
            outcome="approve",
            reason=None,
            platform="slack",
        )
    assert await snapshot(domain) == before


async def test_cancel_someone_elses_request_is_refused(domain: Domain) -> None:
    view = await submit(domain)
    before = await snapshot(domain)
    with pytest.raises(NotAllowed):
        await requests.cancel(
            domain.ctx, actor="dave@example.com", request_id=view.id, platform="slack"
        )
    with pytest.raises(NotAllowed):
        await requests.cancel(
            domain.ctx, actor="bob@example.com", request_id=view.id, platform="slack"
        )
    assert await snapshot(domain) == before
    cancelled = await requests.cancel(
        domain.ctx, actor="ALICE@example.com", request_id=view.id, platform="slack"
    )
    assert cancelled.status is Status.CANCELLED


async def test_deny_ends_the_request_with_its_reason(domain: Domain) -> None:
    view = await submit(domain)
    result = await approvals.decide(
        domain.ctx,
        approver="carol@example.com",
        request_id=view.id,
        outcome="deny",
        reason="use the replica",
        platform="teams",
    )
    assert result.request.status is Status.DENIED
    assert result.request.decision_reason == "use the replica"
    assert result.request.decided_on == "teams"


async def test_a_late_click_names_the_decision_not_the_later_status(domain: Domain) -> None:
    view = await submit(domain)
    await approvals.decide(
        domain.ctx,
        approver="bob@example.com",
        request_id=view.id,
        outcome="approve",
        reason=None,
        platform="teams",
    )
    await domain.run_jobs()  # granted: the request is active now
    with pytest.raises(AlreadyDecided) as raised:
        await approvals.decide(
            domain.ctx,
            approver="carol@example.com",
            request_id=view.id,
            outcome="approve",
            reason=None,
            platform="slack",
        )
    assert str(raised.value) == f"Request {view.id} was already approved by Bob Ray."
