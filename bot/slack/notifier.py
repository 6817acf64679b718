"""Slack behind core's ``Notifier`` port: direct messages rendered from ``core.domain.messages``.

``send`` posts to the person's DM with the app and returns the channel and ``ts`` as the
platform-neutral ``MessageRef``; ``update`` replaces that message with the request's new state.
After either, the Home tab of the person concerned is republished in the background (coalesced
per person; a failure there never fails the notice, so a retried job never posts twice).
"""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.blocks import render
from bot.slack.blocks.channel import channel_approval
from bot.slack.deps import PLATFORM
from bot.slack.home import HomeTab
from bot.slack.identity import SlackIdentity
from core.domain.channels import ChannelApproval
from core.domain.messages import (
    ApprovalRequested,
    BreakGlassAnnounced,
    OwnerAlert,
    ReviewRequested,
)
from core.domain.ports import MessageRef

GONE = {"message_not_found", "channel_not_found", "cant_update_message", "is_archived"}
NOT_IN_CHANNEL = {"not_in_channel", "channel_not_found", "is_archived"}


def recipient_of(message: Any) -> str | None:
    """Whose DM a message of this kind is in (None for owner alerts: several people)."""
    if isinstance(message, ApprovalRequested):
        return message.approver.email
    if isinstance(message, OwnerAlert | BreakGlassAnnounced):
        return None
    if isinstance(message, ReviewRequested):
        return message.owner
    return message.request.requester  # type: ignore[no-any-return]


class SlackNotifier:
    platform = PLATFORM

    def __init__(
        self,
        *,
        client: AsyncWebClient,
        identity: SlackIdentity,
        home: HomeTab,
        logger: logging.Logger,
    ) -> None:
        self._client = client
        self._identity = identity
        self._home = home
        self._log = logger

    async def reachable(self, person: str) -> bool:
        return await self._identity.user_for(person) is not None

    async def send(self, person: str, message: Any) -> MessageRef | None:
        user_id = await self._identity.user_for(person)
        if user_id is None:
            return None
        rendered = render(message)
        posted = await self._client.chat_postMessage(
            channel=user_id,
            text=rendered.text,
            blocks=rendered.blocks,
            unfurl_links=False,
            unfurl_media=False,
        )
        self._home.refresh_soon(user_id, email=person)
        return MessageRef(PLATFORM, str(posted["channel"]), str(posted["ts"]))

    async def broadcast(self, channel: str, message: Any) -> MessageRef | None:
        """Post to a channel (the app must be a member of it)."""
        rendered = render(message)
        posted = await self._client.chat_postMessage(
            channel=channel,
            text=rendered.text,
            blocks=rendered.blocks,
            unfurl_links=False,
            unfurl_media=False,
        )
        return MessageRef(PLATFORM, str(posted["channel"]), str(posted["ts"]))

    async def update(self, ref: MessageRef, message: Any) -> None:
        rendered = render(message)
        try:
            await self._client.chat_update(
                channel=ref.channel, ts=ref.message_id, text=rendered.text, blocks=rendered.blocks
            )
        except SlackApiError as error:
            if error.response.get("error") not in GONE:
                raise
            self._log.info(
                "message %s/%s is gone (%s); nothing to update",
                ref.channel,
                ref.message_id,
                error.response.get("error"),
            )
            return
        person = recipient_of(message)
        user_id = await self._identity.user_for(person) if person else None
        if person and user_id:
            self._home.refresh_soon(user_id, email=person)

    # ------------------------------------------------------------------ approval channels

    async def post_approval_to_channel(
        self, channel: str, message: ChannelApproval
    ) -> MessageRef | None:
        """Post the ask to a flow's approval channel; None when the bot is not in it (it must
        be invited: ``chat:write`` covers the channels it is a member of)."""
        rendered = channel_approval(message)
        try:
            posted = await self._client.chat_postMessage(
                channel=channel,
                text=rendered.text,
                blocks=rendered.blocks,
                unfurl_links=False,
                unfurl_media=False,
            )
        except SlackApiError as error:
            if error.response.get("error") not in NOT_IN_CHANNEL:
                raise
            self._log.warning(
                "cannot post to the approval channel %s (%s): invite the app to it",
                channel,
                error.response.get("error"),
            )
            return None
        return MessageRef(PLATFORM, str(posted["channel"]), str(posted["ts"]))

    async def update_approval_in_channel(self, ref: MessageRef, message: ChannelApproval) -> None:
        rendered = channel_approval(message)
        try:
            await self._client.chat_update(
                channel=ref.channel, ts=ref.message_id, text=rendered.text, blocks=rendered.blocks
            )
        except SlackApiError as error:
            if error.response.get("error") not in GONE:
                raise
            self._log.info(
                "channel copy %s/%s is gone (%s); nothing to update",
                ref.channel,
                ref.message_id,
                error.response.get("error"),
            )
