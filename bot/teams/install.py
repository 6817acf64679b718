"""Wiring the Teams edge into ``gatepass serve`` (and the worker): the bot behind
``POST /api/messages`` and the notifier core sends cards through.

Nothing happens when the config has no ``teams:`` section, or its app id / password could not
be resolved (outside ``dev_mode``): the app then runs without Teams and ``/healthz`` says why.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.teams.endpoint import build_teams_endpoint
from bot.teams.handler import GatepassTeamsBot, on_turn_error
from bot.teams.notifier import TeamsNotifier
from bot.teams.references import PLATFORM, TeamsAccounts
from bot.teams.render import Cards

if TYPE_CHECKING:
    from bot.app import Gatepass


async def install(gatepass: Gatepass) -> None:
    settings = gatepass.settings
    config = settings.config.teams
    if config is None or (not config.dev_mode and settings.teams is None):
        return
    ctx = gatepass.ctx
    accounts = TeamsAccounts(ctx=ctx)
    cards = Cards(ctx=ctx, accounts=accounts)
    bot = GatepassTeamsBot(ctx=ctx, accounts=accounts, cards=cards)
    endpoint = build_teams_endpoint(
        config=config, secrets=settings.teams, bot=bot, host=settings.config.server.host
    )
    endpoint.adapter.on_turn_error = on_turn_error
    endpoint.add_routes(gatepass.web)
    gatepass.add_notifier(TeamsNotifier(endpoint=endpoint, accounts=accounts, cards=cards))
    gatepass.platforms[PLATFORM] = "ready"
