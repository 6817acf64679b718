"""Queueing webhook deliveries in the transaction of the change that causes them.

The composition root ``subscribe``s a store to the configured webhooks once, at start; from
then on every audit event written on that store (``core.storage.audit.record``, the one place
every change is recorded) calls ``queue``: when its action is a webhook event
(``core.domain.webhook_events``) and some webhook wants it, one delivery row per webhook, with
its ``webhook`` job, is added to the same transaction. The delivery is therefore sent only
after that commit, and never lost once it is made.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from core.config.webhooks import WebhookConfig
from core.domain.webhook_events import event_of
from core.jobs.announcement_kinds import WebhookSend
from core.jobs.contract import enqueue
from core.storage import webhook_deliveries
from core.storage.store import Store
from core.webhooks import payload

SUBSCRIPTIONS = "gatepass.webhooks"


@dataclass(frozen=True)
class Subscriptions:
    hooks: tuple[WebhookConfig, ...]

    def wanting(self, event: str) -> list[WebhookConfig]:
        return [hook for hook in self.hooks if hook.wants(event)]


def subscribe(store: Store, hooks: Sequence[WebhookConfig]) -> None:
    """Every write transaction of ``store`` queues deliveries for ``hooks`` from now on."""
    if hooks:
        store.info[SUBSCRIPTIONS] = Subscriptions(tuple(hooks))
    else:
        store.info.pop(SUBSCRIPTIONS, None)


def new_delivery_id() -> str:
    return str(uuid.uuid4())


def wanted(session: AsyncSession, action: str) -> bool:
    """Whether some webhook of this session's store wants the event ``action`` is."""
    subscriptions = session.info.get(SUBSCRIPTIONS)
    event = event_of(action)
    return (
        isinstance(subscriptions, Subscriptions)
        and event is not None
        and bool(subscriptions.wanting(event))
    )


async def queue(
    session: AsyncSession,
    *,
    action: str,
    seq: int | None,
    at: datetime,
    actor: str,
    request_id: str | None,
    platform: str | None,
) -> None:
    """Queue a delivery to every webhook that wants the event ``action`` is (none: nothing)."""
    subscriptions = session.info.get(SUBSCRIPTIONS)
    event = event_of(action)
    if not isinstance(subscriptions, Subscriptions) or event is None:
        return
    hooks = subscriptions.wanting(event)
    if not hooks:
        return
    request = None if request_id is None else await payload.request_snapshot(session, request_id)
    for hook in hooks:
        delivery_id = new_delivery_id()
        body = payload.event_body(
            delivery_id, event, at=at, actor=actor, platform=platform, request=request
        )
        await webhook_deliveries.add(
            session,
            delivery_id=delivery_id,
            webhook=hook.name,
            event=event,
            request_id=request_id,
            event_seq=seq,
            body=payload.encode(body),
            at=at,
        )
        await enqueue(
            session, WebhookSend.for_delivery(delivery_id, attempts=hook.max_attempts, at=at)
        )
