"""/readyz follows Slack: 503 naming the refusal while Slack answers auth.test with
invalid_auth, 200 again when it accepts the token; /healthz stays 200 and says why. Probes
arriving together share one cached run: a storm costs Slack one auth.test."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp

from tests.fakes.slack import FakeSlack
from tests.slack.harness import Harness, start_harness


async def get(url: str) -> tuple[int, dict[str, Any]]:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return response.status, await response.json()


def base(harness: Harness) -> str:
    return harness.url.removesuffix("/slack/events")


async def test_readyz_follows_slack_accepting_the_token(harness: Harness) -> None:
    status, body = await get(base(harness) + "/readyz")
    assert status == 200, body
    assert body["checks"]["slack"]["status"] == "ready"
    assert body["checks"]["database"]["status"] == "ready"

    harness.slack.fail_next("auth.test", error="invalid_auth", n=1000)
    status, body = await get(base(harness) + "/readyz")
    assert status == 503 and body["status"] == "not ready"
    assert body["checks"]["slack"] == {
        "status": "not ready",
        "problem": "auth.test refused the bot token (invalid_auth)",
        "checked_at": body["checks"]["slack"]["checked_at"],
    }
    assert body["checks"]["database"]["status"] == "ready"
    assert harness.slack.bot_token not in str(body)
    live, health = await get(base(harness) + "/healthz")
    assert live == 200
    assert health["platforms"]["slack"] == (
        "not ready: auth.test refused the bot token (invalid_auth)"
    )

    harness.slack.clear_faults()
    status, body = await get(base(harness) + "/readyz")
    assert status == 200, body


async def test_a_probe_storm_costs_slack_one_auth_test(
    slack: FakeSlack, sqlite_url: str, encryption_key: str
) -> None:
    harness = await start_harness(slack, sqlite_url, encryption_key, readiness_ttl=30)
    try:
        before = len(slack.calls_to("auth.test"))
        answers = await asyncio.gather(*(get(base(harness) + "/readyz") for _ in range(25)))
        assert {status for status, _ in answers} == {200}
        assert len(slack.calls_to("auth.test")) - before == 1
    finally:
        await harness.close()
