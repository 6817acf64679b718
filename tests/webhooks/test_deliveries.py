"""Every event of a request's life reaches a webhook receiver on loopback, in order, signed, and
matching the payload's JSON Schema; failures are retried with backoff until delivered."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from core.domain.ports import IntegrationError
from core.storage.models import Job
from core.storage.webhook_models import WebhookDelivery
from core.use_cases import approvals, grants, requests
from core.use_cases.eligibility import Draft
from core.webhooks import signing
from tests.fakes.webhook_receiver import Arrived, WebhookReceiver
from tests.support.domain import Domain, make_domain
from tests.webhooks.conftest import SECRET, DomainMaker, valid

READ = Draft("prod-atlas", "database", "analytics", "read", timedelta(hours=1), "quarterly report")
ALICE, BOB = "alice@example.com", "bob@example.com"


def signed_at(arrived: Arrived) -> int:
    header = arrived.headers[signing.SIGNATURE_HEADER]
    return int(header.split(",")[0].removeprefix("t="))


def verifies(arrived: Arrived, body: bytes | None = None) -> bool:
    """As the receiver checks it when it arrives (the test's clock is moved by hand)."""
    header = arrived.headers[signing.SIGNATURE_HEADER]
    body = arrived.body if body is None else body
    return signing.verify(SECRET, header, body, now=signed_at(arrived))


async def submitted(domain: Domain) -> str:
    view = await requests.submit(domain.ctx, requester=ALICE, draft=READ, platform="slack")
    return view.id


async def decided(domain: Domain, request_id: str, outcome: str) -> None:
    reason = "not this quarter" if outcome == "deny" else None
    await approvals.decide(
        domain.ctx,
        approver=BOB,
        request_id=request_id,
        outcome=outcome,
        reason=reason,
        platform="teams",
    )


async def deliveries(domain: Domain) -> list[WebhookDelivery]:
    async with domain.ctx.store.reading() as session:
        rows = await session.execute(sa.select(WebhookDelivery))
        return list(rows.scalars())


async def test_a_request_life_arrives_in_order_signed_and_valid(
    hooked: DomainMaker, receiver: WebhookReceiver
) -> None:
    domain = await hooked()
    request_id = await submitted(domain)
    await domain.run_jobs()
    await decided(domain, request_id, "approve")
    await domain.run_jobs()
    domain.clock.advance(hours=1, minutes=1)
    await domain.run_jobs()

    events = ["RequestCreated", "RequestApproved", "RequestGranted", "RequestExpired"]
    assert receiver.events() == events
    bodies = [valid(item) for item in receiver.arrived]
    assert [b["event"] for b in bodies] == events
    assert all(verifies(item) for item in receiver.arrived)
    assert len({item.delivery_id for item in receiver.arrived}) == 4
    assert all(
        b["id"] == item.delivery_id for b, item in zip(bodies, receiver.arrived, strict=True)
    )

    created, approved, granted, expired = (b["request"] for b in bodies)
    assert created["id"] == request_id and created["status"] == "pending"
    assert created["requester"] == ALICE and created["integration"] == "prod-atlas"
    assert created["resource"] == {"type": "database", "name": "analytics", "external_id": None}
    assert created["permission"] == "read" and created["platform"] == "slack"
    assert [a["email"] for a in created["approvers"]] == [BOB, "carol@example.com"]
    assert approved["status"] == "approved" and bodies[1]["actor"] == BOB
    assert bodies[1]["platform"] == "teams"
    assert [(d["approver"], d["outcome"]) for d in approved["decisions"]] == [(BOB, "approve")]
    assert granted["status"] == "active" and granted["times"]["starts_at"] is not None
    assert expired["status"] == "expired" and expired["times"]["ended_at"] is not None

    everything = b"".join(item.body for item in receiver.arrived)
    assert b"pw-gp-alice" not in everything and b"mongodb+srv" not in everything
    assert all(row.status == "delivered" for row in await deliveries(domain))


async def test_a_tampered_body_or_a_wrong_secret_fails_verification(
    hooked: DomainMaker, receiver: WebhookReceiver
) -> None:
    domain = await hooked()
    await submitted(domain)
    await domain.run_jobs()
    (arrived,) = receiver.arrived
    assert verifies(arrived)
    tampered = arrived.body.replace(b'"permission":"read"', b'"permission":"dbAdmin"')
    assert tampered != arrived.body
    assert not verifies(arrived, tampered)
    header = arrived.headers[signing.SIGNATURE_HEADER]
    now = signed_at(arrived)
    assert int(domain.clock.now().timestamp()) == now
    assert not signing.verify("another-secret", header, arrived.body, now=now)
    assert not signing.verify(SECRET, header, arrived.body, now=now + 3600)  # a late replay


async def test_rejected_failed_and_revoked_requests(
    hooked: DomainMaker, receiver: WebhookReceiver
) -> None:
    domain = await hooked()
    denied = await submitted(domain)
    await decided(domain, denied, "deny")
    await domain.run_jobs()
    assert receiver.events() == ["RequestCreated", "RequestRejected"]
    assert valid(receiver.arrived[1])["request"]["decision_reason"] == "not this quarter"

    receiver.arrived.clear()
    domain.atlas.failures = [IntegrationError("Atlas rejected the API key")]
    failing = await submitted(domain)
    await decided(domain, failing, "approve")
    await domain.run_jobs()
    assert receiver.events() == ["RequestCreated", "RequestApproved", "RequestFailed"]
    assert "Atlas rejected the API key" in valid(receiver.arrived[2])["request"]["failure"]

    receiver.arrived.clear()
    revoked = await submitted(domain)
    await decided(domain, revoked, "approve")
    await domain.run_jobs()
    await grants.revoke(
        domain.ctx, actor=ALICE, request_id=revoked, reason="done", platform="slack"
    )
    await domain.run_jobs()
    assert receiver.events() == [
        "RequestCreated",
        "RequestApproved",
        "RequestGranted",
        "RequestRevoked",
    ]
    assert all(verifies(item) and valid(item) for item in receiver.arrived)


async def test_a_receiver_failing_three_times_gets_it_again_after_each_failure(
    hooked: DomainMaker, receiver: WebhookReceiver
) -> None:
    domain = await hooked(events=["RequestCreated"])
    receiver.answer(500, 500, 500)
    await submitted(domain)
    await domain.run_jobs()
    assert len(receiver.arrived) == 1
    (row,) = await deliveries(domain)
    assert row.status == "retrying" and row.attempts == 1
    assert row.last_status_code == 500 and "HTTP 500" in (row.last_error or "")
    for attempt, backoff in ((2, 1), (3, 2), (4, 4)):  # doubling (base 1 s, no jitter here)
        domain.clock.advance(seconds=backoff - 0.5)
        await domain.run_jobs()
        assert len(receiver.arrived) == attempt - 1  # not before its backoff
        domain.clock.advance(seconds=0.5)
        await domain.run_jobs()
        assert len(receiver.arrived) == attempt
    assert len(receiver.arrived) == 4
    assert len({item.delivery_id for item in receiver.arrived}) == 1
    assert len({item.body for item in receiver.arrived}) == 1
    assert all(verifies(item) for item in receiver.arrived)
    (row,) = await deliveries(domain)
    assert row.status == "delivered" and row.attempts == 4 and row.last_error is None
    domain.clock.advance(minutes=10)
    await domain.run_jobs()
    assert len(receiver.arrived) == 4  # delivered once it was taken: never again


async def test_a_redirect_to_another_host_is_a_failure_never_followed(
    hooked: DomainMaker, receiver: WebhookReceiver
) -> None:
    domain = await hooked(events=["RequestCreated"], max_attempts=2)
    receiver.redirect_to("https://collector.elsewhere.example/steal")
    await submitted(domain)
    await domain.run_jobs()
    (row,) = await deliveries(domain)
    assert row.status == "retrying" and row.last_status_code == 302
    assert "redirected to another host (collector.elsewhere.example)" in (row.last_error or "")
    domain.clock.advance(minutes=1)
    await domain.run_jobs()
    (row,) = await deliveries(domain)
    assert row.status == "failed" and row.attempts == 2
    assert "never followed" in (row.last_error or "")
    assert len(receiver.arrived) == 2  # and the other host was never asked (loopback only)


async def test_only_the_events_a_webhook_names_are_queued(
    hooked: DomainMaker, receiver: WebhookReceiver
) -> None:
    domain = await hooked(events=["RequestApproved"])
    request_id = await submitted(domain)
    await domain.run_jobs()
    assert receiver.arrived == []
    await decided(domain, request_id, "approve")
    await domain.run_jobs()
    assert receiver.events() == ["RequestApproved"]


async def test_without_webhooks_nothing_is_queued(database_url: str, encryption_key: str) -> None:
    domain = await make_domain(database_url, encryption_key)
    try:
        request_id = await submitted(domain)
        await decided(domain, request_id, "approve")
        await domain.run_jobs()
        assert await deliveries(domain) == []
        async with domain.ctx.store.reading() as session:
            kinds = set((await session.execute(sa.select(Job.kind))).scalars())
        assert "webhook" not in kinds
    finally:
        await domain.ctx.store.close()
