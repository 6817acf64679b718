"""Time-driven steps with a moved clock: grant, expiry, reminders, timeouts, retries."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from core.domain.errors import JustificationRequired, NotAllowed, NothingToReveal
from core.domain.lifecycle import Status
from core.domain.messages import (
    AccessEnded,
    AccessReady,
    ApprovalRequested,
    ExpiryWarning,
    OwnerAlert,
    RequestOutcome,
)
from core.domain.ports import IntegrationError
from core.jobs.handlers import reconcile_integration
from core.storage.models import AuditEvent, Job
from core.storage.request_views import load_view
from core.use_cases import approvals, grants, requests
from core.use_cases.eligibility import Draft
from tests.support.domain import Domain

READ = Draft("prod-atlas", "database", "analytics", "read", timedelta(hours=1), "report")
WRITE = Draft("prod-atlas", "database", "sales", "readWrite", timedelta(hours=4), "backfill")


async def approved(domain: Domain, draft: Draft = READ, approver: str = "bob@example.com") -> str:
    view = await requests.submit(
        domain.ctx, requester="alice@example.com", draft=draft, platform="slack"
    )
    await approvals.decide(
        domain.ctx,
        approver=approver,
        request_id=view.id,
        outcome="approve",
        reason=None,
        platform="slack",
    )
    return view.id


async def status(domain: Domain, request_id: str) -> Status:
    async with domain.ctx.store.reading() as session:
        return (await load_view(session, domain.ctx.directory, request_id)).status


async def test_approval_grant_expiry_revoke_with_a_moved_clock(domain: Domain) -> None:
    request_id = await approved(domain)
    await domain.run_jobs()
    assert await status(domain, request_id) is Status.ACTIVE
    assert domain.atlas.accounts == {"gp-alice": {"read@database:analytics"}}
    ready = domain.chat.to("alice@example.com", AccessReady)
    assert ready and ready[0].password_waiting
    assert ready[0].request.username == "gp-alice"

    domain.clock.advance(minutes=49)
    await domain.run_jobs()
    assert not domain.chat.to("alice@example.com", ExpiryWarning)
    domain.clock.advance(minutes=2)
    await domain.run_jobs()
    assert len(domain.chat.to("alice@example.com", ExpiryWarning)) == 1

    domain.clock.advance(minutes=10)
    await domain.run_jobs()
    assert await status(domain, request_id) is Status.EXPIRED
    assert domain.atlas.accounts == {}
    assert domain.atlas.count("revoke") == 1
    assert len(domain.chat.to("alice@example.com", AccessEnded)) == 1
    await domain.run_jobs()
    assert domain.atlas.count("revoke") == 1  # nothing runs twice


async def test_union_rule_keeps_what_another_grant_covers(domain: Domain) -> None:
    first = await approved(domain, READ)
    second_view = await requests.submit(
        domain.ctx, requester="alice@example.com", draft=WRITE, platform="slack"
    )
    await approvals.decide(
        domain.ctx,
        approver="dave@example.com",
        request_id=second_view.id,
        outcome="approve",
        reason=None,
        platform="slack",
    )
    await domain.run_jobs()
    assert domain.atlas.accounts["gp-alice"] == {
        "read@database:analytics",
        "readWrite@database:sales",
    }
    domain.clock.advance(hours=1, minutes=1)
    await domain.run_jobs()
    assert await status(domain, first) is Status.EXPIRED
    assert domain.atlas.accounts["gp-alice"] == {"readWrite@database:sales"}
    await grants.revoke(
        domain.ctx,
        actor="alice@example.com",
        request_id=second_view.id,
        reason="done",
        platform="slack",
    )
    await domain.run_jobs()
    assert await status(domain, second_view.id) is Status.REVOKED
    assert domain.atlas.accounts == {}


async def test_password_is_revealed_once_to_the_requester_only(domain: Domain) -> None:
    request_id = await approved(domain)
    await domain.run_jobs()
    with pytest.raises(NotAllowed):
        await grants.reveal_password(
            domain.ctx, actor="bob@example.com", request_id=request_id, platform="slack"
        )
    password = await grants.reveal_password(
        domain.ctx, actor="alice@example.com", request_id=request_id, platform="slack"
    )
    assert password.reveal().startswith("pw-gp-alice-")
    with pytest.raises(NothingToReveal):
        await grants.reveal_password(
            domain.ctx, actor="alice@example.com", request_id=request_id, platform="slack"
        )


async def test_retry_after_three_times_then_success(domain: Domain) -> None:
    domain.atlas.failures = [
        IntegrationError("rate limited", retryable=True, retry_after=30) for _ in range(3)
    ]
    request_id = await approved(domain)
    for _ in range(3):
        await domain.run_jobs()
        assert await status(domain, request_id) is Status.GRANTING
        async with domain.ctx.store.reading() as session:
            job = (
                await session.execute(sa.select(Job).where(Job.dedupe_key == f"grant:{request_id}"))
            ).scalar_one()
        assert job.run_at >= domain.clock.now() + timedelta(seconds=30)
        assert "rate limited" in (job.last_error or "")
        domain.clock.advance(seconds=31)
    await domain.run_jobs()
    assert await status(domain, request_id) is Status.ACTIVE
    assert domain.atlas.count("grant") == 4


async def test_exhausted_attempts_fail_the_request_and_tell_the_owners(domain: Domain) -> None:
    domain.atlas.failures = [IntegrationError("Atlas is down", retryable=True) for _ in range(20)]
    request_id = await approved(domain)
    for _ in range(10):
        await domain.run_jobs()
        domain.clock.advance(minutes=11)
    assert await status(domain, request_id) is Status.FAILED
    assert domain.atlas.count("grant") == 8
    outcomes = domain.chat.to("alice@example.com", RequestOutcome)
    assert outcomes[-1].request.status is Status.FAILED
    for owner in ("bob@example.com", "carol@example.com"):
        alerts = domain.chat.to(owner, OwnerAlert)
        assert alerts and "Atlas is down" in alerts[0].problem
    async with domain.ctx.store.reading() as session:
        failed = (
            await session.execute(sa.select(AuditEvent).where(AuditEvent.to_status == "failed"))
        ).scalar_one()
    assert "Atlas is down" in failed.detail["error"]


async def test_non_retryable_failure_fails_at_once(domain: Domain) -> None:
    domain.atlas.failures = [IntegrationError("Atlas rejected the API key")]
    request_id = await approved(domain)
    await domain.run_jobs()
    assert await status(domain, request_id) is Status.FAILED


async def test_pending_request_times_out(domain: Domain) -> None:
    view = await requests.submit(
        domain.ctx, requester="alice@example.com", draft=READ, platform="slack"
    )
    await domain.run_jobs()
    domain.clock.advance(hours=23, minutes=59)
    await domain.run_jobs()
    assert await status(domain, view.id) is Status.PENDING
    domain.clock.advance(minutes=2)
    await domain.run_jobs()
    assert await status(domain, view.id) is Status.TIMED_OUT
    assert (
        domain.chat.to("alice@example.com", RequestOutcome)[-1].request.status is Status.TIMED_OUT
    )
    finals = [m for _, m in domain.chat.updated if isinstance(m, ApprovalRequested)]
    assert finals and all(m.request.status is Status.TIMED_OUT for m in finals)


async def test_reminders_and_escalation_at_the_configured_offsets(domain: Domain) -> None:
    view = await requests.submit(
        domain.ctx,
        requester="alice@example.com",
        draft=Draft("prod-atlas", "database", "sales", "read", timedelta(hours=1), "numbers"),
        platform="slack",
    )
    await domain.run_jobs()
    assert [a.email for a in view.approvers] == ["dave@example.com"]
    assert len(domain.chat.to("dave@example.com", ApprovalRequested)) == 1
    domain.clock.advance(minutes=29)
    await domain.run_jobs()
    assert len(domain.chat.to("dave@example.com", ApprovalRequested)) == 1
    domain.clock.advance(minutes=1)
    await domain.run_jobs()
    reminders = domain.chat.to("dave@example.com", ApprovalRequested)
    assert len(reminders) == 2 and reminders[1].reminder
    assert not domain.chat.to("bob@example.com")
    domain.clock.advance(minutes=90)
    await domain.run_jobs()
    assert len(domain.chat.to("dave@example.com", ApprovalRequested)) == 3
    escalated = domain.chat.to("bob@example.com", ApprovalRequested)
    assert len(escalated) == 1 and escalated[0].approver.escalation
    assert "escalated" in escalated[0].approver.reason
    # The escalated owner may now decide.
    result = await approvals.decide(
        domain.ctx,
        approver="bob@example.com",
        request_id=view.id,
        outcome="approve",
        reason=None,
        platform="teams",
    )
    assert result.request.status is Status.APPROVED


async def test_reconciler_removes_an_orphan(domain: Domain) -> None:
    request_id = await approved(domain)
    await domain.run_jobs()
    domain.atlas.accounts["gp-mallory"] = {"atlasAdmin@cluster:Cluster0"}
    removed = await reconcile_integration(domain.ctx, "prod-atlas")
    assert removed == ["gp-mallory"]
    assert "gp-alice" in domain.atlas.accounts
    async with domain.ctx.store.reading() as session:
        event = (
            await session.execute(
                sa.select(AuditEvent).where(AuditEvent.action == "reconcile.removed")
            )
        ).scalar_one()
    assert event.detail["username"] == "gp-mallory"
    assert await status(domain, request_id) is Status.ACTIVE


async def test_failed_notification_never_rolls_back_a_decision(domain: Domain) -> None:
    domain.chat.failures = 3
    request_id = await approved(domain)
    await domain.run_jobs()
    assert await status(domain, request_id) is Status.ACTIVE
    domain.clock.advance(minutes=5)
    await domain.run_jobs()
    assert domain.chat.to("alice@example.com", AccessReady)


async def test_slow_deploy_waits_for_ready_before_telling_the_requester(domain: Domain) -> None:
    domain.atlas.pending_polls = 2
    request_id = await approved(domain)
    await domain.run_jobs()
    assert await status(domain, request_id) is Status.GRANTING
    assert not domain.chat.to("alice@example.com", AccessReady)
    for _ in range(3):
        domain.clock.advance(seconds=6)
        await domain.run_jobs()
    assert await status(domain, request_id) is Status.ACTIVE
    assert domain.atlas.count("grant") == 1
    assert len(domain.chat.to("alice@example.com", AccessReady)) == 1


async def test_extend_is_a_new_approval_that_continues_the_active_grant(domain: Domain) -> None:
    request_id = await approved(domain)
    await domain.run_jobs()
    async with domain.ctx.store.reading() as session:
        first_end = (await load_view(session, domain.ctx.directory, request_id)).ends_at
    assert first_end is not None
    with pytest.raises(NotAllowed):
        await requests.extend(
            domain.ctx,
            actor="dave@example.com",
            request_id=request_id,
            duration=timedelta(minutes=15),
            justification="more time",
            platform="slack",
        )
    with pytest.raises(JustificationRequired):  # the flow requires one, extensions included
        await requests.extend(
            domain.ctx,
            actor="alice@example.com",
            request_id=request_id,
            duration=timedelta(hours=1),
            justification="  ",
            platform="slack",
        )
    extension = await requests.extend(
        domain.ctx,
        actor="alice@example.com",
        request_id=request_id,
        duration=timedelta(hours=1),
        justification="the report runs late",
        platform="slack",
    )
    assert extension.extends_request_id == request_id and extension.status is Status.PENDING
    domain.clock.advance(minutes=30)
    await approvals.decide(
        domain.ctx,
        approver="carol@example.com",
        request_id=extension.id,
        outcome="approve",
        reason=None,
        platform="slack",
    )
    await domain.run_jobs()
    assert await status(domain, extension.id) is Status.EXTENDED
    domain.clock.advance(minutes=31)  # past the first end: the grant runs on
    await domain.run_jobs()
    assert await status(domain, request_id) is Status.ACTIVE
    assert domain.atlas.accounts == {"gp-alice": {"read@database:analytics"}}
    async with domain.ctx.store.reading() as session:
        view = await load_view(session, domain.ctx.directory, request_id)
    assert view.ends_at == first_end + timedelta(hours=1)
    domain.clock.set(first_end + timedelta(hours=1))
    await domain.run_jobs()
    assert await status(domain, request_id) is Status.EXPIRED
    assert domain.atlas.accounts == {}
    assert domain.atlas.count("revoke") == 1


async def test_one_deny_ends_a_request_that_needs_two_approvals(
    database_url: str, encryption_key: str
) -> None:
    from tests.support.domain import config_with, make_domain

    config = config_with()
    config["access_flows"][0]["approvals_required"] = 2
    domain = await make_domain(database_url, encryption_key, config)
    view = await requests.submit(
        domain.ctx, requester="alice@example.com", draft=READ, platform="slack"
    )
    first = await approvals.decide(
        domain.ctx,
        approver="bob@example.com",
        request_id=view.id,
        outcome="approve",
        reason=None,
        platform="slack",
    )
    assert not first.final and first.request.status is Status.PENDING
    second = await approvals.decide(
        domain.ctx,
        approver="carol@example.com",
        request_id=view.id,
        outcome="deny",
        reason="too broad",
        platform="teams",
    )
    assert second.final and second.request.status is Status.DENIED
    await domain.ctx.store.close()
