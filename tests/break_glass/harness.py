"""One Gatepass app with both chat edges, its prod-atlas integration the real Atlas client talking
to the Atlas fake over HTTP, and a break-glass flow on the ``sales`` database: Alice and Dave
(data-eng) may break the glass; Bob and Carol (dba) own the integration and review."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest

from bot.app import build
from bot.slack.install import install as install_slack
from bot.teams.install import install as install_teams
from core.config.schema import parse_config
from core.config.settings import resolve_settings
from core.use_cases import admin
from tests.break_glass.config import SLACK_CHANNEL, break_glass_flow
from tests.cross_platform.conftest import BothPlatforms
from tests.fakes.atlas import CLUSTER_NAME, PRIVATE_KEY, PROJECT_ID, PUBLIC_KEY, FakeAtlas
from tests.fakes.slack import FakeSlack
from tests.fakes.teams import (
    APP_ID,
    APP_PASSWORD,
    TENANT_ID,
    FakeBotConnector,
    FakeOpenIdServer,
    FakeTokenEndpoint,
)
from tests.fakes.teams_channel import FakeTeamsChannel
from tests.slack.harness import SIGNING_SECRET
from tests.slack.harness import Harness as SlackHarness
from tests.support.clock import ManualClock
from tests.support.domain import BASE_CONFIG
from tests.teams.harness import TeamsHarness, serve_without_worker_loop


def config(atlas: FakeAtlas, slack: FakeSlack, database_url: str, openid: Any, tokens: Any) -> Any:
    data = copy.deepcopy(BASE_CONFIG)
    integration = data["integrations"][0]
    integration.update(
        project_id=PROJECT_ID,
        cluster_name=CLUSTER_NAME,
        atlas_url=atlas.url,
        secret={"public_key": "env:ATLAS_PUBLIC", "private_key": "env:ATLAS_PRIVATE"},
    )
    ordinary = data["access_flows"][0]
    ordinary["resources"] = ["database:analytics*", "cluster:Cluster0"]
    data["access_flows"] = [ordinary, break_glass_flow(resources=["database:sales"])]
    data |= {
        "database_url": database_url,
        "encryption_key": "env:GATEPASS_KEY",
        "server": {"host": "127.0.0.1", "port": 3978},
        "slack": {
            "bot_token": "env:SLACK_BOT_TOKEN",
            "signing_secret": "env:SLACK_SIGNING_SECRET",
            "api_url": slack.api_url,
        },
        "teams": {
            "app_id": "env:TEAMS_APP_ID",
            "app_password": "env:TEAMS_APP_PASSWORD",
            "tenant_id": "env:TEAMS_TENANT_ID",
            "token_url": tokens.token_url(),
            "openid_metadata_url": openid.metadata_url,
        },
    }
    return parse_config(data)


@dataclass
class World(BothPlatforms):
    atlas: FakeAtlas
    clock: ManualClock

    async def settle(self) -> None:
        """Run the due jobs, moving time past Atlas's deploy polls (a few seconds)."""
        for _ in range(4):
            await self.slack.run_jobs()
            self.clock.advance(seconds=6)
        await self.slack.run_jobs()


@pytest.fixture
async def world(
    slack: FakeSlack,
    sqlite_url: str,
    encryption_key: str,
    openid: FakeOpenIdServer,
    token_endpoint: FakeTokenEndpoint,
    connector: FakeBotConnector,
) -> AsyncIterator[World]:
    clock = ManualClock()
    slack.add_channel(SLACK_CHANNEL)
    async with FakeAtlas(clock=clock) as atlas:
        environ = {
            "GATEPASS_KEY": encryption_key,
            "ATLAS_PUBLIC": PUBLIC_KEY,
            "ATLAS_PRIVATE": PRIVATE_KEY,
            "SLACK_BOT_TOKEN": slack.bot_token,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "TEAMS_APP_ID": APP_ID,
            "TEAMS_APP_PASSWORD": APP_PASSWORD,
            "TEAMS_TENANT_ID": TENANT_ID,
        }
        parsed = config(atlas, slack, sqlite_url, openid, token_endpoint)
        settings = resolve_settings(parsed, config_path="test", environ=environ)
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
        slack_side = SlackHarness(
            gatepass=gatepass,
            slack=slack,
            runner=runner,
            session=session,
            url=base_url + "/slack/events",
            clock=clock,
            worker=gatepass.worker,
            atlas=atlas,  # type: ignore[arg-type]
        )
        channel = FakeTeamsChannel(openid=openid, connector=connector)
        teams_side = TeamsHarness(gatepass, clock, atlas, connector, channel, base_url)  # type: ignore[arg-type]
        yield World(slack_side, teams_side, atlas, clock)
        await slack_side.close()
        await gatepass.ctx.store.close()
