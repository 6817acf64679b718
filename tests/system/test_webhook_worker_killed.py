"""`gatepass worker` killed with SIGKILL while a webhook receiver holds its answer: the delivery
is not lost. The restarted worker takes the dead one's job over and sends the same delivery (same
delivery id, same body, signed again) until the receiver takes it; then it is marked delivered.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from core.storage.webhook_models import WebhookDelivery
from core.webhooks import signing
from tests.cli.test_serve import free_port
from tests.fakes.webhook_receiver import WebhookReceiver
from tests.support.gatepass_process import launch
from tests.webhooks.conftest import SECRET, valid
from tests.webhooks.processes import Setup, setup

pytestmark = pytest.mark.slow


@pytest.fixture
async def receiver() -> AsyncIterator[WebhookReceiver]:
    async with WebhookReceiver() as running:
        yield running


async def delivery(rig: Setup) -> WebhookDelivery:
    async with rig.ctx.store.reading() as session:
        rows = (await session.execute(WebhookDelivery.__table__.select())).all()  # type: ignore[attr-defined]
    (row,) = rows
    return WebhookDelivery(**row._mapping)


async def delivered(rig: Setup, timeout: float = 60) -> WebhookDelivery:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        row = await delivery(rig)
        if row.status == "delivered":
            return row
        await asyncio.sleep(0.1)
    raise AssertionError(f"not delivered: {row.status} {row.last_error}")


async def test_a_worker_killed_mid_delivery_loses_nothing(
    tmp_path: Path, database_url: str, encryption_key: str, receiver: WebhookReceiver
) -> None:
    receiver.hold()
    async with setup(tmp_path, database_url, encryption_key, receiver.url) as rig:
        port = free_port()
        first = await launch("worker", rig.path, rig.env, port=port)
        try:
            request_id = await rig.submit()
            (sent,) = await receiver.until(lambda got: len(got) >= 1, timeout=60)
            first.kill_hard()
        finally:
            if first.process.poll() is None:
                first.process.kill()
        receiver.release()
        row = await delivery(rig)
        assert row.status == "queued" and row.delivered_at is None  # in flight when it died

        killed_at = time.monotonic()
        second = await launch("worker", rig.path, rig.env, port=port)
        try:
            row = await delivered(rig)
            took = time.monotonic() - killed_at
        finally:
            output = await second.stop()
    assert len(receiver.arrived) == 2, output
    again = receiver.arrived[1]
    assert again.delivery_id == sent.delivery_id == row.id
    assert again.body == sent.body
    assert valid(again)["request"]["id"] == request_id
    for arrived in receiver.arrived:
        header = arrived.headers[signing.SIGNATURE_HEADER]
        timestamp = int(header.split(",")[0].removeprefix("t="))
        assert signing.verify(SECRET, header, arrived.body, now=timestamp)
    print(f"delivered {took:.1f} s after the restart began (worker start included)")
