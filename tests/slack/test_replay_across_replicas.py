"""A signed Slack request replayed to another replica is refused: the replicas share the record
of deliveries already accepted, in the database."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from bot.slack.client import ReplayGuard
from core.storage import deliveries
from tests.fakes.slack import sign
from tests.support.domain import Domain, make_domain

SECRET = "s3cret"


@pytest.fixture
async def sqlite_domain(sqlite_url: str, encryption_key: str) -> AsyncIterator[Domain]:
    built = await make_domain(sqlite_url, encryption_key)
    yield built
    await built.ctx.store.close()


def replica_guard(domain: Domain) -> ReplayGuard:
    async def shared(signature: str, until: float) -> bool:
        return await deliveries.first_delivery(
            domain.ctx,
            platform="slack",
            signature=signature,
            until=datetime.fromtimestamp(until, tz=UTC),
        )

    return ReplayGuard(signing_secret=SECRET, shared=shared)


async def test_a_replay_to_another_replica_is_refused(sqlite_domain: Domain) -> None:
    first_replica, second_replica = replica_guard(sqlite_domain), replica_guard(sqlite_domain)
    body = b"payload=%7B%7D"
    headers = sign(body, SECRET, int(time.time()))
    assert await first_replica.admit(body, headers)
    assert not await second_replica.admit(body, headers)
    assert not await first_replica.admit(body, headers)
    fresh = sign(body, SECRET, int(time.time()) + 1)
    assert await second_replica.admit(body, fresh)


async def test_expired_records_are_forgotten(sqlite_domain: Domain) -> None:
    past = sqlite_domain.clock.now()
    assert await deliveries.first_delivery(
        sqlite_domain.ctx, platform="slack", signature="v0=a", until=past
    )
    sqlite_domain.clock.advance(seconds=1)
    await deliveries.forget_expired(sqlite_domain.ctx)
    assert await deliveries.first_delivery(
        sqlite_domain.ctx, platform="slack", signature="v0=a", until=past
    )
