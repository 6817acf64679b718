"""Readiness of an Atlas integration follows its last call: ready before any call and while
calls succeed, not ready (naming the endpoint and the answer) once one fails."""

from __future__ import annotations

from typing import Any

import aiohttp
import httpx
import pytest

from bot.health import Readiness, integration_check
from core.config.schema import parse_config
from core.config.secrets import SecretValue
from core.domain.ports import SystemClock
from core.integrations import build_integration
from core.integrations.atlas.client import RetryPolicy
from core.integrations.atlas.errors import AtlasUnavailable
from tests.support.domain import BASE_CONFIG


async def get(url: str) -> tuple[int, dict[str, Any]]:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return response.status, await response.json()


async def test_an_atlas_integration_is_ready_until_its_last_call_fails() -> None:
    config = parse_config(BASE_CONFIG).integrations[0]
    secret_values = {"public_key": "abcdefgh", "private_key": "00000000-aaaa-bbbb-cccc-dddddddd"}
    secret = {k: SecretValue(v) for k, v in secret_values.items()}
    down = httpx.MockTransport(lambda request: httpx.Response(503, json={"error": 503}))

    async def no_sleep(_seconds: float) -> None:
        return None

    integration = build_integration(
        config,
        secret,
        clock=SystemClock(),
        transport=down,
        retry=RetryPolicy(attempts=2, sleep=no_sleep),
    )
    readiness = Readiness([integration_check(integration)], ttl=0)
    ready, body = await readiness.report()
    assert ready, body  # no call yet: nothing known to be wrong
    with pytest.raises(AtlasUnavailable):
        await integration.check()
    ready, body = await readiness.report()
    assert not ready
    assert body["checks"]["integration prod-atlas"]["problem"] == (
        "last call GET /groups/{}: HTTP 503"
    )
