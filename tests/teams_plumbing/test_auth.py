"""Every unauthenticated or wrongly authenticated request: 401, and no bot code runs."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import jwt
import pytest
from botframework.connector.auth import JwtTokenExtractor

from bot.teams.auth import SigningKeys, SigningKeysUnavailable, UnknownSigningKey
from bot.teams.endpoint import TeamsEndpoint
from tests.fakes.teams import (
    APP_ID,
    APP_PASSWORD,
    FakeBotConnector,
    FakeOpenIdServer,
    FakeTokenEndpoint,
    rsa_key,
)
from tests.fakes.teams_channel import FakeTeamsChannel
from tests.teams_plumbing.conftest import ALICE, FakeClock, RecordingBot, serve

EMULATOR_ISSUER = "https://sts.windows.net/d6d49420-f39b-4df7-a1dc-d59a935871db/"

BROKEN_TOKENS: dict[str, dict[str, Any]] = {
    "wrong audience": {"audience": "00000000-0000-0000-0000-000000000000"},
    "wrong issuer": {"issuer": "https://evil.example.com"},
    "emulator issuer": {"issuer": EMULATOR_ISSUER, "claims": {"ver": "1.0", "appid": APP_ID}},
    "expired": {"expired": True},
    "not yet valid": {"not_before": int(time.time()) + 3600},
    "bad signature": {"bad_signature": True},
    "unknown key": {"kid": "not-a-published-key"},
    "other service url": {"service_url": "http://127.0.0.1:9/"},
    "skill token": {"claims": {"ver": "2.0", "azp": "11111111-1111-1111-1111-111111111111"}},
}


def _assert_nothing_ran(
    bot: RecordingBot, connector: FakeBotConnector, token_endpoint: FakeTokenEndpoint
) -> None:
    assert bot.turns == []
    assert connector.activities == []
    assert token_endpoint.requests == []


@pytest.mark.parametrize("broken", BROKEN_TOKENS.values(), ids=BROKEN_TOKENS.keys())
async def test_broken_tokens_are_refused(
    broken: dict[str, Any],
    channel: FakeTeamsChannel,
    bot_url: str,
    bot: RecordingBot,
    connector: FakeBotConnector,
    token_endpoint: FakeTokenEndpoint,
) -> None:
    for kind in ("message", "invoke"):
        activity = (
            channel.message("hi", user=ALICE)
            if kind == "message"
            else channel.card_action(verb="approve", user=ALICE)
        )
        status, _ = await channel.post(bot_url, activity, token=channel.token(**broken))
        assert status == 401, kind
    _assert_nothing_ran(bot, connector, token_endpoint)


HEADERS = {
    "missing": None,
    "empty": "",
    "basic scheme": "Basic YWxpY2U6c2VjcmV0",
    "bearer without token": "Bearer",
    "not a jwt": "Bearer not-a-jwt",
    "two tokens": "Bearer a.b.c d.e.f",
}


@pytest.mark.parametrize("header", HEADERS.values(), ids=HEADERS.keys())
async def test_missing_or_malformed_authorization_is_refused(
    header: str | None,
    channel: FakeTeamsChannel,
    bot_url: str,
    bot: RecordingBot,
    connector: FakeBotConnector,
    token_endpoint: FakeTokenEndpoint,
) -> None:
    headers = {} if header is None else {"Authorization": header}
    status, _ = await channel.post(
        bot_url, channel.message("hi", user=ALICE), token=None, headers=headers
    )
    assert status == 401
    _assert_nothing_ran(bot, connector, token_endpoint)


async def test_symmetric_token_signed_with_public_key_is_refused(
    channel: FakeTeamsChannel, bot_url: str, bot: RecordingBot
) -> None:
    claims = {
        "iss": "https://api.botframework.com",
        "aud": APP_ID,
        "serviceurl": channel.connector.url,
        "exp": int(time.time()) + 600,
    }
    forged = jwt.encode(
        claims,
        "public-key-as-hmac-secret-0123456789abcdef",
        algorithm="HS256",
        headers={"kid": channel.openid.kid},
    )
    status, _ = await channel.post(bot_url, channel.message("hi", user=ALICE), token=forged)
    assert status == 401
    assert bot.turns == []


async def test_channel_the_key_does_not_endorse_is_refused(
    channel: FakeTeamsChannel, bot_url: str, bot: RecordingBot
) -> None:
    activity = channel.message("hi", user=ALICE, channelId="slack")
    assert (await channel.post(bot_url, activity))[0] == 401
    assert bot.turns == []


async def test_authenticated_request_from_another_channel_is_forbidden(
    channel: FakeTeamsChannel, bot_url: str, bot: RecordingBot
) -> None:
    activity = channel.message("hi", user=ALICE, channelId="webchat")
    assert (await channel.post(bot_url, activity))[0] == 403
    assert bot.turns == []


async def test_unknown_key_ids_do_not_refetch_the_metadata_each_time(
    channel: FakeTeamsChannel, bot_url: str, openid: FakeOpenIdServer
) -> None:
    assert openid.metadata_requests == 1  # pre-fetched when the app started
    for _ in range(3):
        token = channel.token(kid="forged-kid")
        assert (await channel.post(bot_url, channel.message("hi", user=ALICE), token=token))[
            0
        ] == 401
    assert openid.metadata_requests == 1


async def test_signing_keys_are_installed_for_the_sdk(
    endpoint: TeamsEndpoint, openid: FakeOpenIdServer
) -> None:
    assert JwtTokenExtractor.metadataCache[openid.metadata_url] is endpoint.signing_keys


async def test_rotated_key_is_picked_up(openid: FakeOpenIdServer) -> None:
    keys = SigningKeys(metadata_url=openid.metadata_url, unknown_kid_refresh_after=0)
    old_kid = openid.kid
    assert (await keys.get(old_kid)).kid == old_kid
    new_kid = openid.rotate()
    assert (await keys.get(new_kid)).public_key.public_numbers() == (
        rsa_key(1).public_key().public_numbers()
    )
    with pytest.raises(UnknownSigningKey):
        await keys.get(old_kid)  # no longer published


async def test_rotation_within_the_refresh_window_is_not_trusted_yet(
    openid: FakeOpenIdServer,
) -> None:
    keys = SigningKeys(metadata_url=openid.metadata_url)
    await keys.get(openid.kid)
    with pytest.raises(UnknownSigningKey):
        await keys.get(openid.rotate())
    assert openid.metadata_requests == 1


async def test_stale_keys_keep_serving_while_the_metadata_host_is_down(
    openid: FakeOpenIdServer,
) -> None:
    clock = FakeClock()
    keys = SigningKeys(metadata_url=openid.metadata_url, clock=clock)
    kid = openid.kid
    await keys.get(kid)
    openid.failing = True
    clock.now += 2 * 24 * 3600
    assert (await keys.get(kid)).kid == kid  # the refresh failed; the old keys still verify
    assert (await keys.get(kid)).kid == kid  # and it is not retried on every request
    assert openid.metadata_requests == 2
    clock.now += 11
    openid.failing = False
    await keys.get(kid)
    assert openid.metadata_requests == 3


async def test_metadata_fetch_does_not_block_the_event_loop(openid: FakeOpenIdServer) -> None:
    openid.delay = 0.1  # per request: metadata, then keys
    keys = SigningKeys(metadata_url=openid.metadata_url)
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    ticker = asyncio.create_task(tick())
    await keys.refresh()
    ticker.cancel()
    assert ticks >= 10
    assert keys.loaded


async def test_unreachable_metadata_answers_503_and_runs_nothing(
    token_endpoint: FakeTokenEndpoint, connector: FakeBotConnector, bot: RecordingBot
) -> None:
    with FakeOpenIdServer() as gone:
        metadata_url = gone.metadata_url
    endpoint = TeamsEndpoint.authenticated(
        app_id=APP_ID,
        app_password=APP_PASSWORD,
        token_url=token_endpoint.token_url(),
        openid_metadata_url=metadata_url,
        bot=bot,
    )
    with FakeOpenIdServer() as signer:
        channel = FakeTeamsChannel(openid=signer, connector=connector)
        runner, url = await serve(endpoint)
        try:
            status, _ = await channel.post(url, channel.message("hi", user=ALICE))
        finally:
            await runner.cleanup()
    assert status == 503
    assert bot.turns == []
    with pytest.raises(SigningKeysUnavailable):
        await SigningKeys(metadata_url=metadata_url).refresh()
