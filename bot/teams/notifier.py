"""Core's ``Notifier`` for Teams: proactive cards in each person's personal chat with the bot.

A person is reachable when Gatepass has their personal conversation's reference (stored when
they installed the app or wrote to it). ``send`` continues that conversation and posts the card;
``update`` replaces a posted card with ``update_activity``. Connector failures propagate, so
core's job retries the delivery.
"""

from __future__ import annotations

import copy
import logging
from typing import Any

from botbuilder.core import CardFactory, MessageFactory, TurnContext
from botbuilder.schema import Activity, ActivityTypes

from bot.teams.cards.elements import Element, clean
from bot.teams.endpoint import TeamsEndpoint
from bot.teams.references import PLATFORM, TeamsAccounts, TeamsChannels
from bot.teams.render import Cards, recipient, summary
from core import metrics
from core.domain.channels import ChannelApproval, channel_summary
from core.domain.messages import BreakGlassAnnounced
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
        channels: TeamsChannels | None = None,
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
        activity = card_activity(await self._cards.render(message), text=summary(message))
        posted: list[str] = []

        async def post(turn_context: TurnContext) -> None:
            response = await turn_context.send_activity(activity)
            if response is not None and response.id:
                posted.append(response.id)

        await self._continue(account.reference, post)
        if not posted:
            raise TeamsUndeliverable(f"no activity id for the message to {person}")
        return MessageRef(self.platform, account.reference.conversation.id, posted[0])

    async def broadcast(self, channel: str, message: Any) -> MessageRef | None:
        """Post in a channel of a team the app is installed in."""
        reference = await self._accounts.channel_reference(channel)
        if reference is None:
            raise TeamsUndeliverable(
                f"no Teams conversation is stored yet, so channel {channel} cannot be reached: "
                "install the app and talk to it once"
            )
        activity = card_activity(await self._cards.render(message), text=summary(message))
        posted: list[str] = []

        async def post(turn_context: TurnContext) -> None:
            response = await turn_context.send_activity(activity)
            if response is not None and response.id:
                posted.append(response.id)

        await self._continue(reference, post)
        if not posted:
            raise TeamsUndeliverable(f"no activity id for the message to channel {channel}")
        return MessageRef(self.platform, channel, posted[0])

    async def _reference_for(self, ref: MessageRef, message: Any) -> Any:
        """The conversation a posted message is in: a channel's, or its recipient's chat."""
        if isinstance(message, BreakGlassAnnounced):
            return await self._accounts.channel_reference(ref.channel)
        person = recipient(message)
        account = await self._accounts.find(person) if person else None
        if account is None or account.reference is None:
            return None
        reference = copy.deepcopy(account.reference)
        reference.conversation.id = ref.channel
        return reference

    async def update(self, ref: MessageRef, message: Any) -> None:
        reference = await self._reference_for(ref, message)
        if reference is None:
            log.warning(
                "cannot update Teams message %s: no conversation reference for its recipient",
                ref.message_id,
            )
            return
        activity = card_activity(await self._cards.render(message), text=summary(message))
        activity.id = ref.message_id
        activity.type = ActivityTypes.message

        async def replace(turn_context: TurnContext) -> None:
            await turn_context.update_activity(activity)

        await self._continue(reference, replace)

    # ------------------------------------------------------------------ approval channels

    async def post_approval_to_channel(
        self, channel: str, message: ChannelApproval
    ) -> MessageRef | None:
        """Post the ask as a new message in a team channel; None when Gatepass has not seen
        that channel (the app is not installed in its team)."""
        reference = await self._channels.reference(channel) if self._channels else None
        if reference is None:
            return None
        card = await self._cards.channel(message)
        activity = card_activity(card, text=clean(channel_summary(message), limit=250))
        posted: list[str] = []

        async def post(turn_context: TurnContext) -> None:
            response = await turn_context.send_activity(activity)
            if response is not None and response.id:
                posted.append(response.id)

        await self._continue(reference, post)
        if not posted:
            raise TeamsUndeliverable(f"no activity id for the message to channel {channel}")
        return MessageRef(self.platform, channel, posted[0])

    async def update_approval_in_channel(self, ref: MessageRef, message: ChannelApproval) -> None:
        reference = await self._channels.reference(ref.channel) if self._channels else None
        if reference is None:
            log.warning("cannot update Teams channel message %s: channel unknown", ref.message_id)
            return
        card = await self._cards.channel(message)
        activity = card_activity(card, text=clean(channel_summary(message), limit=250))
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
