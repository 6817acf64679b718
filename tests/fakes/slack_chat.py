"""The fake Slack's workspace: people (the roster), conversations and the messages in them.

Messages are kept by channel and ts; ``chat.update`` of a ts that was never posted is
``message_not_found``, a channel nobody opened is ``channel_not_found``, and every ``blocks``
argument is held to Block Kit's limits (``invalid_blocks``). Posting to a user id posts to the
app's DM with that person, as Slack does.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass
from typing import Any

from tests.fakes.slack_blocks import check_blocks
from tests.fakes.slack_views import SlackError

MAX_MESSAGE_TEXT = 40000


@dataclass
class SlackUser:
    id: str
    email: str
    name: str
    real_name: str
    is_bot: bool = False
    deleted: bool = False
    tz: str = "Europe/Amsterdam"

    def to_api(self, team_id: str) -> dict[str, Any]:
        return {
            "id": self.id,
            "team_id": team_id,
            "name": self.name,
            "deleted": self.deleted,
            "real_name": self.real_name,
            "tz": self.tz,
            "is_bot": self.is_bot,
            "is_app_user": False,
            "is_email_confirmed": True,
            "profile": {
                "email": self.email,
                "real_name": self.real_name,
                "display_name": self.name,
                "team": team_id,
            },
        }


class Workspace:
    def __init__(self, *, team_id: str, app_id: str, bot_id: str, bot_user_id: str) -> None:
        self.team_id = team_id
        self.app_id = app_id
        self.bot_id = bot_id
        self.bot_user_id = bot_user_id
        self.users: dict[str, SlackUser] = {}
        self.channels: set[str] = set()
        self.messages: dict[str, dict[str, dict[str, Any]]] = {}
        self.ephemerals: list[dict[str, Any]] = []
        self._ts = itertools.count(1)
        self._epoch = int(time.time())

    @staticmethod
    def dm_channel(user_id: str) -> str:
        return "D" + user_id[1:]

    def _channel(self, args: dict[str, Any]) -> str:
        channel = str(args.get("channel") or "")
        if channel in self.users:  # posting to a user id posts to the app's DM with them
            channel = self._open_dm([channel])
        if channel not in self.channels:
            raise SlackError("channel_not_found")
        return channel

    def _content(self, args: dict[str, Any], *, required: bool = True) -> None:
        text, blocks = args.get("text"), args.get("blocks")
        if required and not text and not blocks and not args.get("attachments"):
            raise SlackError("no_text")
        if isinstance(text, str) and len(text) > MAX_MESSAGE_TEXT:
            raise SlackError("msg_too_long")
        if blocks is not None:
            problems = check_blocks(blocks, surface="message")
            if problems:
                raise SlackError(
                    "invalid_blocks", errors=problems, response_metadata={"messages": problems}
                )

    def _next_ts(self) -> str:
        return f"{self._epoch}.{next(self._ts):06d}"

    def post_message(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(args)
        self._content(args)
        ts = self._next_ts()
        message = {
            "type": "message",
            "user": self.bot_user_id,
            "bot_id": self.bot_id,
            "app_id": self.app_id,
            "team": self.team_id,
            "text": args.get("text") or "",
            "ts": ts,
        }
        for key in ("blocks", "thread_ts", "metadata", "attachments"):
            if key in args:
                message[key] = args[key]
        self.messages.setdefault(channel, {})[ts] = message
        return {"channel": channel, "ts": ts, "message": message}

    def update(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(args)
        message = self.messages.get(channel, {}).get(str(args.get("ts")))
        if message is None:
            raise SlackError("message_not_found")
        if message.get("user") != self.bot_user_id:
            raise SlackError("cant_update_message")
        self._content(args, required=False)
        if "text" in args:
            message["text"] = args["text"] or ""
        if "blocks" in args:  # absent: Slack keeps the old blocks; [] removes them
            message["blocks"] = args["blocks"]
        message["edited"] = {"user": self.bot_user_id, "ts": self._next_ts()}
        return {
            "channel": channel,
            "ts": message["ts"],
            "text": message["text"],
            "message": message,
        }

    def post_ephemeral(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(args)
        if args.get("user") not in self.users:
            raise SlackError("user_not_found")
        self._content(args)
        ts = self._next_ts()
        fields = {k: args[k] for k in ("text", "blocks", "thread_ts") if k in args}
        self.ephemerals.append({"channel": channel, "user": args["user"], "ts": ts, **fields})
        return {"message_ts": ts}

    def _open_dm(self, user_ids: list[str]) -> str:
        for user_id in user_ids:
            if user_id not in self.users:
                raise SlackError("user_not_found")
        if len(user_ids) == 1:
            channel = self.dm_channel(user_ids[0])
        else:
            channel = "G" + "".join(sorted(u[1:] for u in user_ids))[:20]
        self.channels.add(channel)
        return channel

    def conversations_open(self, args: dict[str, Any]) -> dict[str, Any]:
        users = [u for u in str(args.get("users") or "").split(",") if u]
        if not users:
            raise SlackError("users_list_not_supplied")
        if len(users) > 8:
            raise SlackError("too_many_users")
        return {"channel": {"id": self._open_dm(users)}}

    def users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        user = self.users.get(str(args.get("user")))
        if user is None:
            raise SlackError("user_not_found")
        return {"user": user.to_api(self.team_id)}

    def lookup_by_email(self, args: dict[str, Any]) -> dict[str, Any]:
        email = str(args.get("email") or "").lower()
        for user in self.users.values():
            if user.email.lower() == email:
                return {"user": user.to_api(self.team_id)}
        raise SlackError("users_not_found")
