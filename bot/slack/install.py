"""Wiring the Slack edge into ``gatepass serve``: the bolt app and its listeners, the route or
the Socket Mode connection, and the notifier core sends messages through.

Nothing happens when the config has no ``slack:`` section or its secrets are missing: the app
then runs without Slack and ``/healthz`` says why.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.slack.client import (
    LOGGER_NAME,
    ReplayGuard,
    build_bolt_app,
    build_web_client,
    mount,
    start_socket_mode,
)
from bot.slack.deps import Deps, InFlight
from bot.slack.home import HomeTab
from bot.slack.identity import SlackIdentity
from bot.slack.listeners import register_all
from bot.slack.notifier import SlackNotifier
from core.storage import deliveries

if TYPE_CHECKING:
    from bot.app import Gatepass

SLACK_DEPS = web.AppKey("slack_deps", Deps)
SLACK_APP = web.AppKey("slack_app", AsyncApp)
REVEAL_LOGGER = f"{LOGGER_NAME}.reveal"
SHUTDOWN_GRACE = 10.0


def _quiet_logger() -> logging.Logger:
    """The reveal modal's client logs nothing below WARNING, whatever the root level: its
    debug lines would hold the request body, and so the password."""
    logger = logging.getLogger(REVEAL_LOGGER)
    logger.setLevel(logging.WARNING)
    return logger


def _socket_mode(
    gatepass: Gatepass, app: AsyncApp, *, app_token: str, api_url: str, logger: logging.Logger
) -> Callable[[], Awaitable[None]]:
    def _left_out(why: str) -> None:
        gatepass.platforms["slack"] = f"left out: Socket Mode did not connect ({why})"
        logger.error("Slack Socket Mode did not connect: %s", why)

    async def slack_socket_mode() -> None:
        try:
            handler = await start_socket_mode(app, app_token=app_token, api_url=api_url)
        except SlackApiError as error:
            _left_out(str(error.response.get("error")))
            return
        except (SlackClientError, OSError) as error:
            _left_out(f"{type(error).__name__}: {error}")
            return
        try:
            await asyncio.Event().wait()  # until serve stops and cancels this task
        finally:
            await handler.close_async()

    return slack_socket_mode


async def install(gatepass: Gatepass) -> None:
    config, secrets = gatepass.settings.config.slack, gatepass.settings.slack
    if config is None or secrets is None:
        return
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
    ctx = gatepass.ctx
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
    gatepass.add_notifier(SlackNotifier(client=client, identity=identity, home=home, logger=logger))

    async def finish_in_flight(_app: web.Application) -> None:
        await in_flight.drain(within=SHUTDOWN_GRACE)

    gatepass.web.on_shutdown.append(finish_in_flight)
    gatepass.web[SLACK_DEPS] = deps
    gatepass.web[SLACK_APP] = app
    if secrets.app_token is not None:
        gatepass.background.append(
            _socket_mode(
                gatepass,
                app,
                app_token=secrets.app_token.reveal(),
                api_url=config.api_url,
                logger=logger,
            )
        )
    else:
        guard = ReplayGuard(signing_secret=signing_secret, shared=_seen_by_any_replica(gatepass))
        mount(app, gatepass.web, replay_guard=guard)
    gatepass.platforms["slack"] = "ready"


def _seen_by_any_replica(gatepass: Gatepass) -> Callable[[str, float], Awaitable[bool]]:
    async def first(signature: str, until: float) -> bool:
        return await deliveries.first_delivery(
            gatepass.ctx,
            platform="slack",
            signature=signature,
            until=datetime.fromtimestamp(until, tz=UTC),
        )

    return first
