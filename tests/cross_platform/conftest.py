"""One Gatepass app with both chat edges installed, served on 127.0.0.1: the fake Slack Web API
(signed requests to /slack/events) and the Bot Framework fakes (JWT-authenticated activities to
/api/messages). Both sides share the database, the clock and the job worker; jobs run when a
test says so."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import aiohttp
import pytest

from bot.slack.install import install as install_slack
from bot.teams.install import install as install_teams
from tests.fakes.slack import FakeSlack
from tests.fakes.teams import FakeBotConnector, FakeOpenIdServer, FakeTokenEndpoint
from tests.fakes.teams_channel import FakeTeamsChannel
from tests.slack.harness import PEOPLE, SIGNING_SECRET
from tests.slack.harness import Harness as SlackHarness
from tests.support.clock import ManualClock
from tests.support.memory_integration import MemoryIntegration
from tests.teams.harness import MEMBERS, PASSWORD_MARK, TeamsHarness, start_gatepass, teams_settings


@dataclass
class BothPlatforms:
    slack: SlackHarness
    teams: TeamsHarness

    async def run_jobs(self) -> int:
        """Run the due jobs, then let the Slack edge finish what it does after its acks."""
        return await self.slack.run_jobs()


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as fake:
        for user_id, (email, name) in PEOPLE.items():
            fake.add_user(user_id, email=email, real_name=name)
        yield fake


@pytest.fixture
def openid() -> Iterator[FakeOpenIdServer]:
    with FakeOpenIdServer() as server:
        yield server


@pytest.fixture
def token_endpoint() -> Iterator[FakeTokenEndpoint]:
    with FakeTokenEndpoint() as server:
        yield server


@pytest.fixture
async def connector(token_endpoint: FakeTokenEndpoint) -> AsyncIterator[FakeBotConnector]:
    async with FakeBotConnector(tokens=token_endpoint) as server:
        for member in MEMBERS:
            server.add_member(member)
        yield server


@pytest.fixture
async def both(
    slack: FakeSlack,
    sqlite_url: str,
    encryption_key: str,
    openid: FakeOpenIdServer,
    token_endpoint: FakeTokenEndpoint,
    connector: FakeBotConnector,
) -> AsyncIterator[BothPlatforms]:
    settings = teams_settings(
        database_url=sqlite_url,
        encryption_key=encryption_key,
        openid=openid,
        tokens=token_endpoint,
        slack={
            "bot_token": "env:SLACK_BOT_TOKEN",
            "signing_secret": "env:SLACK_SIGNING_SECRET",
            "api_url": slack.api_url,
        },
        environ={"SLACK_BOT_TOKEN": slack.bot_token, "SLACK_SIGNING_SECRET": SIGNING_SECRET},
    )
    clock = ManualClock()
    atlas = MemoryIntegration("prod-atlas")
    gatepass, runner, base_url = await start_gatepass(
        settings, clock=clock, atlas=atlas, platforms=[install_slack, install_teams]
    )
    assert gatepass.platforms == {"slack": "ready", "teams": "ready"}
    assert gatepass.worker is not None
    session = aiohttp.ClientSession()
    slack_side = SlackHarness(
        gatepass=gatepass,
        slack=slack,
        runner=runner,
        session=session,
        url=base_url + "/slack/events",
        clock=clock,
        worker=gatepass.worker,
        atlas=atlas,
    )
    channel = FakeTeamsChannel(openid=openid, connector=connector)
    teams_side = TeamsHarness(gatepass, clock, atlas, connector, channel, base_url)
    yield BothPlatforms(slack_side, teams_side)
    await slack_side.close()
    assert PASSWORD_MARK not in teams_side.everything_sent()
