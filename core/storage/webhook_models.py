"""The outbound webhook deliveries table (re-exported by ``core.storage.models``)."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from core.storage.models import _enum, _time


class WebhookDeliveryStatus(enum.StrEnum):
    QUEUED = "queued"  # not tried yet
    RETRYING = "retrying"  # the last attempt failed; another follows
    DELIVERED = "delivered"
    FAILED = "failed"  # gave up: its attempts ran out, or it cannot be sent


class WebhookDelivery(SQLModel, table=True):
    """One event for one webhook: the exact body sent on every attempt (``id`` is the delivery
    id the receiver deduplicates on), and how its attempts went. Queued with its ``webhook`` job
    in the transaction of the change that caused it (``core.webhooks.outbox``)."""

    __tablename__ = "webhook_deliveries"

    id: str = Field(primary_key=True, max_length=36)
    webhook: str = Field(max_length=64, index=True)
    event: str = Field(max_length=32)
    request_id: str | None = Field(default=None, max_length=16, index=True)
    # The causing audit event's number: a request's deliveries to one webhook go in this order.
    event_seq: int | None = None
    body: str = Field(sa_column=sa.Column(sa.Text(), nullable=False))
    status: WebhookDeliveryStatus = _enum(WebhookDeliveryStatus, 16, index=True)
    attempts: int = 0
    last_status_code: int | None = None
    last_error: str | None = Field(default=None, max_length=2000)
    created_at: datetime = _time(index=True)
    last_attempt_at: datetime | None = _time(nullable=True)
    delivered_at: datetime | None = _time(nullable=True)
