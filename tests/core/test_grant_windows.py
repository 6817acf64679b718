"""A grant's window is its access: it starts when the call that gives the access succeeds (not
when Atlas reports it deployed), ends at that start plus the duration even while still
granting."""

from __future__ import annotations

from datetime import timedelta

from core.domain.lifecycle import Status
from core.domain.messages import AccessEnded, AccessReady
from core.domain.ports import IntegrationError
from core.storage.request_views import load_view
from core.use_cases import grants
from tests.core.test_job_flows import READ, approved
from tests.support.domain import Domain


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
