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
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError, SlackClientError

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


class SocketMode:
    """The Socket Mode connection, run by ``serve`` in the background; ``problem`` says why it
    did not connect (shown on ``/healthz``)."""

    def __init__(
        self, app: AsyncApp, *, app_token: str, api_url: str, logger: logging.Logger
    ) -> None:
        self._app = app
        self._app_token = app_token
        self._api_url = api_url
        self._logger = logger
        self.problem: str | None = None

    def _left_out(self, why: str) -> None:
        self.problem = f"Socket Mode did not connect ({why})"
        self._logger.error("Slack Socket Mode did not connect: %s", why)

    async def slack_socket_mode(self) -> None:
        try:
            handler = await start_socket_mode(
                self._app, app_token=self._app_token, api_url=self._api_url
            )
        except SlackApiError as error:
            self._left_out(str(error.response.get("error")))
            return
        except (SlackClientError, OSError) as error:
            self._left_out(f"{type(error).__name__}: {error}")
            return
        try:
            await asyncio.Event().wait()  # until serve stops and cancels this task
        finally:
            await handler.close_async()


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
    identity = SlackIdentity(ctx=ctx, client=client, logger=logger)
    in_flight = InFlight(logger=logger)
    home = HomeTab(ctx=ctx, client=client, identity=identity, in_flight=in_flight, logger=logger)
    deps = Deps(
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
        wiring=deps,
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
