"""An approved grant reaches its Atlas call after one transaction: the request becomes
granting, the account lease is taken, the tentative window and its expiry are written and the
account's state is read together (before: six transactions), and the window is committed
before the call is made."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from core.domain.lifecycle import Status
from core.storage.models import AccessRequest, IntegrationAccount
from core.use_cases import approvals, requests
from core.use_cases.eligibility import Draft
from tests.support.domain import Domain, make_domain


class Counts:
    def __init__(self) -> None:
        self.statements = 0
        self.transactions = 0

    def statement(self, *_args: Any) -> None:
        self.statements += 1

    def commit(self, *_args: Any) -> None:
        self.transactions += 1


class CallsNoted(list[tuple[str, str]]):
    """The fake Atlas's call log, noting the counts when each call arrives."""

    def __init__(self, counts: Counts) -> None:
        super().__init__()
        self.counts = counts
        self.at_call: dict[str, tuple[int, int]] = {}

    def append(self, call: tuple[str, str]) -> None:
        self.at_call.setdefault(call[0], (self.counts.transactions, self.counts.statements))
        super().append(call)


@pytest.fixture
async def domain(database_url: str, encryption_key: str) -> AsyncIterator[Domain]:
    built = await make_domain(database_url, encryption_key)
    yield built
    await built.ctx.store.close()


async def approved(domain: Domain) -> str:
    draft = Draft("prod-atlas", "database", "analytics", "read", timedelta(hours=1), "report")
    view = await requests.submit(
        domain.ctx, requester="alice@example.com", draft=draft, platform="slack"
    )
    await approvals.decide(
        domain.ctx,
        approver="bob@example.com",
        request_id=view.id,
        outcome="approve",
        reason=None,
        platform="slack",
    )
    return view.id


async def test_the_atlas_call_comes_after_one_transaction(domain: Domain) -> None:
    request_id = await approved(domain)
    grant = next(job for job in await domain.worker.claim(64) if job.kind == "grant")
    counts = Counts()
    domain.atlas.calls = noted = CallsNoted(counts)
    engine = domain.ctx.store.engine.sync_engine
    readers = domain.ctx.store.reader.sync_engine if domain.ctx.store.reader else None
    for each in {engine, readers} - {None}:
        sa.event.listen(each, "before_cursor_execute", counts.statement)
        sa.event.listen(each, "commit", counts.commit)
    try:
        await domain.worker.run_one(grant)
    finally:
        for each in {engine, readers} - {None}:
            sa.event.remove(each, "before_cursor_execute", counts.statement)
            sa.event.remove(each, "commit", counts.commit)
    transactions, statements = noted.at_call["grant"]
    assert transactions == 1
    assert statements <= 10
    async with domain.ctx.store.reading() as session:
        request = await session.get(AccessRequest, request_id)
        account = await session.get(IntegrationAccount, ("prod-atlas", "alice@example.com"))
    assert request is not None and request.status == Status.ACTIVE
    assert account is not None and account.locked_by is None  # the lease was let go
