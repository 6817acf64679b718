"""The composition root assembles once: the context is frozen, the worker listens to the
context's doorbell, and the notice jobs send through the notifiers the platforms handed over."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import timedelta

import pytest

from bot.app import build
from core.config.schema import parse_config
from core.config.settings import resolve_settings
from core.domain.messages import ApprovalRequested, RequestReceived
from core.domain.ports import NoDoorbell
from core.storage import resources
from core.use_cases import requests
from core.use_cases.eligibility import Draft
from tests.support.clock import ManualClock
from tests.support.domain import RESOURCES, config_with
from tests.support.memory_integration import MemoryIntegration
from tests.support.recording_notifier import RecordingNotifier, recording_platform


async def test_one_assembly_rings_the_worker_and_reaches_the_notifiers(
    sqlite_url: str, encryption_key: str
) -> None:
    settings = resolve_settings(
        parse_config(config_with(database_url=sqlite_url, encryption_key="env:KEY")),
        config_path="t",
        environ={"KEY": encryption_key},
    )
    chat = RecordingNotifier()
    clock = ManualClock()
    gatepass = await build(
        settings,
        clock=clock,
        integrations={"prod-atlas": MemoryIntegration("prod-atlas", resources=list(RESOURCES))},
        platforms=[recording_platform(chat)],
        migrate=False,
        worker_poll=3600,  # only the doorbell can wake it within the test
    )
    ctx = gatepass.ctx
    with pytest.raises(dataclasses.FrozenInstanceError):
        ctx.doorbell = NoDoorbell()  # type: ignore[misc]
    assert gatepass.notifiers == (chat,)
    assert gatepass.platforms == {"recording-slack": "ready"}
    async with ctx.store.transaction() as session:
        await resources.replace_discovered(session, "prod-atlas", RESOURCES, at=clock.now())
    await gatepass.start_background()
    try:
        await asyncio.sleep(0.2)  # the worker ran what start queued and now waits
        draft = Draft("prod-atlas", "database", "analytics", "read", timedelta(hours=1), "why")
        await requests.submit(ctx, requester="alice@example.com", draft=draft, platform="slack")
        for _ in range(100):
            if chat.to("alice@example.com", RequestReceived) and chat.to("bob@example.com"):
                break
            await asyncio.sleep(0.05)
        assert chat.to("bob@example.com", ApprovalRequested)
        assert chat.to("alice@example.com", RequestReceived)
    finally:
        await gatepass.close()
