"""The Teams bot: installs and messages store the user's conversation reference; text commands
answer with cards; ``Action.Execute`` invokes run the button's use case and answer with the card
the user should now see; ``application/search`` answers the resource typeahead.

Everything here translates: who is this (``references``), which use case (``actions``,
``commands``), which card (``cards``). A person Gatepass does not know is told so, privately,
and nothing is stored for them.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from botbuilder.core import InvokeResponse, TurnContext
from botbuilder.core.teams import TeamsActivityHandler
from botbuilder.schema import (
    Activity,
    ActivityEventNames,
    ActivityTypes,
    AdaptiveCardInvokeResponse,
    AdaptiveCardInvokeValue,
)

from bot.teams import actions
from bot.teams.actions.commands import Commands
from bot.teams.cards import verbs
from bot.teams.cards.lists import help_card
from bot.teams.endpoint import CardAction, message_response, parse_card_action
from bot.teams.form import search_resources
from bot.teams.late import LateAnswers
from bot.teams.notifier import card_activity
from bot.teams.references import TeamsAccounts, TeamsChannels, team_of
from bot.teams.render import Cards
from core.context import Context
from core.domain.errors import NotInDirectory

log = logging.getLogger("gatepass.teams")

SEARCH_INVOKE = "application/search"
SEARCH_RESPONSE = "application/vnd.microsoft.search.searchResponse"
PROACTIVE_EVENTS = (
    ActivityEventNames.continue_conversation,
    ActivityEventNames.create_conversation,
)


class GatepassTeamsBot(TeamsActivityHandler):
    def __init__(
        self,
        *,
        ctx: Context,
        accounts: TeamsAccounts,
        cards: Cards,
        channels: TeamsChannels | None = None,
        late: LateAnswers | None = None,
    ) -> None:
        self._ctx = ctx
        self._accounts = accounts
        self._cards = cards
        self._channels = channels or TeamsChannels(ctx=ctx)
        self._late = late or LateAnswers()
        self._commands = Commands(ctx=ctx, cards=cards)

    @property
    def late(self) -> LateAnswers:
        """The card actions answered before they were done, still running."""
        return self._late

    # ------------------------------------------------------------------ identity

    async def _sender(self, turn_context: TurnContext, *, tell: bool = True) -> str | None:
        """The sender's email (their reference stored on the way); None for a stranger, who
        is told why in this (personal) conversation when ``tell``."""
        try:
            return await self._accounts.email_of_sender(turn_context)
        except NotInDirectory as error:
            if tell:
                await turn_context.send_activity(str(error))
            return None

    # ------------------------------------------------------------------ activities

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        if team_of(turn_context.activity) is not None:  # a message to the bot in a channel
            await self._channels.remember(turn_context.activity)
        actor = await self._sender(turn_context)
        if actor is not None:
            await self._commands.run(turn_context, actor=actor)

    async def on_installation_update_add(self, turn_context: TurnContext) -> None:
        if team_of(turn_context.activity) is not None:  # in a team: its channels, no welcome
            await self._channels.remember(turn_context.activity)
            return
        if await self._sender(turn_context) is not None:
            await turn_context.send_activity(
                card_activity(help_card(greeting="Welcome to Gatepass"))
            )

    async def on_conversation_update_activity(self, turn_context: TurnContext) -> None:
        """The app was added to a personal chat: remember the conversation (the welcome comes
        with the installationUpdate that Teams sends alongside). In a team: remember the
        channels the activity names, where approval asks may be posted."""
        activity = turn_context.activity
        if team_of(activity) is not None:  # installed in a team, or one of its channel events
            await self._channels.remember(activity)
        if activity.members_added and activity.from_property is not None:
            await self._sender(turn_context, tell=False)
        await super().on_conversation_update_activity(turn_context)

    # ------------------------------------------------------------------ invokes

    async def on_invoke_activity(self, turn_context: TurnContext) -> InvokeResponse:
        if turn_context.activity.name == SEARCH_INVOKE:
            return InvokeResponse(status=int(HTTPStatus.OK), body=await self._search(turn_context))
        return await super().on_invoke_activity(turn_context)

    async def on_adaptive_card_invoke(
        self, turn_context: TurnContext, invoke_value: AdaptiveCardInvokeValue
    ) -> AdaptiveCardInvokeResponse:
        """Answered in time even when the action waits on the database (``late``), except a
        password's reveal: its card may only ever be the invoke's own answer."""
        action = parse_card_action(invoke_value)
        running = self._card_action(turn_context, action)
        if action.verb in actions.ANSWERED_ONLY_IN_TIME:
            return await running
        return await self._late.answer(turn_context, running)

    async def _card_action(
        self, turn_context: TurnContext, action: CardAction
    ) -> AdaptiveCardInvokeResponse:
        try:
            actor = await self._accounts.email_of_sender(turn_context)
        except NotInDirectory as error:
            return message_response(str(error))
        click = actions.Click(ctx=self._ctx, cards=self._cards, actor=actor, data=action.data)
        return await actions.run(action.verb, click)

    async def _search(self, turn_context: TurnContext) -> dict[str, Any]:
        value = turn_context.activity.value
        query: Mapping[str, Any] = value if isinstance(value, Mapping) else {}
        dataset = str(query.get("dataset") or "")
        options = (
            query.get("queryOptions") if isinstance(query.get("queryOptions"), Mapping) else {}
        )
        results: list[dict[str, str]] = []
        prefix = f"{verbs.RESOURCE_DATASET}:"
        actor = await self._sender(turn_context, tell=False)
        if actor is not None and dataset.startswith(prefix):
            found = await search_resources(
                self._ctx,
                self._ctx.person(actor),
                dataset.removeprefix(prefix),
                str(query.get("queryText") or ""),
                skip=_int(options.get("skip"), 0),
                top=_int(options.get("top"), 15),
            )
            results = [{"title": title, "value": choice} for title, choice in found]
        return {"type": SEARCH_RESPONSE, "value": {"results": results}}


def _int(value: object, default: int) -> int:
    return value if isinstance(value, int) and value >= 0 else default


async def on_turn_error(turn_context: TurnContext, error: Exception) -> None:
    """The adapter's last resort for a turn that failed unexpectedly (not a GatepassError,
    which the handlers answer): proactive sends re-raise so core's job retries them; a user's
    turn is logged and the user told, an invoke answered with an error."""
    activity = turn_context.activity
    if activity.type == ActivityTypes.event and activity.name in PROACTIVE_EVENTS:
        raise error
    log.error(
        "Teams turn failed (%s %s): %s: %s",
        activity.type,
        activity.name or "",
        type(error).__name__,
        error,
        exc_info=error,
    )
    if activity.type == ActivityTypes.invoke:
        body = {
            "statusCode": int(HTTPStatus.INTERNAL_SERVER_ERROR),
            "type": "application/vnd.microsoft.error",
            "value": {"code": "InternalError", "message": "Gatepass could not do that."},
        }
        await turn_context.send_activity(
            Activity(
                type=ActivityTypes.invoke_response,
                value=InvokeResponse(status=int(HTTPStatus.INTERNAL_SERVER_ERROR), body=body),
            )
        )
        return
    await turn_context.send_activity("Sorry, Gatepass could not do that. Please try again.")
