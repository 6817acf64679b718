"""Slack behind core's ``Notifier`` port: direct messages rendered from ``core.domain.messages``.

``send`` posts to the person's DM with the app and returns the channel and ``ts`` as the
platform-neutral ``MessageRef``; ``update`` replaces that message with the request's new state.
After either, the Home tab of the person concerned is republished in the background (coalesced
per person; a failure there never fails the notice, so a retried job never posts twice).

``post_to_channel`` / ``update_in_channel`` do the same in a channel, whatever the message (a
break-glass broadcast, an approval ask): a channel the app is not in is logged once, with what to
do, and answered with None; the caller decides what else to do.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.blocks import render
from bot.slack.deps import PLATFORM
from bot.slack.home import HomeTab
from bot.slack.identity import SlackIdentity
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
        posted = await self._post(user_id, message)
        self._home.refresh_soon(user_id, email=person)
        return posted

    async def update(self, ref: MessageRef, message: Any) -> None:
        if not await self._replace(ref, message):
            return
        person = recipient_of(message)
        user_id = await self._identity.user_for(person) if person else None
        if person and user_id:
            self._home.refresh_soon(user_id, email=person)

    # ------------------------------------------------------------------ channels

    async def post_to_channel(self, channel: str, message: Any) -> MessageRef | None:
        """Post to a channel (a break-glass broadcast, an approval ask); None when the app is
        not in it: ``chat:write`` covers the channels it is a member of, so it must be invited."""
        try:
            return await self._post(channel, message)
        except SlackApiError as error:
            if error.response.get("error") not in NOT_IN_CHANNEL:
                raise
            self._log.warning(
                "cannot post to Slack channel %s (%s): invite the app to it (/invite @Gatepass)",
                channel,
                error.response.get("error"),
            )
            return None

    async def _post(self, channel: str, message: Any) -> MessageRef:
        rendered = render(message)
        posted = await self._client.chat_postMessage(
            channel=channel,
            text=rendered.text,
            blocks=rendered.blocks,
            unfurl_links=False,
            unfurl_media=False,
        )
        return MessageRef(PLATFORM, str(posted["channel"]), str(posted["ts"]))

    async def update_in_channel(self, ref: MessageRef, message: Any) -> None:
        await self._replace(ref, message)

    async def _replace(self, ref: MessageRef, message: Any) -> bool:
        """Replace a posted message; False when it is gone (deleted, its channel archived)."""
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
            return False
        return True
