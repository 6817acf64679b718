"""Fixtures: the Bot Framework fakes, a recording bot, and the endpoint served on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from aiohttp import web
from botbuilder.core import ActivityHandler, TurnContext
from botbuilder.schema import Activity, AdaptiveCardInvokeResponse, AdaptiveCardInvokeValue

from bot.teams.endpoint import (
    CardAction,
    TeamsEndpoint,
    card_response,
    message_response,
    parse_card_action,
)
from tests.fakes.teams import (
    APP_ID,
    APP_PASSWORD,
    FakeBotConnector,
    FakeMember,
    FakeOpenIdServer,
    FakeTokenEndpoint,
)
from tests.fakes.teams_channel import FakeTeamsChannel

ALICE = FakeMember(
    id="29:1alice",
    name="Alice Adams",
    aad_object_id="6a1f8c2e-0000-4000-8000-00000000a11c",
    email="alice@example.com",
)


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class RecordingBot(ActivityHandler):
    """Echoes messages, answers Action.Execute with a card, and records every turn it ran."""

    def __init__(self) -> None:
        self.turns: list[Activity] = []
        self.actions: list[CardAction] = []

    async def on_turn(self, turn_context: TurnContext) -> None:
        self.turns.append(turn_context.activity)
        await super().on_turn(turn_context)

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        await turn_context.send_activity(f"echo: {turn_context.activity.text}")

    async def on_adaptive_card_invoke(
        self, turn_context: TurnContext, invoke_value: AdaptiveCardInvokeValue
    ) -> AdaptiveCardInvokeResponse:
        action = parse_card_action(invoke_value)
        self.actions.append(action)
        if action.verb == "say":
            return message_response(str(action.data.get("text")))
        return card_response(
            {
                "type": "AdaptiveCard",
                "version": "1.4",
                "body": [{"type": "TextBlock", "text": f"{action.verb} done"}],
            }
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
        yield server


@pytest.fixture
def channel(openid: FakeOpenIdServer, connector: FakeBotConnector) -> FakeTeamsChannel:
    return FakeTeamsChannel(openid=openid, connector=connector)


@pytest.fixture
def bot() -> RecordingBot:
    return RecordingBot()


@pytest.fixture
def endpoint(
    openid: FakeOpenIdServer, token_endpoint: FakeTokenEndpoint, bot: RecordingBot
) -> TeamsEndpoint:
    return TeamsEndpoint.authenticated(
        app_id=APP_ID,
        app_password=APP_PASSWORD,
        token_url=token_endpoint.token_url(),
        openid_metadata_url=openid.metadata_url,
        bot=bot,
    )


async def serve(endpoint: TeamsEndpoint) -> tuple[web.AppRunner, str]:
    """The endpoint on an aiohttp app at 127.0.0.1:<random>; returns the /api/messages URL."""
    app = web.Application()
    endpoint.add_routes(app)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}/api/messages"


@pytest.fixture
async def bot_url(endpoint: TeamsEndpoint) -> AsyncIterator[str]:
    runner, url = await serve(endpoint)
    yield url
    await runner.cleanup()
