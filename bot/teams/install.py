"""The Teams edge's parts for ``gatepass serve`` and ``gatepass worker``: the bot behind
``POST /api/messages``, the notifier the notice jobs send cards through, and the loading of the
Bot Framework signing keys before ``serve`` answers.

When the config has no ``teams:`` section, or its app id / password could not be resolved
(outside ``dev_mode``), the parts are empty and say why: the app then runs without Teams and
``/healthz`` shows the reason.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from bot.health import Check
from bot.platform import PlatformParts, left_out
from bot.teams.auth import SigningKeysUnavailable
from bot.teams.endpoint import MESSAGES_PATH, TeamsEndpoint, build_teams_endpoint
from bot.teams.handler import GatepassTeamsBot, on_turn_error
from bot.teams.late import LateAnswers
from bot.teams.notifier import TeamsNotifier
from bot.teams.references import PLATFORM, TeamsAccounts, TeamsChannels
from bot.teams.render import Cards
from core.config.settings import Settings
from core.context import Context

log = logging.getLogger(__name__)


def install(settings: Settings, ctx: Context) -> PlatformParts:
    config = settings.config.teams
    if config is None or (not config.dev_mode and settings.teams is None):
        return left_out(settings, PLATFORM)
    accounts = TeamsAccounts(ctx=ctx)
    cards = Cards(ctx=ctx, accounts=accounts)
    channels = TeamsChannels(ctx=ctx)
    late = LateAnswers(personal_chat=accounts.personal_chat_of)
    bot = GatepassTeamsBot(ctx=ctx, accounts=accounts, cards=cards, channels=channels, late=late)
    endpoint = build_teams_endpoint(
        config=config, secrets=settings.teams, bot=bot, host=settings.config.server.host
    )
    endpoint.adapter.on_turn_error = on_turn_error
    late.attach(endpoint.adapter, endpoint.app_id)
    return PlatformParts(
        name=PLATFORM,
        routes=(web.post(MESSAGES_PATH, endpoint.handle),),
        notifier=TeamsNotifier(
            endpoint=endpoint, accounts=accounts, cards=cards, channels=channels
        ),
        prepare=_signing_keys_loader(endpoint),
        close=late.drain,
        checks=() if endpoint.dev_mode else (Check("teams", endpoint.check),),
        wiring=endpoint,
    )


def _signing_keys_loader(endpoint: TeamsEndpoint) -> Callable[[], Awaitable[None]]:
    async def load_teams_signing_keys() -> None:
        """Load the signing keys at start rather than on the first activity."""
        try:
            await endpoint.prefetch()
        except SigningKeysUnavailable as error:
            log.warning("Bot Framework signing keys not loaded yet (will retry): %s", error)

    return load_teams_signing_keys
