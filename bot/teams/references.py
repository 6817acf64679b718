"""Who a Teams user is, and how to reach them later: stored conversation references.

Each Teams user is stored as a chat account (``core.storage.chat_accounts``), keyed by their AAD
object id, with the email the Bot Connector's member lookup gives (``email``, else
``userPrincipalName``): the same person as on Slack when the emails match. Their personal
conversation's reference lives in the account's ``extra`` (in the database, never in a module
dict), refreshed whenever they install the app or write to it from a new conversation. People
who are not in the directory are not stored.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.core.teams import TeamsInfo
from botbuilder.schema import Activity, ConversationReference
from botframework.connector.models import ErrorResponseException

from core.context import Context
from core.domain.directory import normalize_email
from core.domain.errors import NoChatEmail
from core.storage import chat_accounts, chat_channels
from core.storage.models import ChatAccount

PLATFORM = "teams"
PERSONAL = "personal"
log = logging.getLogger("gatepass.teams")


def no_email(user_id: str) -> NoChatEmail:
    return NoChatEmail(platform="Teams", user_id=user_id, fix="the app's installation")


@dataclass(frozen=True)
class TeamsAccount:
    """A person's Teams account, with the personal conversation Gatepass may write to."""

    email: str
    aad_object_id: str
    user_id: str  # the Teams user id (``29:…``)
    reference: ConversationReference | None

    @property
    def ids(self) -> tuple[str, ...]:
        """How cards name this user (``refresh.userIds``): AAD object id and Teams user id."""
        return tuple(i for i in (self.aad_object_id, self.user_id) if i)


def reference_of(activity: Activity) -> ConversationReference:
    """The conversation to continue later, not as a reply to this particular activity."""
    reference = TurnContext.get_conversation_reference(activity)
    reference.activity_id = None
    return reference


def _account(row: ChatAccount) -> TeamsAccount:
    extra: dict[str, Any] = dict(row.extra or {})
    stored = extra.get("reference")
    reference = ConversationReference.deserialize(stored) if isinstance(stored, dict) else None
    return TeamsAccount(
        email=row.email,
        aad_object_id=row.platform_user_id,
        user_id=str(extra.get("user_id") or ""),
        reference=reference,
    )


def is_personal(activity: Activity) -> bool:
    """A person's chat with the app, which only they see (not a channel or a group chat)."""
    conversation = activity.conversation
    return bool(conversation and conversation.conversation_type in (PERSONAL, None))


def _up_to_date(row: ChatAccount, activity: Activity) -> bool:
    """Nothing new to store: not a personal chat, or the same conversation as stored."""
    if not is_personal(activity):
        return True
    stored = (row.extra or {}).get("reference") or {}
    conversation = stored.get("conversation") or {}
    return (
        conversation.get("id") == activity.conversation.id
        and stored.get("serviceUrl") == activity.service_url
        and (row.extra or {}).get("user_id") == activity.from_property.id
    )


class TeamsAccounts:
    def __init__(self, *, ctx: Context) -> None:
        self._ctx = ctx

    async def email_of_sender(self, turn_context: TurnContext) -> str:
        """The email of whoever sent this activity; their conversation reference is stored or
        refreshed on the way. NotInDirectory (nothing stored) for people Gatepass does not
        know."""
        activity = turn_context.activity
        sender = activity.from_property
        if sender is None or not sender.id:
            raise no_email("")
        key = sender.aad_object_id
        if key:
            row = await chat_accounts.account(self._ctx, platform=PLATFORM, user_id=key)
            if row is not None and _up_to_date(row, activity):
                self._ctx.person(row.email)  # removed from the directory since: NotInDirectory
                return row.email
        try:
            member = await TeamsInfo.get_member(turn_context, sender.id)
        except ErrorResponseException as error:
            log.info("Teams member lookup failed for %s: %s", sender.id, error)
            raise no_email(sender.id) from None
        email = member.email or member.user_principal_name
        key = key or member.aad_object_id
        if not email or "@" not in email or not key:
            raise no_email(sender.id)
        email = normalize_email(email)
        extra = (
            {"user_id": sender.id, "reference": reference_of(activity).serialize()}
            if is_personal(activity)
            else None
        )
        await chat_accounts.remember(
            self._ctx,
            platform=PLATFORM,
            user_id=key,
            email=email,
            display_name=(member.name or sender.name or "")[:255],
            extra=extra,
        )
        return email

    async def personal_chat_of(self, activity: Activity) -> ConversationReference | None:
        """The personal chat of whoever sent ``activity``, when Gatepass has one."""
        sender = activity.from_property
        key = sender.aad_object_id if sender is not None else None
        if not key:
            return None
        row = await chat_accounts.account(self._ctx, platform=PLATFORM, user_id=key)
        return _account(row).reference if row is not None else None

    async def find(self, email: str) -> TeamsAccount | None:
        """The person's Teams account when Gatepass can write to them (a stored reference)."""
        row = await chat_accounts.account_for(self._ctx, platform=PLATFORM, email=email)
        if row is None:
            return None
        account = _account(row)
        return account if account.reference is not None else None

    async def ids_of(self, emails: Iterable[str]) -> tuple[str, ...]:
        """The Teams ids of those of these people Gatepass knows on Teams."""
        rows = await chat_accounts.accounts_for(self._ctx, platform=PLATFORM, emails=emails)
        found = [i for row in sorted(rows, key=lambda r: r.email) for i in _account(row).ids]
        return tuple(dict.fromkeys(found))


# --------------------------------------------------------------------------- team channels

CHANNEL = "channel"


def team_of(activity: Activity) -> str | None:
    """The id of the team an activity happened in (None outside a team: a personal chat)."""
    data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    team = data.get("team") if isinstance(data.get("team"), dict) else {}
    value = team.get("id") if team else None
    return value if isinstance(value, str) and value else None


def channels_of(activity: Activity, team_id: str) -> list[str]:
    """The channels of the team an activity names: the General channel (its id is the team's),
    the conversation's channel, the channel an event or the installation is about."""
    data: dict[str, Any] = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    found = [team_id]
    if activity.conversation is not None and activity.conversation.id:
        found.append(activity.conversation.id.split(";", 1)[0])  # "…;messageid=…" is a thread
    for holder in (data, data.get("settings") or {}):
        for key in ("channel", "selectedChannel"):
            channel = holder.get(key) if isinstance(holder, dict) else None
            if isinstance(channel, dict) and isinstance(channel.get("id"), str):
                found.append(channel["id"])
    return [c for c in dict.fromkeys(found) if c.startswith("19:")]


class TeamsChannels:
    """The team channels Gatepass may post to: every channel it has seen of a team where the
    app is installed, with the team's conversation reference (in the database). The only way
    the notifier finds a channel, whatever it posts there (a break-glass broadcast, an
    approval ask): a personal chat's reference says nothing of which teams have the app."""

    def __init__(self, *, ctx: Context) -> None:
        self._ctx = ctx

    async def remember(self, activity: Activity) -> None:
        """Store the channels a team-scope activity names (nothing outside a team)."""
        team_id = team_of(activity)
        if team_id is None or activity.service_url is None:
            return
        reference = reference_of(activity)
        await chat_channels.remember(
            self._ctx,
            platform=PLATFORM,
            channels=channels_of(activity, team_id),
            team_id=team_id,
            extra={"reference": reference.serialize()},
        )

    async def reference(self, channel_id: str) -> ConversationReference | None:
        """How to post a new message to ``channel_id`` (None: Gatepass has not seen it)."""
        row = await chat_channels.channel(self._ctx, platform=PLATFORM, channel_id=channel_id)
        stored = (row.extra or {}).get("reference") if row is not None else None
        if not isinstance(stored, dict):
            return None
        reference = ConversationReference.deserialize(stored)
        reference.conversation.id = channel_id
        reference.conversation.conversation_type = CHANNEL
        reference.conversation.is_group = True
        reference.activity_id = None
        return reference
