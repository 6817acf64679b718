"""The app both collection suites run against: Slack and Teams on one Gatepass whose
``prod-atlas`` is the real Atlas integration, talking HTTP to the Atlas wire fake, with a flow
that allows collections (``collection:analytics.events*``, ``collection:sales.*``)."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from bot.app import Gatepass, build
from bot.slack.install import install as install_slack
from bot.teams.install import install as install_teams
from core.config.settings import Settings
from core.storage import resources
from tests.cross_platform.conftest import BothPlatforms
from tests.fakes.atlas import PRIVATE_KEY, PUBLIC_KEY, FakeAtlas
from tests.fakes.slack import FakeSlack
from tests.fakes.teams import FakeBotConnector, FakeOpenIdServer, FakeTokenEndpoint
from tests.fakes.teams_channel import FakeTeamsChannel
from tests.slack.harness import SIGNING_SECRET
from tests.slack.harness import Harness as SlackHarness
from tests.support.clock import ManualClock
from tests.support.domain import BASE_CONFIG, RESOURCES
from tests.support.memory_integration import MemoryIntegration
from tests.teams.harness import TeamsHarness, serve_without_worker_loop, teams_settings

COLLECTION_FLOW: dict[str, Any] = {
    "name": "collections",
    "requestors": [{"attribute": "group", "value": "data-eng"}],
    "integration": "prod-atlas",
    "resources": ["collection:analytics.events*", "collection:sales.*", "database:analytics"],
    "permissions": ["read", "readWrite", "dbAdmin"],
    "durations": ["1h", "2h"],
    "approvers": "owners",
    "require_justification": True,
}


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def atlas(clock: ManualClock) -> AsyncIterator[FakeAtlas]:
    async with FakeAtlas(clock=clock) as fake:
        yield fake


def _settings(
    slack: FakeSlack,
    sqlite_url: str,
    encryption_key: str,
    openid: FakeOpenIdServer,
    token_endpoint: FakeTokenEndpoint,
    atlas: FakeAtlas,
) -> Settings:
    """Both platforms; ``prod-atlas`` on the Atlas fake; the example's flows and a collection
    flow."""
    integration = {
        **BASE_CONFIG["integrations"][0],
        "atlas_url": atlas.url,
        "secret": {"public_key": "env:ATLAS_PUBLIC", "private_key": "env:ATLAS_PRIVATE"},
    }
    return teams_settings(
        database_url=sqlite_url,
        encryption_key=encryption_key,
        openid=openid,
        tokens=token_endpoint,
        slack={
            "bot_token": "env:SLACK_BOT_TOKEN",
            "signing_secret": "env:SLACK_SIGNING_SECRET",
            "api_url": slack.api_url,
        },
        environ={
            "SLACK_BOT_TOKEN": slack.bot_token,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "ATLAS_PUBLIC": PUBLIC_KEY,
            "ATLAS_PRIVATE": PRIVATE_KEY,
        },
        integrations=[integration],
        access_flows=[*copy.deepcopy(BASE_CONFIG["access_flows"]), COLLECTION_FLOW],
    )


@pytest.fixture
async def both(
    slack: FakeSlack,
    sqlite_url: str,
    encryption_key: str,
    openid: FakeOpenIdServer,
    token_endpoint: FakeTokenEndpoint,
    connector: FakeBotConnector,
    atlas: FakeAtlas,
    clock: ManualClock,
) -> AsyncIterator[BothPlatforms]:
    """Slack and Teams on one app whose ``prod-atlas`` is the real integration, over HTTP."""
    settings = _settings(slack, sqlite_url, encryption_key, openid, token_endpoint, atlas)
    gatepass: Gatepass = await build(
        settings,
        clock=clock,
        platforms=[install_slack, install_teams],
        run_worker=True,
        start_worker_loop=False,
        migrate=False,
        readiness_ttl=0.0,
    )
    async with gatepass.ctx.store.transaction() as session:
        await resources.replace_discovered(session, "prod-atlas", RESOURCES, at=clock.now())
    runner, base_url = await serve_without_worker_loop(gatepass)
    assert gatepass.worker is not None
    unused = MemoryIntegration("unused")
    slack_side = SlackHarness(
        gatepass=gatepass,
        slack=slack,
        runner=runner,
        session=aiohttp.ClientSession(),
        url=base_url + "/slack/events",
        clock=clock,
        worker=gatepass.worker,
        atlas=unused,
    )
    channel = FakeTeamsChannel(openid=openid, connector=connector)
    yield BothPlatforms(
        slack_side, TeamsHarness(gatepass, clock, unused, connector, channel, base_url)
    )
    await slack_side.close()
    await gatepass.close()
