"""Outbound credentials: configurable token URL, single-tenant path, caching, failures."""

from __future__ import annotations

import pytest

from bot.teams.auth import (
    ClientCredentialsTokens,
    OutboundTokenError,
    SigningKeys,
    default_token_url,
    require_secure_url,
)
from bot.teams.endpoint import TeamsEndpoint, build_teams_endpoint
from core.config.schema import TeamsConfig
from core.config.secrets import SecretValue
from core.config.settings import TeamsSecrets
from tests.fakes.teams import (
    APP_ID,
    APP_PASSWORD,
    TENANT_ID,
    FakeBotConnector,
    FakeOpenIdServer,
    FakeTokenEndpoint,
)
from tests.fakes.teams_channel import FakeTeamsChannel
from tests.teams_plumbing.conftest import ALICE, FakeClock, RecordingBot, serve


def test_default_token_urls() -> None:
    assert default_token_url() == (
        "https://login.microsoftonline.com/botframework.com/oauth2/v2.0/token"
    )
    assert default_token_url(TENANT_ID) == (
        f"https://login.microsoftonline.com/{TENANT_ID}/oauth2/v2.0/token"
    )


def test_single_tenant_endpoint_defaults_to_the_tenants_token_url(bot: RecordingBot) -> None:
    endpoint = TeamsEndpoint.authenticated(
        app_id=APP_ID, app_password=APP_PASSWORD, tenant_id=TENANT_ID, bot=bot
    )
    assert endpoint.credentials.tokens is not None
    assert endpoint.credentials.tokens.token_url == default_token_url(TENANT_ID)
    assert endpoint.tenant_id == TENANT_ID
    assert endpoint.app_id == APP_ID


async def test_single_tenant_round_trip_from_settings(
    openid: FakeOpenIdServer,
    token_endpoint: FakeTokenEndpoint,
    connector: FakeBotConnector,
    bot: RecordingBot,
) -> None:
    config = TeamsConfig(
        app_id="env:A",
        app_password="env:P",
        tenant_id="env:T",
        token_url=token_endpoint.token_url(TENANT_ID),
        openid_metadata_url=openid.metadata_url,
    )
    secrets = TeamsSecrets(SecretValue(APP_ID), SecretValue(APP_PASSWORD), SecretValue(TENANT_ID))
    endpoint = build_teams_endpoint(config=config, secrets=secrets, bot=bot, host="0.0.0.0")
    channel = FakeTeamsChannel(openid=openid, connector=connector)
    other_tenant = FakeTeamsChannel(openid=openid, connector=connector, tenant_id="other-tenant")
    runner, url = await serve(endpoint)
    try:
        ok, _ = await channel.post(url, channel.message("hi", user=ALICE))
        foreign, _ = await other_tenant.post(url, other_tenant.message("hi", user=ALICE))
    finally:
        await runner.cleanup()
    assert (ok, foreign) == (201, 403)
    assert [r.tenant for r in token_endpoint.requests] == [TENANT_ID]
    assert [a.text for a in connector.activities] == ["echo: hi"]
    assert len(bot.turns) == 1


async def test_wrong_password_answers_502_before_the_bot_runs(
    openid: FakeOpenIdServer,
    token_endpoint: FakeTokenEndpoint,
    channel: FakeTeamsChannel,
    bot: RecordingBot,
) -> None:
    endpoint = TeamsEndpoint.authenticated(
        app_id=APP_ID,
        app_password="wrong",
        token_url=token_endpoint.token_url(),
        openid_metadata_url=openid.metadata_url,
        bot=bot,
    )
    runner, url = await serve(endpoint)
    try:
        status, _ = await channel.post(url, channel.message("hi", user=ALICE))
    finally:
        await runner.cleanup()
    assert status == 502
    assert bot.turns == []
    assert [r.granted for r in token_endpoint.requests] == [False]


async def test_token_is_cached_until_shortly_before_expiry(
    token_endpoint: FakeTokenEndpoint,
) -> None:
    clock = FakeClock()
    tokens = ClientCredentialsTokens(
        token_url=token_endpoint.token_url(),
        client_id=APP_ID,
        client_secret=SecretValue(APP_PASSWORD),
        clock=clock,
    )
    scope = "https://api.botframework.com"
    first = await tokens.get(scope)
    clock.now += 3000  # 3599 s lifetime, refreshed 300 s early
    assert await tokens.get(scope) == first
    assert tokens.get_blocking(scope) == first
    clock.now += 400
    second = await tokens.get(scope)
    assert second != first
    assert await tokens.get(scope, force_refresh=True) != second
    assert len(token_endpoint.requests) == 3
    assert token_endpoint.requests[0].scope == "https://api.botframework.com/.default"


async def test_short_lived_tokens_refresh_at_half_life(token_endpoint: FakeTokenEndpoint) -> None:
    token_endpoint.expires_in = 60
    clock = FakeClock()
    tokens = ClientCredentialsTokens(
        token_url=token_endpoint.token_url(),
        client_id=APP_ID,
        client_secret=SecretValue(APP_PASSWORD),
        clock=clock,
    )
    first = await tokens.get("https://api.botframework.com")
    clock.now += 29
    assert await tokens.get("https://api.botframework.com") == first
    clock.now += 2
    assert await tokens.get("https://api.botframework.com") != first


async def test_refused_credentials_raise_without_revealing_the_secret(
    token_endpoint: FakeTokenEndpoint,
) -> None:
    tokens = ClientCredentialsTokens(
        token_url=token_endpoint.token_url(),
        client_id=APP_ID,
        client_secret=SecretValue("s3cr3t-value"),
    )
    with pytest.raises(OutboundTokenError, match="invalid_client") as raised:
        await tokens.get("https://api.botframework.com")
    assert "s3cr3t-value" not in str(raised.value)
    assert "s3cr3t-value" not in repr(tokens)


@pytest.mark.parametrize(
    "url",
    ["http://login.example.com/t/oauth2/v2.0/token", "ftp://127.0.0.1/x", "https:///no-host"],
)
def test_insecure_urls_are_refused(url: str) -> None:
    with pytest.raises(ValueError, match="https"):
        require_secure_url(url, what="teams.token_url")
    with pytest.raises(ValueError, match="https"):
        SigningKeys(metadata_url=url)
    with pytest.raises(ValueError, match="https"):
        ClientCredentialsTokens(token_url=url, client_id=APP_ID, client_secret=SecretValue("x"))


@pytest.mark.parametrize(
    "url",
    [
        "https://login.example.com/x",
        "http://127.0.0.1:8080/x",
        "http://localhost/x",
        "http://[::1]:9/x",
    ],
)
def test_https_and_loopback_urls_are_accepted(url: str) -> None:
    assert require_secure_url(url, what="teams.token_url") == url


def test_missing_credentials_are_a_clear_error(bot: RecordingBot) -> None:
    with pytest.raises(ValueError, match="app_id and app_password"):
        TeamsEndpoint.authenticated(app_id="", app_password="", bot=bot)
    config = TeamsConfig(app_id="env:A", app_password="env:P")
    with pytest.raises(ValueError, match="could not be resolved"):
        build_teams_endpoint(config=config, secrets=None, bot=bot, host="0.0.0.0")
