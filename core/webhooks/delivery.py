"""The ``webhook`` job: send one stored delivery, record how it went, retry until it is taken.

A failed attempt raises a retryable error, so the worker tries again with exponential backoff
(capped) until the webhook's ``max_attempts`` run out; then the delivery is marked failed. The
body and delivery id are the stored ones on every attempt (also after a worker died mid-send),
so a receiver that got it twice deduplicates on ``Gatepass-Delivery``. A request's deliveries to
one webhook are sent in the order of their events: one waits while an earlier one has not been
tried yet (or is being tried); one that failed an attempt holds none up.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from core.context import Context
from core.domain.ports import IntegrationError
from core.jobs.announcement_kinds import WebhookSend
from core.jobs.queue import PermanentFailure, Reschedule
from core.storage import webhook_deliveries
from core.storage.models import Job
from core.storage.webhook_models import WebhookDelivery, WebhookDeliveryStatus
from core.webhooks import sender

log = logging.getLogger("gatepass.webhooks")
IN_ORDER_WAIT = timedelta(milliseconds=250)  # how soon to look again at an earlier delivery


class WebhookFailed(IntegrationError):
    """The receiver did not take the delivery this time (retried)."""


async def deliver(ctx: Context, job: Job) -> Reschedule | None:
    step = WebhookSend.of(job)
    async with ctx.store.reading() as session:
        row = await session.get(WebhookDelivery, step.delivery_id)
        earlier = None if row is None else await webhook_deliveries.earlier_unsent(session, row)
    if row is None:
        raise PermanentFailure(f"webhook delivery {step.delivery_id} is gone")
    if row.status == WebhookDeliveryStatus.DELIVERED:
        return None
    if earlier is not None:
        return Reschedule(ctx.clock.now() + IN_ORDER_WAIT, f"after delivery {earlier}")
    try:
        hook = ctx.config.webhook(row.webhook)
    except KeyError:
        raise PermanentFailure(f"webhook {row.webhook} is no longer configured") from None
    secret = ctx.webhook_secrets.get(row.webhook)
    if secret is None:
        missing = f"its secret ({hook.secret.source}) is not available here"
        outcome = sender.Outcome(None, missing, 0.0)
    else:
        outcome = await sender.send(
            hook, secret, delivery_id=row.id, event=row.event, body=row.body, now=ctx.clock.now()
        )
    attempt = webhook_deliveries.Attempt(ctx.clock.now(), outcome.status_code, outcome.error)
    async with ctx.store.transaction() as session:
        await webhook_deliveries.record_attempt(session, row.id, attempt)
    if not outcome.delivered:
        raise WebhookFailed(
            f"webhook {row.webhook} ({row.event}, delivery {row.id}): {outcome.error}",
            retryable=True,
            retry_after=outcome.retry_after,
        )
    log.info("webhook %s: %s delivered (%s)", row.webhook, row.event, row.id)
    return None


async def gave_up(ctx: Context, job: Job, error: str) -> None:
    """Its attempts ran out (or it cannot be sent): the delivery is marked failed."""
    step = WebhookSend.of(job)
    async with ctx.store.transaction() as session:
        await webhook_deliveries.give_up(session, step.delivery_id, error)
    log.warning("webhook delivery %s failed for good: %s", step.delivery_id, error)
