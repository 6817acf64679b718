"""The Slack edge's parts for ``gatepass serve`` and ``gatepass worker``: the bolt app and its
listeners behind the ``/slack/events`` route (or a Socket Mode connection), the notifier the
notice jobs send through, and a close hook that lets the work still running after an ack (and
the Home-tab refreshes the notifier started) finish.

When the config has no ``slack:`` section or its secrets are missing, the parts are empty and
say why: the app then runs without Slack and ``/healthz`` shows the reason.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import aiohttp
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot.health import Check
from bot.platform import PlatformParts, left_out
from bot.slack.actions import register_all
from bot.slack.client import (
    LOGGER_NAME,
    ReplayGuard,
    build_bolt_app,
    build_web_client,
    events_route,
    start_socket_mode,
)
from bot.slack.deps import PLATFORM, Deps, InFlight
from bot.slack.home import HomeTab
from bot.slack.identity import SlackIdentity
from bot.slack.notifier import SlackNotifier
from core.config.schema import SlackConfig
from core.config.settings import Settings
from core.context import Context
from core.storage import deliveries

REVEAL_LOGGER = f"{LOGGER_NAME}.reveal"
SHUTDOWN_GRACE = 10.0


def _quiet_logger() -> logging.Logger:
    """The reveal modal's client logs nothing below WARNING, whatever the root level: its
    debug lines would hold the request body, and so the password."""
    logger = logging.getLogger(REVEAL_LOGGER)
    logger.setLevel(logging.WARNING)
    return logger


@dataclass(frozen=True)
class ReconnectBackoff:
    """Exponential, capped, with jitter (half to all of the step), so replicas that lost Slack
    together do not come back together."""

    base: float = 1.0
    cap: float = 60.0

    def delay(self, failures: int) -> float:
        step = min(self.cap, self.base * 2 ** max(0, failures - 1))
        return random.uniform(step / 2, step)


class SocketMode:
    """The Socket Mode connection, kept up by ``serve`` in the background for as long as it
    runs: a failed connection is tried again with backoff, and one that drops (and that the SDK
    does not restore within ``grace`` seconds) is replaced. ``problem`` says why it is down
    (on ``/healthz``); :meth:`check` is its readiness."""

    def __init__(
        self,
        app: AsyncApp,
        *,
        app_token: str,
        api_url: str,
        logger: logging.Logger,
        backoff: ReconnectBackoff | None = None,
        watch_every: float = 0.5,
        grace: float = 2.0,
        connect_timeout: float = 20.0,
    ) -> None:
        self._app = app
        self._app_token = app_token
        self._api_url = api_url
        self._logger = logger
        self._backoff = backoff or ReconnectBackoff()
        self._watch_every = watch_every
        self._grace = grace
        self._connect_timeout = connect_timeout
        self._handler: AsyncSocketModeHandler | None = None
        self.problem: str | None = None

    async def check(self) -> str | None:
        handler = self._handler
        if handler is not None and await handler.client.is_connected():
            return None
        return self.problem or "Socket Mode is not connected yet"

    async def slack_socket_mode(self) -> None:
        failures = 0
        while True:
            handler = await self._connect()
            if handler is None:
                failures += 1
                delay = self._backoff.delay(failures)
                self._logger.warning("Slack Socket Mode: trying again in %.1fs", delay)
                await asyncio.sleep(delay)
                continue
            failures, self.problem, self._handler = 0, None, handler
            try:
                await self._watch(handler)
            finally:
                self._handler = None
                await handler.close_async()
            self.problem = "Socket Mode lost its connection (reconnecting)"
            self._logger.warning("Slack Socket Mode lost its connection: reconnecting")

    async def _connect(self) -> AsyncSocketModeHandler | None:
        try:
            return await asyncio.wait_for(
                start_socket_mode(self._app, app_token=self._app_token, api_url=self._api_url),
                self._connect_timeout,
            )
        except SlackApiError as error:
            self._left_out(str(error.response.get("error")))
        except TimeoutError:
            self._left_out(f"no connection within {self._connect_timeout:g}s")
        except (SlackClientError, OSError, aiohttp.ClientError) as error:
            self._left_out(f"{type(error).__name__}: {error}")
        return None

    def _left_out(self, why: str) -> None:
        self.problem = f"Socket Mode did not connect ({why})"
        self._logger.error("Slack Socket Mode did not connect: %s", why)

    async def _watch(self, handler: AsyncSocketModeHandler) -> None:
        """Until the connection has been down for longer than ``grace`` seconds."""
        down_since: float | None = None
        while True:
            await asyncio.sleep(self._watch_every)
            if await handler.client.is_connected():
                down_since = None
            elif down_since is None:
                down_since = time.monotonic()
            elif time.monotonic() - down_since > self._grace:
                return


def token_check(client: AsyncWebClient) -> Check:
    """Readiness: Slack accepts the bot token (``auth.test``)."""

    async def slack() -> str | None:
        try:
            await client.auth_test()
        except SlackApiError as error:
            return f"auth.test refused the bot token ({error.response.get('error')})"
        except (SlackClientError, OSError, aiohttp.ClientError, TimeoutError) as error:
            return f"Slack is unreachable ({type(error).__name__})"
        return None

    return Check("slack", slack)


def install(settings: Settings, ctx: Context) -> PlatformParts:
    config, secrets = settings.config.slack, settings.slack
    if config is None or secrets is None:
        return left_out(settings, PLATFORM)
    logger = logging.getLogger(LOGGER_NAME)
    bot_token, signing_secret = secrets.bot_token.reveal(), secrets.signing_secret.reveal()
    client = build_web_client(token=bot_token, api_url=config.api_url, logger=logger)
    app = build_bolt_app(
        bot_token=bot_token,
        signing_secret=signing_secret,
        api_url=config.api_url,
        client=client,
        logger=logger,
    )
    deps = _deps(ctx, config, client, bot_token=bot_token, logger=logger)
    in_flight, identity, home = deps.in_flight, deps.identity, deps.home
    register_all(app, deps)

    async def finish_in_flight() -> None:
        if len(in_flight):
            logger.info("slack: letting %d task(s) in flight finish", len(in_flight))
        await in_flight.drain(within=SHUTDOWN_GRACE)

    notifier = SlackNotifier(client=client, identity=identity, home=home, logger=logger)
    if secrets.app_token is None:
        guard = ReplayGuard(signing_secret=signing_secret, shared=_seen_by_any_replica(ctx))
        return PlatformParts(
            name=PLATFORM,
            routes=(events_route(app, replay_guard=guard),),
            notifier=notifier,
            close=finish_in_flight,
            checks=(token_check(client),),
            wiring=deps,
        )
    socket = SocketMode(
        app, app_token=secrets.app_token.reveal(), api_url=config.api_url, logger=logger
    )
    return PlatformParts(
        name=PLATFORM,
        notifier=notifier,
        background=(socket.slack_socket_mode,),
        close=finish_in_flight,
        problem=lambda: socket.problem,
        checks=(token_check(client), Check("slack socket mode", socket.check)),
        wiring=deps,
    )


def _deps(
    ctx: Context,
    config: SlackConfig,
    client: AsyncWebClient,
    *,
    bot_token: str,
    logger: logging.Logger,
) -> Deps:
    """What every listener needs: who is who (a first contact remembered in the background,
    after the ack), the Home tab, and the work still running after an ack."""
    in_flight = InFlight(logger=logger)
    identity = SlackIdentity(
        ctx=ctx,
        client=client,
        logger=logger,
        in_background=lambda work, name: in_flight.spawn(work, name=name),
    )
    home = HomeTab(ctx=ctx, client=client, identity=identity, in_flight=in_flight, logger=logger)
    return Deps(
        ctx=ctx,
        client=client,
        identity=identity,
        home=home,
        in_flight=in_flight,
        command=config.command,
        reveal_client=build_web_client(
            token=bot_token, api_url=config.api_url, logger=_quiet_logger()
        ),
        logger=logger,
    )


def _seen_by_any_replica(ctx: Context) -> Callable[[str, float], Awaitable[bool]]:
    async def first(signature: str, until: float) -> bool:
        return await deliveries.first_delivery(
            ctx,
            platform="slack",
            signature=signature,
            until=datetime.fromtimestamp(until, tz=UTC),
        )

    return first
