"""Fixtures: the fake Slack Web API and Socket Mode server, and a bolt app served on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp
import pytest
from aiohttp import web
from slack_bolt.async_app import AsyncApp

from bot.slack.client import build_bolt_app, mount
from tests.fakes.slack import FakeSlack
from tests.fakes.slack_socket import FakeSocketMode

SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as fake:
        fake.add_user("U0ALICE", email="alice@example.com", real_name="Alice Adams")
        fake.add_user("U0BOB", email="Bob@Example.com", real_name="Bob Brown")
        yield fake


@pytest.fixture
async def socket_mode(slack: FakeSlack) -> AsyncIterator[FakeSocketMode]:
    async with FakeSocketMode() as fake:
        slack.attach_socket(fake)
        yield fake


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client_session:
        yield client_session


@dataclass
class Served:
    app: AsyncApp
    url: str  # .../slack/events


@pytest.fixture
async def served(slack: FakeSlack) -> AsyncIterator[Served]:
    """A bolt app built by ``build_bolt_app`` and mounted on an aiohttp app on 127.0.0.1.

    Tests register their listeners on ``served.app`` before sending requests to ``served.url``.
    """
    app = build_bolt_app(
        bot_token=slack.bot_token, signing_secret=SIGNING_SECRET, api_url=slack.api_url
    )
    web_app = web.Application()
    mount(app, web_app)
    runner = web.AppRunner(web_app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    port = runner.addresses[0][1]
    try:
        yield Served(app=app, url=f"http://127.0.0.1:{port}/slack/events")
    finally:
        await runner.cleanup()
