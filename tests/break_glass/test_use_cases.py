"""Break-glass at the use cases: the requester approves their own request with a reason and gets
the access at once, the owners are told and review it, reminders run until someone does, the
daily limit holds (also when two uses race), and a flow without ``break_glass`` still refuses
self-approval. Every refusal changes nothing."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta

import pytest
import sqlalchemy as sa

from core.domain.break_glass import (
    AlreadyReviewed,
    LimitReached,
    NotAReviewer,
    NotBreakGlass,
    ReasonTooShort,
)
from core.domain.errors import NotAParty, SelfApproval
from core.domain.lifecycle import Status
from core.domain.messages import BreakGlassAnnounced, Review, ReviewRequested
from core.domain.views import RequestView
from core.storage.models import AccessRequest, AuditEvent, BreakGlassUse, Job
from core.storage.request_views import load_view
from core.use_cases import approvals, break_glass, requests
from core.use_cases.eligibility import Draft
from tests.break_glass.config import REASON, SLACK_CHANNEL
from tests.support.domain import Domain

ALICE, BOB, CAROL, DAVE = (f"{n}@example.com" for n in ("alice", "bob", "carol", "dave"))
BREAK = Draft("prod-atlas", "database", "billing", "readWrite", timedelta(hours=1), REASON)
ORDINARY = Draft("prod-atlas", "database", "analytics", "read", timedelta(hours=1), "report")


async def counts(domain: Domain) -> dict[str, int]:
    found = {}
    async with domain.ctx.store.reading() as session:
        for table in (AccessRequest, AuditEvent, Job, BreakGlassUse):
            query = sa.select(sa.func.count()).select_from(table)
            found[table.__tablename__] = (await session.execute(query)).scalar_one()
    return found


async def actions(domain: Domain, request_id: str) -> list[tuple[str, str, dict]]:
    async with domain.ctx.store.reading() as session:
        rows = await session.execute(
            sa.select(AuditEvent.action, AuditEvent.actor, AuditEvent.detail)
            .where(AuditEvent.request_id == request_id)
            .order_by(AuditEvent.seq)
        )
        return [tuple(row) for row in rows.all()]  # type: ignore[misc]


async def use(domain: Domain, draft: Draft = BREAK, requester: str = ALICE):
    return await requests.submit(domain.ctx, requester=requester, draft=draft, platform="slack")


async def test_break_glass_is_granted_at_once_announced_and_sent_for_review(
    domain: Domain,
) -> None:
    view = await use(domain)
    assert view.status is Status.APPROVED
    assert view.decided_by == ALICE and view.approvers == ()
    await domain.run_jobs()
    current = await requests_view(domain, view.id)
    assert current.status is Status.ACTIVE
    assert domain.atlas.accounts["gp-alice"] == {"readWrite@database:billing"}
    [(channel, announced, _)] = domain.chat.channel_posts
    assert channel == SLACK_CHANNEL and isinstance(announced, BreakGlassAnnounced)
    assert announced.request.justification == REASON
    for owner in (BOB, CAROL):
        [asked] = domain.chat.to(owner, ReviewRequested)
        assert asked.owner == owner and not asked.review.done
    assert domain.chat.to(ALICE, ReviewRequested) == []
    used = [a for a in await actions(domain, view.id) if a[0] == break_glass.USED]
    assert used == [
        (
            break_glass.USED,
            ALICE,
            {
                "break_glass": True,
                "flow": "incident",
                "reason": REASON,
                "duration_seconds": 3600,
                "use_of_day": 1,
                "max_uses_per_day": 1,
            },
        )
    ]


async def requests_view(domain: Domain, request_id: str) -> RequestView:
    async with domain.ctx.store.reading() as session:
        return await load_view(session, domain.ctx.directory, request_id)


async def test_a_short_reason_is_refused_and_nothing_is_stored(domain: Domain) -> None:
    before = await counts(domain)
    with pytest.raises(ReasonTooShort, match="at least 20 characters"):
        await use(domain, replace(BREAK, justification="db down"))
    assert await counts(domain) == before
    assert domain.atlas.calls == []


async def test_the_daily_limit_refuses_the_next_use_and_stores_nothing(domain: Domain) -> None:
    await use(domain)
    await domain.run_jobs()
    before = await counts(domain)
    granted = domain.atlas.count("grant")
    with pytest.raises(LimitReached, match="1 time today"):
        await use(domain)
    assert await counts(domain) == before
    assert domain.atlas.count("grant") == granted
    domain.clock.advance(days=1)
    assert (await use(domain)).status is Status.APPROVED  # a new UTC day, a new use


async def test_two_uses_at_once_get_one_slot(domain: Domain) -> None:
    results = await asyncio.gather(use(domain), use(domain), return_exceptions=True)
    assert sorted(type(r).__name__ for r in results) == ["LimitReached", "RequestView"]
    async with domain.ctx.store.reading() as session:
        rows = (await session.execute(sa.select(BreakGlassUse))).scalars().all()
    assert len(rows) == 1


async def test_a_review_is_audited_updates_every_copy_and_stops_the_reminders(
    domain: Domain,
) -> None:
    view = await use(domain)
    await domain.run_jobs()
    mark = len(domain.chat.updated)
    done = await break_glass.review(
        domain.ctx, reviewer=BOB, request_id=view.id, outcome="flagged", platform="teams"
    )
    assert done.review.review is Review.FLAGGED and done.review.by_name == "Bob Ray"
    await domain.run_jobs()
    updated = [m for _, m in domain.chat.updated[mark:]]
    assert {type(m).__name__ for m in updated} == {"BreakGlassAnnounced", "ReviewRequested"}
    assert len(updated) == 3 and all(m.review.review is Review.FLAGGED for m in updated)
    reviewed = [a for a in await actions(domain, view.id) if a[0] == break_glass.REVIEWED]
    assert reviewed == [(break_glass.REVIEWED, BOB, {"break_glass": True, "review": "flagged"})]
    with pytest.raises(AlreadyReviewed, match="already flagged by Bob Ray"):
        await break_glass.review(
            domain.ctx, reviewer=CAROL, request_id=view.id, outcome="acknowledged", platform="x"
        )
    asked = [m for _, m, _ in domain.chat.sent if isinstance(m, ReviewRequested)]
    domain.clock.advance(hours=5)
    await domain.run_jobs()
    again = [m for _, m, _ in domain.chat.sent if isinstance(m, ReviewRequested)]
    assert again == asked  # the reminders found it reviewed


async def test_the_owners_are_reminded_until_someone_reviews(domain: Domain) -> None:
    view = await use(domain)
    await domain.run_jobs()
    domain.clock.advance(hours=1)
    await domain.run_jobs()
    for owner in (BOB, CAROL):
        assert [m.reminder for m in domain.chat.to(owner, ReviewRequested)] == [False, True]
    await break_glass.review(
        domain.ctx, reviewer=CAROL, request_id=view.id, outcome="acknowledged", platform="slack"
    )
    domain.clock.advance(hours=3)
    await domain.run_jobs()
    assert len(domain.chat.to(BOB, ReviewRequested)) == 2


async def test_only_other_owners_may_review(domain: Domain) -> None:
    view = await use(domain)
    ordinary = await use(domain, ORDINARY)
    before = await counts(domain)
    with pytest.raises(NotAParty):
        await break_glass.review(
            domain.ctx, reviewer=DAVE, request_id=view.id, outcome="flagged", platform="slack"
        )
    with pytest.raises(NotAParty):
        await break_glass.review(
            domain.ctx, reviewer=DAVE, request_id="RZZZZZZZZZ", outcome="flagged", platform="x"
        )
    with pytest.raises(NotAReviewer, match="your own"):
        await break_glass.review(
            domain.ctx, reviewer=ALICE, request_id=view.id, outcome="acknowledged", platform="x"
        )
    with pytest.raises(NotBreakGlass):
        await break_glass.review(
            domain.ctx, reviewer=BOB, request_id=ordinary.id, outcome="flagged", platform="x"
        )
    assert await counts(domain) == before


async def test_a_flow_without_break_glass_still_refuses_self_approval(domain: Domain) -> None:
    view = await use(domain, ORDINARY)
    assert view.status is Status.PENDING
    with pytest.raises(SelfApproval):
        await approvals.decide(
            domain.ctx,
            approver=ALICE,
            request_id=view.id,
            outcome="approve",
            reason=None,
            platform="slack",
        )
    flow = domain.ctx.config.flow("analytics-read")
    async with domain.ctx.store.transaction() as session:
        request = await session.get(AccessRequest, view.id)
        assert request is not None
        with pytest.raises(SelfApproval):
            await break_glass.self_approve(domain.ctx, session, request, flow)
    assert (await requests_view(domain, view.id)).status is Status.PENDING


async def test_an_extension_is_another_use_of_the_day(domain: Domain) -> None:
    view = await use(domain)
    await domain.run_jobs()
    before = await counts(domain)
    with pytest.raises(LimitReached):
        await requests.extend(
            domain.ctx,
            actor=ALICE,
            request_id=view.id,
            duration=timedelta(minutes=30),
            justification=REASON,
            platform="slack",
        )
    assert await counts(domain) == before
