"""Both chat edges over one Gatepass whose integration is the real Atlas one, talking HTTP to
the Atlas fake (sharing the test's clock), with its resources discovered from the fake."""

from __future__ import annotations

import copy
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import aiohttp

from bot.app import build
from bot.slack.install import install as install_slack
from bot.teams.install import install as install_teams
from core.config.settings import Settings
from core.domain.lifecycle import Status
from core.use_cases import admin
from tests.cross_platform.conftest import BothPlatforms
from tests.fakes.atlas import PRIVATE_KEY, PUBLIC_KEY, FakeAtlas
from tests.fakes.slack import FakeSlack
from tests.fakes.teams import FakeBotConnector, FakeOpenIdServer, FakeTokenEndpoint
from tests.fakes.teams_channel import FakeTeamsChannel
from tests.slack.harness import SIGNING_SECRET
from tests.slack.harness import Harness as SlackHarness
from tests.support.clock import ManualClock
from tests.support.domain import BASE_CONFIG
from tests.teams.harness import TeamsHarness, serve_without_worker_loop, teams_settings


@asynccontextmanager
async def atlas_platforms(
    *,
    slack: FakeSlack,
    openid: FakeOpenIdServer,
    tokens: FakeTokenEndpoint,
    connector: FakeBotConnector,
    database_url: str,
    encryption_key: str,
    flow: dict[str, Any] | None = None,
    before_sync: Callable[[FakeAtlas], None] | None = None,
) -> AsyncIterator[tuple[BothPlatforms, FakeAtlas]]:
    """``flow``: changes to the example's access flow; ``before_sync``: shape the fake's
    resources (tags) before Gatepass discovers them."""
    clock = ManualClock()
    async with FakeAtlas(clock=clock) as atlas:
        if before_sync is not None:
            before_sync(atlas)
        settings = _settings(
            atlas, slack, openid, tokens, database_url, encryption_key, flow=flow or {}
        )
        gatepass = await build(
            settings,
            clock=clock,
            platforms=[install_slack, install_teams],
            run_worker=True,
            start_worker_loop=False,
            migrate=False,
            readiness_ttl=0.0,
        )
        assert gatepass.worker is not None
        await admin.sync_integration(gatepass.ctx, "prod-atlas")
        runner, base_url = await serve_without_worker_loop(gatepass)
        session = aiohttp.ClientSession()
        real = gatepass.ctx.integrations["prod-atlas"]
        slack_side = SlackHarness(
            gatepass=gatepass,
            slack=slack,
            runner=runner,
            session=session,
            url=base_url + "/slack/events",
            clock=clock,
            worker=gatepass.worker,
            atlas=real,  # type: ignore[arg-type]
        )
        channel = FakeTeamsChannel(openid=openid, connector=connector)
        teams_side = TeamsHarness(gatepass, clock, real, connector, channel, base_url)  # type: ignore[arg-type]
        try:
            yield BothPlatforms(slack_side, teams_side), atlas
        finally:
            await slack_side.close()
            await gatepass.close()


def _settings(
    atlas: FakeAtlas,
    slack: FakeSlack,
    openid: FakeOpenIdServer,
    tokens: FakeTokenEndpoint,
    database_url: str,
    encryption_key: str,
    *,
    flow: dict[str, Any],
) -> Settings:
    """Both platforms, the example's Atlas integration on the fake, the flow as changed."""
    integration = {**copy.deepcopy(BASE_CONFIG["integrations"][0]), "atlas_url": atlas.url}
    flows = [{**copy.deepcopy(BASE_CONFIG["access_flows"][0]), **(flow or {})}]
    return teams_settings(
        database_url=database_url,
        encryption_key=encryption_key,
        openid=openid,
        tokens=tokens,
        slack={
            "bot_token": "env:SLACK_BOT_TOKEN",
            "signing_secret": "env:SLACK_SIGNING_SECRET",
            "api_url": slack.api_url,
        },
        environ={
            "SLACK_BOT_TOKEN": slack.bot_token,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "ATLAS_KEYS": json.dumps({"public_key": PUBLIC_KEY, "private_key": PRIVATE_KEY}),
        },
        integrations=[integration],
        access_flows=flows,
    )


async def until_active(both: BothPlatforms, request_id: str, *, rounds: int = 8) -> None:
    """Run the jobs, moving the clock past Atlas's PENDING polls, until the grant is active."""
    for _ in range(rounds):
        await both.run_jobs()
        if await both.slack.status(request_id) is Status.ACTIVE:
            await both.run_jobs()  # the notices the activation queued
            return
        both.slack.clock.advance(seconds=5)
    raise AssertionError(f"{request_id} is {await both.slack.status(request_id)}, not active")
