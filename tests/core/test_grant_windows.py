"""A grant's window is its access: it starts when the call that gives the access succeeds (not
when Atlas reports it deployed), ends at that start plus the duration even while still
granting, and an extension may not take a grant past its flow's max_total_duration."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.config.schema import ConfigError, parse_config
from core.domain.errors import InvalidRequest
from core.domain.lifecycle import Status
from core.domain.messages import AccessEnded, AccessReady
from core.domain.ports import IntegrationError
from core.storage.request_views import load_view
from core.use_cases import grants, requests
from tests.core.test_job_flows import READ, approved
from tests.support.domain import Domain, config_with, make_domain


async def view(domain: Domain, request_id: str):  # type: ignore[no-untyped-def]
    async with domain.ctx.store.reading() as session:
        return await load_view(session, domain.ctx.directory, request_id)


async def test_the_window_starts_at_the_call_not_at_the_deploy(domain: Domain) -> None:
    domain.atlas.pending_polls = 3
    request_id = await approved(domain)
    called_at = domain.clock.now()
    await domain.run_jobs()
    for _ in range(4):
        domain.clock.advance(seconds=5)
        await domain.run_jobs()
    granted = await view(domain, request_id)
    assert granted.status is Status.ACTIVE
    assert granted.starts_at == called_at and granted.ends_at == called_at + timedelta(hours=1)


async def test_a_window_that_ends_while_still_granting_removes_the_access(
    domain: Domain,
) -> None:
    domain.atlas.pending_polls = 10**6
    request_id = await approved(domain, READ)
    await domain.run_jobs()
    assert domain.atlas.accounts == {"gp-alice": {"read@database:analytics"}}
    domain.clock.advance(minutes=60)
    await domain.run_jobs()
    ended = await view(domain, request_id)
    assert ended.status is Status.EXPIRED
    assert domain.atlas.accounts == {}
    assert not domain.chat.to("alice@example.com", AccessReady)
    assert len(domain.chat.to("alice@example.com", AccessEnded)) == 1


async def test_a_call_that_failed_gives_no_window(domain: Domain) -> None:
    domain.atlas.failures = [IntegrationError("Atlas is busy", retryable=True, retry_after=30)]
    request_id = await approved(domain)
    await domain.run_jobs()
    assert (await view(domain, request_id)).starts_at is None
    domain.clock.advance(seconds=31)
    await domain.run_jobs()
    granted = await view(domain, request_id)
    assert granted.status is Status.ACTIVE and granted.starts_at == domain.clock.now()


async def test_a_revoke_while_granting_removes_what_was_made(domain: Domain) -> None:
    domain.atlas.pending_polls = 10**6
    request_id = await approved(domain)
    await domain.run_jobs()
    await grants.revoke(
        domain.ctx,
        actor="alice@example.com",
        request_id=request_id,
        reason="no longer needed",
        platform="slack",
    )
    await domain.run_jobs()
    assert (await view(domain, request_id)).status is Status.REVOKED
    assert domain.atlas.accounts == {}


async def test_extensions_stop_at_the_flows_max_total_duration(
    database_url: str, encryption_key: str
) -> None:
    config = config_with()
    config["access_flows"][0]["durations"] = ["15m", "1h"]
    config["access_flows"][0]["max_total_duration"] = "2h"
    domain = await make_domain(database_url, encryption_key, config)
    request_id = await approved(domain)
    await domain.run_jobs()

    async def extend(minutes: int) -> str:
        extension = await requests.extend(
            domain.ctx,
            actor="alice@example.com",
            request_id=request_id,
            duration=timedelta(minutes=minutes),
            justification="the report runs late",
            platform="slack",
        )
        return extension.id

    await extend(60)
    with pytest.raises(InvalidRequest, match="at most 0 seconds more") as refused:
        await extend(15)
    assert refused.value.field == "duration"
    assert "2 hours in all" in str(refused.value)
    await domain.ctx.store.close()


def test_a_total_cap_below_the_longest_duration_is_a_config_error() -> None:
    config = config_with()
    config["access_flows"][0]["max_total_duration"] = "2h"  # the flow offers 4h and 8h
    with pytest.raises(ConfigError, match=r"max_total_duration \(2h\) is shorter than the longest"):
        parse_config(config)
