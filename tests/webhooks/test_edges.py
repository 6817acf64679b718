"""The edges of delivery: the event table (BreakGlassUsed by its audit action), a receiver that
does not answer in time, a worker without the secret, a webhook removed from the config."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import timedelta

import sqlalchemy as sa

from core.domain.ports import SystemClock
from core.domain.webhook_events import EVENT_OF_ACTION, EVENTS
from core.jobs.kinds import Kind, PeriodicJob
from core.jobs.queue import enqueue
from core.storage import audit
from core.storage.webhook_models import WebhookDelivery
from core.use_cases import approvals, break_glass, requests
from core.use_cases.eligibility import Draft
from tests.fakes.webhook_receiver import WebhookReceiver
from tests.support.domain import Domain, config_with, make_domain
from tests.webhooks.conftest import EVERY_EVENT, SECRET, DomainMaker, valid, webhook

READ = Draft("prod-atlas", "database", "analytics", "read", timedelta(hours=1), "incident")


async def submitted(domain: Domain) -> str:
    view = await requests.submit(
        domain.ctx, requester="alice@example.com", draft=READ, platform="slack"
    )
    return view.id


async def only_delivery(domain: Domain) -> WebhookDelivery:
    async with domain.ctx.store.reading() as session:
        (row,) = (await session.execute(sa.select(WebhookDelivery))).scalars().all()
        return row


def test_every_event_is_in_the_one_table() -> None:
    assert list(EVENTS) == EVERY_EVENT
    assert EVENT_OF_ACTION[break_glass.USED] == "BreakGlassUsed"


async def test_a_break_glass_audit_event_is_sent_as_break_glass_used(
    hooked: DomainMaker, receiver: WebhookReceiver
) -> None:
    domain = await hooked(events=["BreakGlassUsed"])
    request_id = await submitted(domain)
    async with domain.ctx.store.transaction() as session:
        await audit.record(
            session,
            at=domain.clock.now(),
            actor="alice@example.com",
            action=break_glass.USED,  # what a break-glass self-approval records
            request_id=request_id,
            platform="slack",
        )
    await domain.run_jobs()
    (arrived,) = receiver.arrived
    body = valid(arrived)
    assert arrived.event == body["event"] == "BreakGlassUsed"
    assert body["actor"] == "alice@example.com" and body["request"]["id"] == request_id


async def test_a_receiver_that_does_not_answer_in_time_is_a_failure(
    hooked: DomainMaker, receiver: WebhookReceiver
) -> None:
    domain = await hooked(events=["RequestCreated"], timeout="1s")
    receiver.hold()
    await submitted(domain)
    await domain.run_jobs()
    row = await only_delivery(domain)
    assert row.status == "retrying" and row.last_error == "no answer within 1s"
    receiver.release()
    domain.clock.advance(seconds=5)
    await domain.run_jobs()
    assert (await only_delivery(domain)).status == "delivered"


async def test_a_worker_without_the_secret_fails_visibly_and_sends_nothing(
    hooked: DomainMaker, receiver: WebhookReceiver
) -> None:
    domain = await hooked(events=["RequestCreated"], max_attempts=1)
    domain.worker.ctx = dataclasses.replace(domain.ctx, webhook_secrets={})
    await submitted(domain)
    await domain.run_jobs()
    row = await only_delivery(domain)
    assert row.status == "failed"
    assert "its secret (variable SIEM_WEBHOOK_SECRET) is not available here" in (
        row.last_error or ""
    )
    assert receiver.arrived == []


async def test_a_webhook_removed_from_the_config_fails_its_deliveries(
    hooked: DomainMaker, receiver: WebhookReceiver
) -> None:
    domain = await hooked(events=["RequestCreated"])
    await submitted(domain)
    config = domain.ctx.config.model_copy(update={"webhooks": ()})
    domain.worker.ctx = dataclasses.replace(domain.ctx, config=config)
    await domain.run_jobs()
    row = await only_delivery(domain)
    assert row.status == "failed" and row.last_error == "webhook siem is no longer configured"
    assert receiver.arrived == []


async def test_delivered_ones_are_pruned_after_two_weeks_failed_ones_stay(
    hooked: DomainMaker, receiver: WebhookReceiver
) -> None:
    domain = await hooked(events=["RequestCreated"], max_attempts=1)
    receiver.answer(500)
    await submitted(domain)
    await submitted(domain)
    await domain.run_jobs()
    domain.clock.advance(days=15)
    now = domain.clock.now()
    slot = int(now.timestamp() // timedelta(days=1).total_seconds())  # today's prune
    async with domain.ctx.store.transaction() as session:
        await enqueue(session, PeriodicJob.for_slot(Kind.PRUNE, None, slot, at=now))
    await domain.run_jobs()
    assert (await only_delivery(domain)).status == "failed"


async def test_a_running_worker_sends_a_request_events_in_order_to_a_slow_receiver(
    database_url: str, encryption_key: str, receiver: WebhookReceiver
) -> None:
    """The worker runs jobs side by side; RequestApproved still waits for RequestCreated, which
    the receiver holds, instead of overtaking it."""
    config = config_with(
        webhooks=[webhook(receiver.url, events=["RequestCreated", "RequestApproved"])]
    )
    domain = await make_domain(
        database_url, encryption_key, config, clock=SystemClock(), webhook_secrets={"siem": SECRET}
    )
    stop = asyncio.Event()
    running = asyncio.create_task(domain.worker.run(stop))
    try:
        receiver.hold()
        request_id = await submitted(domain)
        await receiver.until(lambda got: len(got) == 1)
        await approvals.decide(
            domain.ctx,
            approver="bob@example.com",
            request_id=request_id,
            outcome="approve",
            reason=None,
            platform="slack",
        )
        await asyncio.sleep(1.5)  # the approval's delivery is due, and waits
        assert receiver.events() == ["RequestCreated"]
        receiver.release()
        await receiver.until(lambda got: len(got) == 2)
        assert receiver.events() == ["RequestCreated", "RequestApproved"]
    finally:
        stop.set()
        await running
        await domain.ctx.store.close()
