"""Core's ``Notifier`` for Teams: proactive cards in each person's personal chat with the bot,
and in the team channels Gatepass knows.

A person is reachable when Gatepass has their personal conversation's reference (stored when
they installed the app or wrote to it). ``send`` continues that conversation and posts the card;
``update`` replaces a posted card with ``update_activity``. Connector failures propagate, so
core's job retries the delivery.

A channel is reachable when Gatepass has seen it in a team the app is installed in
(``TeamsChannels``: conversationUpdate / installationUpdate, a message there): the one source
for every channel post, a break-glass broadcast as much as an approval ask. A channel it has
not seen is logged once, with what to do, and answered with None.
"""

from __future__ import annotations

import copy
import logging
from typing import Any

from botbuilder.core import CardFactory, MessageFactory, TurnContext
from botbuilder.schema import Activity, ActivityTypes, ConversationReference

from bot.teams.cards.elements import Element
from bot.teams.endpoint import TeamsEndpoint
from bot.teams.references import PLATFORM, TeamsAccounts, TeamsChannels
from bot.teams.render import Cards, recipient, summary
from core import metrics
from core.domain.ports import MessageRef

log = logging.getLogger("gatepass.teams")


class TeamsUndeliverable(Exception):
    """The Bot Connector accepted the call but gave no activity id back."""


def card_activity(card: Element, *, text: str | None = None) -> Activity:
    activity = MessageFactory.attachment(CardFactory.adaptive_card(card))
    if text:
        activity.summary = text
    return activity


class TeamsNotifier:
    platform = PLATFORM

    def __init__(
        self,
        *,
        endpoint: TeamsEndpoint,
        accounts: TeamsAccounts,
        cards: Cards,
        channels: TeamsChannels,
    ) -> None:
        self._endpoint = endpoint
        self._accounts = accounts
        self._cards = cards
        self._channels = channels

    async def reachable(self, person: str) -> bool:
        return await self._accounts.find(person) is not None

    async def send(self, person: str, message: Any) -> MessageRef | None:
        account = await self._accounts.find(person)
        if account is None or account.reference is None:
            return None
        posted = await self._post(account.reference, message, to=person)
        return MessageRef(self.platform, account.reference.conversation.id, posted)

    async def update(self, ref: MessageRef, message: Any) -> None:
        """Replace a card posted in its recipient's personal chat."""
        person = recipient(message)
        account = await self._accounts.find(person) if person else None
        if account is None or account.reference is None:
            log.warning(
                "cannot update Teams message %s: no conversation reference for its recipient",
                ref.message_id,
            )
            return
        reference = copy.deepcopy(account.reference)
        reference.conversation.id = ref.channel
        await self._replace(reference, ref, message)

    # ------------------------------------------------------------------ channels

    async def post_to_channel(self, channel: str, message: Any) -> MessageRef | None:
        """Post a new message in a team channel (a break-glass broadcast, an approval ask);
        None when Gatepass has not seen that channel (the app is not installed in its team)."""
        reference = await self._channels.reference(channel)
        if reference is None:
            log.warning(
                "cannot post to Teams channel %s: Gatepass has not seen it; install the app in "
                "its team (or mention the app in the channel once)",
                channel,
            )
            return None
        posted = await self._post(reference, message, to=f"channel {channel}")
        return MessageRef(self.platform, channel, posted)

    async def update_in_channel(self, ref: MessageRef, message: Any) -> None:
        reference = await self._channels.reference(ref.channel)
        if reference is None:
            log.warning(
                "cannot update Teams message %s: channel %s is unknown", ref.message_id, ref.channel
            )
            return
        await self._replace(reference, ref, message)

    # ------------------------------------------------------------------ the connector

    async def _post(self, reference: ConversationReference, message: Any, *, to: str) -> str:
        """Post ``message``'s card in the conversation; the new activity's id."""
        activity = card_activity(await self._cards.render(message), text=summary(message))
        posted: list[str] = []

        async def post(turn_context: TurnContext) -> None:
            response = await turn_context.send_activity(activity)
            if response is not None and response.id:
                posted.append(response.id)

        await self._continue(reference, post)
        if not posted:
            raise TeamsUndeliverable(f"no activity id for the message to {to}")
        return posted[0]

    async def _replace(
        self, reference: ConversationReference, ref: MessageRef, message: Any
    ) -> None:
        activity = card_activity(await self._cards.render(message), text=summary(message))
        activity.id = ref.message_id
        activity.type = ActivityTypes.message

        async def replace(turn_context: TurnContext) -> None:
            await turn_context.update_activity(activity)

        await self._continue(reference, replace)

    async def _continue(self, reference: Any, callback: Any) -> None:
        """Run ``callback`` in the conversation; a Bot Connector failure is counted
        (``gatepass_chat_api_errors``) and propagates."""
        try:
            await self._endpoint.adapter.continue_conversation(
                reference, callback, self._endpoint.app_id
            )
        except Exception as error:
            metrics.chat_api_error(PLATFORM, type(error).__name__)
            raise
