"""Who a Slack user is: their email (the person's key everywhere), and the Slack user of a person.

Slack user → email: the chat accounts table first, then ``users.info`` (scope
``users:read.email``); a person found that way is remembered in the chat accounts table through
``core.storage.chat_accounts`` — but only when they are in the directory, so nothing is
stored for strangers.
Email → Slack user: the chat accounts table, then ``users.lookupByEmail``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Coroutine
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from core.context import Context
from core.domain.directory import normalize_email
from core.domain.errors import NoChatEmail
from core.storage import chat_accounts

PLATFORM = "slack"
USER_ID = re.compile(r"[UW][A-Z0-9]{1,40}")
_NOBODY = {"users_not_found", "user_not_found", "account_inactive"}


def no_email(user_id: str) -> NoChatEmail:
    return NoChatEmail(platform="Slack", user_id=user_id, fix="the app's users:read.email scope")


def _email_of(user: dict[str, Any]) -> str | None:
    if user.get("deleted") or user.get("is_bot"):
        return None
    email = (user.get("profile") or {}).get("email")
    return normalize_email(email) if isinstance(email, str) and "@" in email else None


def _display_name(user: dict[str, Any]) -> str:
    profile = user.get("profile") or {}
    return str(profile.get("real_name") or user.get("real_name") or user.get("name") or "")[:255]


Background = Callable[[Coroutine[Any, Any, None], str], object]
"""Runs a coroutine in the background under a name (``InFlight.spawn``)."""


class SlackIdentity:
    def __init__(
        self,
        *,
        ctx: Context,
        client: AsyncWebClient,
        logger: logging.Logger | None = None,
        in_background: Background | None = None,
    ) -> None:
        self._ctx = ctx
        self._client = client
        self._log = logger or logging.getLogger("gatepass.slack")
        self._in_background = in_background

    async def email_for(self, user_id: str) -> str:
        """The email of the person behind ``user_id``; NotInDirectory when Gatepass does not
        know them (nothing is stored then)."""
        if not USER_ID.fullmatch(user_id):
            raise no_email(user_id)
        cached = await chat_accounts.email_for(self._ctx, platform=PLATFORM, user_id=user_id)
        if cached is not None:
            self._ctx.person(cached)  # removed from the directory since: NotInDirectory
            return cached
        try:
            user = (await self._client.users_info(user=user_id))["user"]
        except SlackApiError as error:
            if error.response.get("error") in _NOBODY:
                raise no_email(user_id) from None
            raise
        email = _email_of(user)
        if email is None:
            raise no_email(user_id)
        self._ctx.person(
            normalize_email(email)
        )  # not in the directory: NotInDirectory, nothing stored
        remembered = chat_accounts.remember(
            self._ctx,
            platform=PLATFORM,
            user_id=user_id,
            email=email,
            display_name=_display_name(user),
        )
        if self._in_background is None:
            await remembered
        else:  # a write can wait on a lock: an ack that needs the email does not wait for it
            self._in_background(remembered, f"slack-remember-{user_id}")
        return email

    async def user_for(self, email: str) -> str | None:
        """The Slack user id of the person with ``email``; None when they are not on Slack."""
        email = normalize_email(email)
        account = await chat_accounts.account_for(self._ctx, platform=PLATFORM, email=email)
        if account is not None:
            return account.platform_user_id
        try:
            user = (await self._client.users_lookupByEmail(email=email))["user"]
        except SlackApiError as error:
            if error.response.get("error") in _NOBODY:
                return None
            raise
        if _email_of(user) != email or not USER_ID.fullmatch(str(user.get("id", ""))):
            return None
        if self._ctx.directory.person(email) is not None:
            await chat_accounts.remember(
                self._ctx,
                platform=PLATFORM,
                user_id=user["id"],
                email=email,
                display_name=_display_name(user),
            )
        return str(user["id"])
