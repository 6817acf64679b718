"""The administrator's webhook use cases: the deliveries and how they went, and a test send.

Only the CLI calls these (``gatepass webhooks deliveries`` / ``gatepass webhooks test``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from core.context import Context
from core.domain.errors import GatepassError
from core.domain.webhook_events import TEST_EVENT
from core.storage import webhook_deliveries
from core.storage.webhook_models import WebhookDelivery
from core.webhooks import outbox, payload, sender


class UnknownWebhook(GatepassError):
    def __init__(self, name: str, known: list[str]) -> None:
        names = ", ".join(known) or "none are configured"
        super().__init__(f"there is no webhook named {name!r} ({names})")


class WebhookSecretMissing(GatepassError):
    def __init__(self, name: str, source: str) -> None:
        super().__init__(f"webhook {name}: its secret is not available ({source}: not set)")


@dataclass(frozen=True)
class DeliveryView:
    id: str
    webhook: str
    event: str
    request_id: str | None
    status: str
    attempts: int
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    last_attempt_at: datetime | None
    delivered_at: datetime | None

    @classmethod
    def of(cls, row: WebhookDelivery) -> DeliveryView:
        return cls(
            id=row.id,
            webhook=row.webhook,
            event=row.event,
            request_id=row.request_id,
            status=str(row.status),
            attempts=row.attempts,
            last_status_code=row.last_status_code,
            last_error=row.last_error,
            created_at=row.created_at,
            last_attempt_at=row.last_attempt_at,
            delivered_at=row.delivered_at,
        )


async def deliveries(
    ctx: Context, *, failed_only: bool = False, webhook: str | None = None, limit: int = 200
) -> list[DeliveryView]:
    """Newest first; ``failed_only``: those whose last attempt failed (retrying or given up)."""
    if webhook is not None:
        _hook(ctx, webhook)
    async with ctx.store.reading() as session:
        rows = await webhook_deliveries.recent(
            session, failed_only=failed_only, webhook=webhook, limit=limit
        )
        return [DeliveryView.of(row) for row in rows]


def _hook(ctx: Context, name: str) -> None:
    try:
        ctx.config.webhook(name)
    except KeyError:
        raise UnknownWebhook(name, [h.name for h in ctx.config.webhooks]) from None


@dataclass(frozen=True)
class TestSent:
    webhook: str
    delivery_id: str
    outcome: sender.Outcome


async def send_test(ctx: Context, name: str) -> TestSent:
    """Send a signed ``WebhookTest`` event to the webhook now (not queued, not stored)."""
    _hook(ctx, name)
    hook = ctx.config.webhook(name)
    secret = ctx.webhook_secrets.get(name)
    if secret is None:
        raise WebhookSecretMissing(name, hook.secret.source)
    now = ctx.clock.now()
    delivery_id = outbox.new_delivery_id()
    body = payload.event_body(
        delivery_id, TEST_EVENT, at=now, actor="gatepass", platform=None, request=None, test=True
    )
    outcome = await sender.send(
        hook,
        secret,
        delivery_id=delivery_id,
        event=TEST_EVENT,
        body=payload.encode(body),
        now=now,
    )
    return TestSent(name, delivery_id, outcome)
