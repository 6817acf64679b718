"""``gatepass webhooks deliveries`` and ``gatepass webhooks test``: what was sent to the
webhooks and how it went, over core's webhook use cases."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from bot.admin import context
from bot.output import emit, fail, table
from core.config.settings import Settings
from core.domain.errors import GatepassError
from core.use_cases import webhooks

COLUMNS = ["id", "webhook", "event", "request_id", "status", "attempts", "last_error", "created_at"]


async def list_deliveries(
    settings: Settings, *, failed: bool, webhook: str | None, limit: int, as_json: bool
) -> None:
    async with context(settings) as ctx:
        try:
            found = await webhooks.deliveries(ctx, failed_only=failed, webhook=webhook, limit=limit)
        except GatepassError as error:
            fail(str(error))
    rows: list[dict[str, Any]] = [asdict(view) for view in found]
    emit(rows, as_json, table(rows, COLUMNS))


async def send_test(settings: Settings, name: str, *, as_json: bool) -> None:
    async with context(settings) as ctx:
        try:
            sent = await webhooks.send_test(ctx, name)
        except GatepassError as error:
            fail(str(error))
    outcome = sent.outcome
    data = {
        "webhook": name,
        "delivery_id": sent.delivery_id,
        "delivered": outcome.delivered,
        "status_code": outcome.status_code,
        "error": outcome.error,
        "milliseconds": round(outcome.seconds * 1000),
    }
    line = f"webhook {name}: test event {outcome.describe()}, delivery {sent.delivery_id}"
    if not outcome.delivered:
        fail(line, data=data, as_json=as_json)
    emit(data, as_json, line)
