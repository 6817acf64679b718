"""Answering the person who clicked: privately where they clicked, and their message brought up
to date at once (the job that updates every copy follows)."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.slack import text
from bot.slack.blocks.common import Rendered, section
from bot.slack.deps import Deps

MAX_REQUEST_ID = 32
SLACK_TROUBLE = "Gatepass could not ask Slack who you are just now. Try again in a moment."


def actor(body: dict[str, Any]) -> str:
    """The Slack user id of whoever sent the payload (command, interaction or event)."""
    user = body.get("user")
    if isinstance(user, dict):
        return str(user.get("id", ""))
    event = body.get("event")
    if user is None and isinstance(event, dict):
        user = event.get("user")
    return str(body.get("user_id") or user or "")


def clicked_value(body: dict[str, Any]) -> str:
    """The clicked button's value: a request id, or whatever a tampered payload holds (core
    decides what it means; it is cut short so an error message stays readable)."""
    action = (body.get("actions") or [{}])[0]
    return str(action.get("value") or "").strip()[:MAX_REQUEST_ID]


def error_text(error: Exception) -> str:
    return f":warning: {text.escape(str(error))}"


def metadata(**values: str) -> str:
    return json.dumps(values, separators=(",", ":"))


def read_metadata(view: dict[str, Any]) -> dict[str, str]:
    try:
        values = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        return {}
    if not isinstance(values, dict):
        return {}
    return {str(k): str(v) for k, v in values.items() if isinstance(v, str)}


def origin(body: dict[str, Any]) -> dict[str, str]:
    """Where a click came from, to update that message later: channel and ts, or the Home tab."""
    container = body.get("container") or {}
    if container.get("type") == "message" and container.get("is_ephemeral"):
        url = body.get("response_url")
        return {"response_url": url} if isinstance(url, str) and url else {}
    if container.get("type") == "message":
        return {"channel": str(container.get("channel_id", "")), "ts": str(container["message_ts"])}
    if (body.get("view") or {}).get("type") == "home":
        return {"home": "1"}
    return {}


async def tell(deps: Deps, body: dict[str, Any], mrkdwn: str) -> None:
    """A private note to whoever acted: ephemeral in the conversation they clicked in, on top
    of their Home tab, or else in their DM with the app."""
    user_id = actor(body)
    container = body.get("container") or {}
    fallback = text.truncate(mrkdwn, 300)
    try:
        if container.get("type") == "message" and container.get("channel_id"):
            await deps.client.chat_postEphemeral(
                channel=container["channel_id"],
                user=user_id,
                text=fallback,
                blocks=[section(mrkdwn)],
            )
        elif (body.get("view") or {}).get("type") == "home":
            await deps.home.publish(user_id, notice=mrkdwn)
        else:
            await deps.client.chat_postMessage(
                channel=user_id, text=fallback, blocks=[section(mrkdwn)]
            )
    except (SlackApiError, SlackClientError) as error:
        deps.logger.warning("could not answer %s privately: %s", user_id, error)


async def replace_message(
    deps: Deps, *, user_id: str, where: dict[str, str], rendered: Rendered | None
) -> None:
    """Bring the message the person acted on (or their Home tab) up to date now."""
    try:
        if where.get("channel") and where.get("ts") and rendered is not None:
            await deps.client.chat_update(
                channel=where["channel"],
                ts=where["ts"],
                text=rendered.text,
                blocks=rendered.blocks,
            )
        elif where.get("response_url") and rendered is not None:
            await AsyncWebhookClient(where["response_url"]).send(
                text=rendered.text, blocks=rendered.blocks, replace_original=True
            )
        elif where.get("home"):
            await deps.home.publish(user_id)
    except (SlackApiError, SlackClientError, aiohttp.ClientError) as error:
        deps.logger.info("could not update the message %s acted on: %s", user_id, error)
