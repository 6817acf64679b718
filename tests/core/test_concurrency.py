"""Two approvers deciding at the same moment produce exactly one decision — on SQLite and on
PostgreSQL, with real concurrent connections."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta

import sqlalchemy as sa

from core.context import Context
from core.domain.errors import AlreadyDecided
from core.domain.lifecycle import Status
from core.domain.ports import NoDoorbell
from core.storage.models import AuditEvent, Decision, Job
from core.storage.store import Store
from core.use_cases import approvals, requests
from core.use_cases.eligibility import Draft
from tests.support.domain import BASE_CONFIG, Domain, config_with, make_domain

DRAFT = Draft("prod-atlas", "database", "analytics", "read", timedelta(hours=1), "incident 42")


def _second_context(domain: Domain) -> Context:
    """The same domain through its own engine and pool: another replica of gatepass."""
    url = domain.ctx.store.engine.url.render_as_string(hide_password=False)
    return replace(domain.ctx, store=Store.from_url(url), doorbell=NoDoorbell())


async def _race(
    ctxs: list[Context], request_id: str, moves: list[tuple[str, str, str | None]]
) -> list[object]:
    async def one(ctx: Context, approver: str, outcome: str, reason: str | None) -> object:
        try:
            return await approvals.decide(
                ctx,
                approver=approver,
                request_id=request_id,
                outcome=outcome,
                reason=reason,
                platform="slack",
            )
        except AlreadyDecided as error:
            return error

    return await asyncio.gather(*(one(ctxs[i % len(ctxs)], *move) for i, move in enumerate(moves)))


async def test_simultaneous_decisions_make_exactly_one(domain: Domain) -> None:
    other = _second_context(domain)
    try:
        for round_ in range(8):
            view = await requests.submit(
                domain.ctx, requester="alice@example.com", draft=DRAFT, platform="slack"
            )
            moves = [
                ("bob@example.com", "approve", None),
                ("carol@example.com", "deny", "not today"),
            ]
            if round_ % 2:
                moves.reverse()
            results = await _race([domain.ctx, other], view.id, moves)
            winners = [r for r in results if isinstance(r, approvals.DecisionResult)]
            losers = [r for r in results if isinstance(r, AlreadyDecided)]
            assert len(winners) == 1 and len(losers) == 1, results
            winner = winners[0].request
            assert losers[0].by == winner.decided_by_name
            async with domain.ctx.store.reading() as session:
                decisions = (
                    (
                        await session.execute(
                            sa.select(Decision).where(Decision.request_id == view.id)
                        )
                    )
                    .scalars()
                    .all()
                )
                grant_jobs = (
                    await session.execute(
                        sa.select(sa.func.count())
                        .select_from(Job)
                        .where(Job.dedupe_key == f"grant:{view.id}")
                    )
                ).scalar_one()
            assert len(decisions) == 1
            assert grant_jobs == (1 if winner.status is Status.APPROVED else 0)
    finally:
        await other.store.close()


async def test_two_required_approvals_racing_approve_once(
    database_url: str, encryption_key: str
) -> None:
    config = config_with()
    config["access_flows"][0]["approvals_required"] = 2
    domain = await make_domain(database_url, encryption_key, config)
    other = _second_context(domain)
    try:
        view = await requests.submit(
            domain.ctx, requester="alice@example.com", draft=DRAFT, platform="slack"
        )
        results = await _race(
            [domain.ctx, other],
            view.id,
            [("bob@example.com", "approve", None), ("carol@example.com", "approve", None)],
        )
        assert all(isinstance(r, approvals.DecisionResult) for r in results)
        assert sorted(r.final for r in results) == [False, True]  # type: ignore[union-attr]
        async with domain.ctx.store.reading() as session:
            approved_events = (
                await session.execute(
                    sa.select(sa.func.count())
                    .select_from(AuditEvent)
                    .where(AuditEvent.to_status == "approved")
                )
            ).scalar_one()
        assert approved_events == 1
    finally:
        await other.store.close()
        await domain.ctx.store.close()


async def test_audit_chain_stays_whole_under_concurrent_writers(domain: Domain) -> None:
    from core.storage import audit

    other = _second_context(domain)
    try:
        await asyncio.gather(
            *(
                requests.submit(ctx, requester="alice@example.com", draft=DRAFT, platform="slack")
                for ctx in [domain.ctx, other] * 6
            )
        )
        async with domain.ctx.store.reading() as session:
            before = await audit.verify(session)
        assert before.ok and (before.checked, before.pending) == (0, 12)
        assert await audit.chain_all(domain.ctx.store) == 12
        async with domain.ctx.store.reading() as session:
            result = await audit.verify(session)
        assert result.ok, result.problem
        assert (result.checked, result.pending) == (12, 0)
    finally:
        await other.store.close()


assert BASE_CONFIG  # the shared base config is the one these races use
