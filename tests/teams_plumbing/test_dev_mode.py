"""Dev mode: no app id and no JWT check, and therefore loopback only."""

from __future__ import annotations

import pytest

from bot.teams.endpoint import (
    DevModeRefused,
    TeamsEndpoint,
    assert_dev_mode_allowed,
    build_teams_endpoint,
)
from core.config.schema import TeamsConfig
from tests.fakes.teams import FakeBotConnector, FakeOpenIdServer
from tests.fakes.teams_channel import FakeTeamsChannel
from tests.teams_plumbing.conftest import ALICE, RecordingBot, serve


@pytest.mark.parametrize(
    "host",
    ["127.0.0.1", "127.8.9.10", "::1", "[::1]", "localhost", "LOCALHOST", "::ffff:127.0.0.1"],
)
def test_loopback_hosts_allow_dev_mode(host: str) -> None:
    assert_dev_mode_allowed(host)


@pytest.mark.parametrize(
    "host",
    [
        "0.0.0.0",
        "::",
        "",
        "10.0.0.5",
        "192.168.1.20",
        "gatepass.example.com",
        "::ffff:10.0.0.1",
        "localhost.example.com",
        "128.0.0.1",
    ],
)
def test_other_hosts_refuse_dev_mode(host: str) -> None:
    with pytest.raises(DevModeRefused, match="loopback"):
        assert_dev_mode_allowed(host)


def _dev_config() -> TeamsConfig:
    return TeamsConfig(
        app_id="env:TEAMS_APP_ID", app_password="env:TEAMS_APP_PASSWORD", dev_mode=True
    )


def test_dev_mode_config_on_a_public_host_is_refused(bot: RecordingBot) -> None:
    with pytest.raises(DevModeRefused):
        build_teams_endpoint(config=_dev_config(), secrets=None, bot=bot, host="0.0.0.0")
    with pytest.raises(DevModeRefused):
        TeamsEndpoint.dev(host="gatepass.example.com", bot=bot)


async def test_dev_mode_serves_unauthenticated_activities_on_loopback(
    openid: FakeOpenIdServer, bot: RecordingBot
) -> None:
    endpoint = build_teams_endpoint(config=_dev_config(), secrets=None, bot=bot, host="127.0.0.1")
    assert endpoint.dev_mode and endpoint.app_id is None
    async with FakeBotConnector(tokens=None) as connector:
        channel = FakeTeamsChannel(openid=openid, connector=connector)
        runner, url = await serve(endpoint)
        try:
            status, _ = await channel.post(url, channel.message("hi", user=ALICE), token=None)
            reply = await connector.wait_for_activity()
            remote = channel.message("hi", user=ALICE, serviceUrl="https://smba.example.com/")
            refused, _ = await channel.post(url, remote, token=None)
        finally:
            await runner.cleanup()
    assert status == 201
    assert reply.text == "echo: hi"
    assert refused == 401  # dev mode never sends to a non-loopback serviceUrl
    assert [turn.text for turn in bot.turns] == ["hi"]
    assert openid.metadata_requests == 0
