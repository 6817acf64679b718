"""Publishing a person's App Home tab from their home summary (``core.use_cases.reads``)."""

from __future__ import annotations

import asyncio
import logging

from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.blocks.home import MAX_ITEMS, home_view, stranger_home
from bot.slack.deps import InFlight
from bot.slack.identity import SlackIdentity
from core.context import Context
from core.domain.errors import NotInDirectory
from core.use_cases import reads

HOME_SETTLE = 0.2
"""Seconds a refresh waits before it publishes, so the notices of one change (a revocation
tells the requester, the approvers and the owners) cost one publish per person."""


class HomeTab:
    """Publishes Home tabs; refreshes after a change are coalesced per person (one running and
    at most one more queued, each after :data:`HOME_SETTLE`), so a burst of notices costs one
    or two publishes, not one each."""

    def __init__(
        self,
        *,
        ctx: Context,
        client: AsyncWebClient,
        identity: SlackIdentity,
        in_flight: InFlight,
        logger: logging.Logger,
    ) -> None:
        self._ctx = ctx
        self._client = client
        self._identity = identity
        self._in_flight = in_flight
        self._log = logger
        self._wanted: dict[str, str] = {}  # user id -> email: refresh once more
        self._running: set[str] = set()

    async def publish(
        self, user_id: str, *, email: str | None = None, notice: str | None = None
    ) -> None:
        """Render and publish ``user_id``'s Home tab (``notice``: mrkdwn, already escaped)."""
        if email is None:
            try:
                email = await self._identity.email_for(user_id)
            except NotInDirectory as stranger:
                await self._client.views_publish(user_id=user_id, view=stranger_home(str(stranger)))
                return
        summary = await reads.home_summary(self._ctx, viewer=email, shown=MAX_ITEMS)
        view = home_view(
            me=email,
            active=summary.active,
            pending=summary.pending,
            recent=summary.recent,
            notice=notice,
        )
        await self._client.views_publish(user_id=user_id, view=view)

    def refresh_soon(self, user_id: str, *, email: str) -> None:
        """Something about the person changed: republish their tab in the background."""
        self._wanted[user_id] = email
        if user_id not in self._running:
            self._running.add(user_id)
            self._in_flight.spawn(self._refresh(user_id), name=f"slack-home-{user_id}")

    async def _refresh(self, user_id: str) -> None:
        """A Slack failure is only logged: the next change or visit publishes it again."""
        try:
            await asyncio.sleep(HOME_SETTLE)  # the rest of a burst of changes joins this publish
            while user_id in self._wanted:
                email = self._wanted.pop(user_id)
                try:
                    await self.publish(user_id, email=email)
                except (SlackApiError, SlackClientError) as error:
                    self._log.warning("could not refresh the Home tab of %s: %s", user_id, error)
        finally:
            self._running.discard(user_id)
