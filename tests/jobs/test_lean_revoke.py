"""Grants ending together are ended together: a handful of SQL statements and two
transactions for the whole chunk (before: 20 to 26 statements and 5 transactions for each), and
every end still has its status, audit event, notices, erased password and finished job."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from core.jobs.ending_batch import end_batch
from core.storage.models import AccessRequest, AuditEvent, Grant, IntegrationAccount, Job
from tests.support.domain import Domain, make_domain

GRANTS = 20


class Counts:
    def __init__(self) -> None:
        self.statements = 0
        self.transactions = 0

    def statement(self, *_args: Any) -> None:
        self.statements += 1

    def commit(self, *_args: Any) -> None:
        self.transactions += 1


@pytest.fixture
async def domain(database_url: str, encryption_key: str) -> AsyncIterator[Domain]:
    built = await make_domain(database_url, encryption_key)
    yield built
    await built.ctx.store.close()


async def active_grants(domain: Domain, count: int) -> list[str]:
    """``count`` active grants of different people, all ended a second ago, each with its
    expiry job due and a password waiting for its reveal."""
    now = domain.clock.now()
    ids = [f"R{i:05d}" for i in range(count)]
    async with domain.ctx.store.transaction() as session:
        for i, request_id in enumerate(ids):
            person = f"person{i}@example.com"
            session.add(
                AccessRequest(
                    id=request_id,
                    flow="analytics-read",
                    integration="prod-atlas",
                    resource_type="database",
                    resource_name="analytics",
                    permission="read",
                    duration_seconds=60,
                    justification="report",
                    requester=person,
                    platform="slack",
                    status="active",
                    approvals_required=1,
                    created_at=now - timedelta(minutes=2),
                    starts_at=now - timedelta(seconds=61),
                    ends_at=now - timedelta(seconds=1),
                )
            )
            session.add(
                Grant(
                    request_id=request_id,
                    integration="prod-atlas",
                    person=person,
                    username=f"gp-{i}",
                    connection={},
                    ready=True,
                    password_ciphertext="sealed",
                )
            )
            session.add(
                IntegrationAccount(
                    integration="prod-atlas",
                    person=person,
                    username=f"gp-{i}",
                    created_by_gatepass=True,
                    password_ciphertext="sealed",
                )
            )
            session.add(
                Job(
                    kind="expire",
                    payload={"request_id": request_id},
                    dedupe_key=f"expire:{request_id}",
                    run_at=now - timedelta(seconds=1),
                    created_at=now,
                )
            )
    return ids


async def test_a_chunk_of_ends_takes_two_transactions(domain: Domain) -> None:
    ids = await active_grants(domain, GRANTS)
    jobs = await domain.worker.claim(GRANTS)
    assert sorted(job.kind for job in jobs) == ["expire"] * GRANTS
    counts = Counts()
    engine = domain.ctx.store.engine.sync_engine
    sa.event.listen(engine, "before_cursor_execute", counts.statement)
    sa.event.listen(engine, "commit", counts.commit)
    try:
        result = await end_batch(domain.ctx, jobs, worker=domain.worker.worker_id)
    finally:
        sa.event.remove(engine, "before_cursor_execute", counts.statement)
        sa.event.remove(engine, "commit", counts.commit)
    assert len(result.done) == GRANTS and not result.failed and not result.handed_back
    assert counts.transactions <= 2
    assert counts.statements <= 16  # for all twenty: ≤ 8 a revoke is the goal, this is < 1
    assert sorted(g for op, g in domain.atlas.calls if op == "revoke") == ids
    async with domain.ctx.store.reading() as session:
        statuses = (await session.execute(sa.select(AccessRequest.status))).scalars().all()
        events = (await session.execute(sa.select(AuditEvent.to_status))).scalars().all()
        jobs_now = (await session.execute(sa.select(Job.kind, Job.state))).all()
        sealed = (
            (await session.execute(sa.select(Grant.password_ciphertext).distinct())).scalars().all()
        )
        leases = (
            (await session.execute(sa.select(IntegrationAccount.locked_by).distinct()))
            .scalars()
            .all()
        )
    assert set(statuses) == {"expired"} and sorted(events) == ["expired"] * GRANTS
    assert sorted(state for kind, state in jobs_now if kind == "expire") == ["done"] * GRANTS
    assert sorted(kind for kind, state in jobs_now if state == "queued") == sorted(
        ["notify_requester", "update_messages"] * GRANTS
    )
    assert sealed == [None] and leases == [None]
