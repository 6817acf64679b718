"""Socket Mode end to end: ``start_socket_mode`` against the fake Web API and WebSocket server."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError

from bot.slack.client import build_bolt_app, start_socket_mode
from tests.fakes.slack import FakeSlack, block_actions, slash_command
from tests.fakes.slack_socket import FakeSocketMode
from tests.slack_plumbing.conftest import SIGNING_SECRET


@pytest.fixture
def app(slack: FakeSlack) -> AsyncApp:
    return build_bolt_app(
        bot_token=slack.bot_token, signing_secret=SIGNING_SECRET, api_url=slack.api_url
    )


@pytest.fixture
async def handler(
    app: AsyncApp, slack: FakeSlack, socket_mode: FakeSocketMode
) -> AsyncIterator[AsyncSocketModeHandler]:
    started = await start_socket_mode(app, app_token=slack.app_token, api_url=slack.api_url)
    try:
        yield started
    finally:
        await started.close_async()


async def test_a_command_envelope_runs_the_listener_and_is_acked(
    app: AsyncApp, slack: FakeSlack, socket_mode: FakeSocketMode, handler: AsyncSocketModeHandler
) -> None:
    ran = asyncio.Event()
    seen: list[dict[str, Any]] = []

    @app.command("/gatepass")
    async def command(ack: Any, command: dict[str, Any], client: Any) -> None:
        await ack(text="Opening the request form…")
        seen.append(command)
        await client.chat_postMessage(channel=command["user_id"], text="hello over socket mode")
        ran.set()

    opened = await slack.wait_for("apps.connections.open")
    assert opened.token == slack.app_token
    envelope_id = await socket_mode.push_request(slash_command(text="help", user_id="U0BOB"))
    ack = await socket_mode.wait_for_ack(envelope_id)
    assert ack == {"envelope_id": envelope_id, "payload": {"text": "Opening the request form…"}}
    await asyncio.wait_for(ran.wait(), 2)
    assert seen[0]["text"] == "help" and seen[0]["user_id"] == "U0BOB"
    posted = await slack.wait_for("chat.postMessage", lambda c: c["channel"] == "U0BOB")
    assert posted.token == slack.bot_token


async def test_an_interaction_is_acked_without_a_payload(
    app: AsyncApp, socket_mode: FakeSocketMode, handler: AsyncSocketModeHandler
) -> None:
    clicked: list[str] = []

    @app.action("approve")
    async def approve(ack: Any, action: dict[str, Any]) -> None:
        await ack()
        clicked.append(action["value"])

    envelope_id = await socket_mode.push_request(block_actions(action_id="approve", value="req-1"))
    assert await socket_mode.wait_for_ack(envelope_id) == {"envelope_id": envelope_id}
    for _ in range(100):
        if clicked:
            break
        await asyncio.sleep(0.01)
    assert clicked == ["req-1"]


async def test_the_client_reconnects_when_slack_asks(
    app: AsyncApp, slack: FakeSlack, socket_mode: FakeSocketMode, handler: AsyncSocketModeHandler
) -> None:
    @app.command("/gatepass")
    async def command(ack: Any) -> None:
        await ack()

    await socket_mode.wait_connected()
    await socket_mode.send_disconnect()
    await socket_mode.wait_connected(connects=2)
    assert len(slack.calls_to("apps.connections.open")) == 2
    envelope_id = await socket_mode.push_request(slash_command())
    assert await socket_mode.wait_for_ack(envelope_id) == {"envelope_id": envelope_id}


async def test_a_wrong_app_token_fails_the_start(
    app: AsyncApp, slack: FakeSlack, socket_mode: FakeSocketMode
) -> None:
    started = time.monotonic()
    with pytest.raises(SlackApiError) as caught:
        await start_socket_mode(app, app_token="xapp-1-wrong", api_url=slack.api_url)
    assert caught.value.response["error"] == "invalid_auth"
    with pytest.raises(SlackApiError) as caught:
        await start_socket_mode(app, app_token=slack.bot_token, api_url=slack.api_url)
    assert caught.value.response["error"] == "not_allowed_token_type"
    assert time.monotonic() - started < 1.0
    assert socket_mode.connects == 0
