"""Gatepass within Atlas's rate limit for database users: its own token bucket per project
keeps it under the limit (no 429 from an Atlas that enforces the same bucket), Atlas's word on
the budget (``Ratelimit-Remaining``, ``Retry-After``) corrects it, and as many calls are in
flight as Atlas's latency calls for."""

from __future__ import annotations

import asyncio
import time

import pytest

from core.config.schema import AtlasDatabaseIntegration, ConfigError, parse_config
from core.integrations.atlas import AtlasClient, RetryPolicy, Version
from core.integrations.atlas.client import segment
from core.integrations.atlas.limits import InFlight, TokenBucket
from tests.atlas.conftest import FakeClock
from tests.fakes.atlas import PROJECT_ID, FakeAtlas, RateLimit
from tests.fakes.atlas_spec.rate_limit import Bucket

USERS = f"/groups/{PROJECT_ID}/databaseUsers"


def client(atlas: FakeAtlas, clock: FakeClock, **options: object) -> AtlasClient:
    return AtlasClient.from_secret(
        atlas_url=atlas.url,
        secret=atlas.api_key(),
        integration="prod-atlas",
        clock=clock,
        retry=RetryPolicy(attempts=6, base_delay=0.01, max_inline_delay=30.0),
        **options,
    )


async def delete_users(atlas: FakeAtlas, api: AtlasClient, count: int) -> None:
    for i in range(count):
        atlas.add_db_user(f"gp-{i}")
    await asyncio.gather(
        *(
            api.delete(f"{USERS}/admin/{segment(f'gp-{i}')}", version=Version.DATABASE_USERS)
            for i in range(count)
        )
    )


async def test_the_bucket_keeps_gatepass_under_atlas_limit(clock: FakeClock) -> None:
    async with FakeAtlas(clock=clock, rate_limit=RateLimit(burst=3, per_minute=120)) as atlas:
        api = client(atlas, clock, rate_limit=(3, 120))
        began = time.monotonic()
        await delete_users(atlas, api, 7)  # 3 at once, then one each half second
        took = time.monotonic() - began
        await api.aclose()
    # 4 without it; one or two when the first answer is late (our bucket started earlier)
    assert atlas.rate_limit is not None and atlas.rate_limit.throttled <= 2
    assert [c.status for c in atlas.calls("DELETE") if c.status != 429] == [204] * 7
    assert took >= 1.5


async def test_atlas_answers_correct_the_bucket(clock: FakeClock) -> None:
    """Another client has spent the project's budget: the first calls learn it from Atlas
    (429, Retry-After, Ratelimit-Remaining), and every later call waits for the budget instead
    of learning it again from its own 429."""
    limit = RateLimit(burst=10, per_minute=120)
    limit.buckets[PROJECT_ID] = Bucket(10, 120, tokens=0.0, updated=time.monotonic())
    async with FakeAtlas(clock=clock, rate_limit=limit) as atlas:
        api = client(atlas, clock, rate_limit=(10, 120))
        await delete_users(atlas, api, 12)
        await api.aclose()
    assert [c.status for c in atlas.calls("DELETE") if c.status != 429] == [204] * 12
    first_wave = InFlight(rate=2).minimum  # in flight before Atlas's first answer
    assert limit.throttled <= first_wave + 1  # without the bucket: every call, several times


async def test_more_calls_are_in_flight_when_atlas_is_slow(clock: FakeClock) -> None:
    async with FakeAtlas(clock=clock) as atlas:
        atlas.slow_down(0.3, method="DELETE")
        api = client(atlas, clock)
        await delete_users(atlas, api, 60)
        await api.aclose()
    (limits,) = api._limits.values()
    # 83 calls a second at 0.3 s each, with headroom; the fake sees fewer when its CPU is short
    assert limits.in_flight.most >= 20 and atlas.most_in_flight > 1
    assert limits.in_flight.limit >= 20


def test_the_in_flight_bound_follows_the_latency() -> None:
    bound = InFlight(rate=5000 / 60, minimum=4, maximum=256)
    bound.latency = 0.0015
    assert bound.limit == 4
    bound.latency = 0.2
    assert bound.limit == 34
    bound.latency = 30.0
    assert bound.limit == 256


@pytest.mark.parametrize(("remaining", "retry_after"), [(0, None), (None, 2.0)])
def test_the_bucket_waits_for_what_atlas_says(
    remaining: int | None, retry_after: float | None
) -> None:
    now = [100.0]
    bucket = TokenBucket(10_000, 5_000, monotonic=lambda: now[0])
    assert bucket.wait_needed() == 0
    bucket.observe(remaining, retry_after)
    assert bucket.wait_needed() > 0
    now[0] += 2.0
    assert bucket.wait_needed() == 0


@pytest.mark.parametrize(
    ("rate_limit", "said"),
    [
        ({"burst": 0, "per_minute": 5000}, "rate_limit.burst"),
        ({"burst": 10, "per_minute": -1}, "rate_limit.per_minute"),
        ({"burst": 10, "per_mintue": 5}, "per_mintue"),
    ],
)
def test_a_bad_rate_limit_is_refused_by_name(rate_limit: dict[str, object], said: str) -> None:
    integration = {
        "name": "prod-atlas",
        "type": "mongodb-atlas",
        "project_id": PROJECT_ID,
        "cluster_name": "Cluster0",
        "secret": "env:ATLAS_KEY",
        "integration_owners": [{"attribute": "group", "value": "dba"}],
        "rate_limit": rate_limit,
    }
    with pytest.raises(ConfigError) as refused:
        parse_config({"integrations": [integration]})
    assert said in str(refused.value)


def test_the_rate_limit_reaches_the_client() -> None:
    integration = {
        "name": "prod-atlas",
        "type": "mongodb-atlas",
        "project_id": PROJECT_ID,
        "cluster_name": "Cluster0",
        "secret": "env:ATLAS_KEY",
        "integration_owners": [{"attribute": "group", "value": "dba"}],
        "rate_limit": {"burst": 50, "per_minute": 600},
    }
    (config,) = parse_config({"integrations": [integration]}).integrations
    assert isinstance(config, AtlasDatabaseIntegration)
    assert (config.rate_limit.burst, config.rate_limit.per_minute) == (50, 600)
