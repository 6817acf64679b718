"""Webhook deliveries: added with their job, updated after each attempt, listed for admins."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from core.storage.webhook_models import WebhookDelivery, WebhookDeliveryStatus

Status = WebhookDeliveryStatus
NOT_DELIVERED = (Status.RETRYING, Status.FAILED)


@dataclass(frozen=True)
class Attempt:
    """How one attempt went: ``error`` None means delivered."""

    at: datetime
    status_code: int | None
    error: str | None


async def add(
    session: AsyncSession,
    *,
    delivery_id: str,
    webhook: str,
    event: str,
    request_id: str | None,
    event_seq: int | None,
    body: str,
    at: datetime,
) -> None:
    session.add(
        WebhookDelivery(
            id=delivery_id,
            webhook=webhook,
            event=event,
            request_id=request_id,
            event_seq=event_seq,
            body=body,
            status=Status.QUEUED,
            created_at=at,
        )
    )
    await session.flush()


async def record_attempt(session: AsyncSession, delivery_id: str, attempt: Attempt) -> None:
    """Count the attempt; delivered, or retrying (a delivered one stays delivered)."""
    delivered = attempt.error is None
    values: dict[str, object] = {
        "attempts": col(WebhookDelivery.attempts) + 1,
        "last_attempt_at": attempt.at,
        "last_status_code": attempt.status_code,
        "last_error": None if delivered else (attempt.error or "")[:2000],
        "status": Status.DELIVERED if delivered else Status.RETRYING,
    }
    if delivered:
        values["delivered_at"] = attempt.at
    await session.execute(
        sa.update(WebhookDelivery)
        .where(
            col(WebhookDelivery.id) == delivery_id,
            col(WebhookDelivery.status) != Status.DELIVERED,
        )
        .values(**values)
    )


async def earlier_unsent(session: AsyncSession, row: WebhookDelivery) -> str | None:
    """The id of an earlier delivery of the same request to the same webhook that has not been
    tried yet (or is being tried now): this one waits for it, so a receiver gets them in order.
    One that failed an attempt holds nothing up."""
    if row.request_id is None or row.event_seq is None:
        return None
    found = await session.execute(
        select(col(WebhookDelivery.id))
        .where(
            col(WebhookDelivery.webhook) == row.webhook,
            col(WebhookDelivery.request_id) == row.request_id,
            col(WebhookDelivery.event_seq) < row.event_seq,
            col(WebhookDelivery.status) == Status.QUEUED,
        )
        .limit(1)
    )
    return found.scalar_one_or_none()


async def give_up(session: AsyncSession, delivery_id: str, error: str) -> None:
    await session.execute(
        sa.update(WebhookDelivery)
        .where(
            col(WebhookDelivery.id) == delivery_id,
            col(WebhookDelivery.status) != Status.DELIVERED,
        )
        .values(status=Status.FAILED, last_error=error[:2000])
    )


async def recent(
    session: AsyncSession, *, failed_only: bool, webhook: str | None, limit: int
) -> Sequence[WebhookDelivery]:
    """Newest first; ``failed_only``: those whose last attempt failed (retrying or given up)."""
    query = select(WebhookDelivery)
    if failed_only:
        query = query.where(col(WebhookDelivery.status).in_(NOT_DELIVERED))
    if webhook is not None:
        query = query.where(col(WebhookDelivery.webhook) == webhook)
    query = query.order_by(col(WebhookDelivery.created_at).desc(), col(WebhookDelivery.id))
    return (await session.execute(query.limit(limit))).scalars().all()


async def forget_delivered(session: AsyncSession, *, before: datetime) -> None:
    """Delivered ones made before ``before`` (failed ones stay, to be seen)."""
    await session.execute(
        sa.delete(WebhookDelivery).where(
            col(WebhookDelivery.status) == Status.DELIVERED,
            col(WebhookDelivery.created_at) < before,
        )
    )
