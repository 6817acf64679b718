"""Fixtures: the Bot Framework fakes and the whole Gatepass app with its Teams edge on
loopback (see ``tests.teams.harness``)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from bot.teams.install import install
from tests.fakes.teams import FakeBotConnector, FakeOpenIdServer, FakeTokenEndpoint
from tests.fakes.teams_channel import FakeTeamsChannel
from tests.support.clock import ManualClock
from tests.support.memory_integration import MemoryIntegration
from tests.teams.harness import (
    MEMBERS,
    PASSWORD_MARK,
    TeamsHarness,
    start_gatepass,
    teams_settings,
)


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
def channel(openid: FakeOpenIdServer, connector: FakeBotConnector) -> FakeTeamsChannel:
    return FakeTeamsChannel(openid=openid, connector=connector)


@pytest.fixture
def flow_changes() -> dict[str, object]:
    """Config overrides for one test module (``config_with`` keys)."""
    return {}


@pytest.fixture
async def teams(
    sqlite_url: str,
    encryption_key: str,
    openid: FakeOpenIdServer,
    token_endpoint: FakeTokenEndpoint,
    connector: FakeBotConnector,
    channel: FakeTeamsChannel,
    flow_changes: dict[str, object],
) -> AsyncIterator[TeamsHarness]:
    settings = teams_settings(
        database_url=sqlite_url,
        encryption_key=encryption_key,
        openid=openid,
        tokens=token_endpoint,
        **flow_changes,
    )
    clock, atlas = ManualClock(), MemoryIntegration("prod-atlas")
    gatepass, runner, base_url = await start_gatepass(
        settings, clock=clock, atlas=atlas, platforms=[install]
    )
    harness = TeamsHarness(gatepass, clock, atlas, connector, channel, base_url)
    yield harness
    await runner.cleanup()
    # Whatever the test did: no password ever went through the connector.
    assert PASSWORD_MARK not in harness.everything_sent()
    assert connector.rejected == 0
