"""What Slack sends to an app, built and signed as Slack does.

Slash commands arrive form-encoded; interactions (block_actions, view_submission,
block_suggestion, shortcut) as a form with one ``payload`` field holding JSON; events as JSON.
Each builder returns a :class:`SlackRequest`; :func:`post` signs it and sends it to the app
(``v0=HMAC-SHA256(secret, "v0:{timestamp}:{body}")`` in ``X-Slack-Signature``), and
:meth:`SlackRequest.payload` gives the dict Socket Mode carries instead.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode

import aiohttp

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
TEAM_ID = "T0GATEPASS"
APP_ID = "A0GATEPASS"
NO_RESPONSE_URL = "http://127.0.0.1:9/hooks/none"  # refused at once; never the internet

_ids = itertools.count(1)


def sign(body: bytes, secret: str, timestamp: int) -> dict[str, str]:
    """The two headers Slack signs a request with."""
    base = b"v0:" + str(timestamp).encode() + b":" + body
    digest = hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {"X-Slack-Signature": f"v0={digest}", "X-Slack-Request-Timestamp": str(timestamp)}


@dataclass(frozen=True)
class SlackRequest:
    body: bytes
    content_type: str
    envelope_type: str  # what Socket Mode calls it: slash_commands, interactive, events_api

    def headers(self, *, secret: str, timestamp: int | None = None) -> dict[str, str]:
        stamp = int(time.time()) if timestamp is None else timestamp
        return {"Content-Type": self.content_type, **sign(self.body, secret, stamp)}

    def payload(self) -> dict[str, Any]:
        """The body as the dict a Socket Mode envelope carries."""
        if self.content_type == JSON:
            return json.loads(self.body)
        fields = dict(_parse_form(self.body))
        if self.envelope_type == "interactive":
            return json.loads(fields["payload"])
        return fields


def _parse_form(body: bytes) -> list[tuple[str, str]]:
    return parse_qsl(body.decode(), keep_blank_values=True)


async def post(
    session: aiohttp.ClientSession,
    url: str,
    request: SlackRequest,
    *,
    secret: str,
    timestamp: int | None = None,
    headers: dict[str, str] | None = None,
) -> aiohttp.ClientResponse:
    """Sign ``request`` (now, or at ``timestamp``) and POST it; the response is read."""
    all_headers = {**request.headers(secret=secret, timestamp=timestamp), **(headers or {})}
    async with session.post(url, data=request.body, headers=all_headers) as response:
        await response.read()
        return response


def _form(fields: dict[str, str], envelope_type: str) -> SlackRequest:
    return SlackRequest(urlencode(fields).encode(), FORM, envelope_type)


def _interaction(payload: dict[str, Any]) -> SlackRequest:
    return _form({"payload": json.dumps(payload)}, "interactive")


def _user(user_id: str, user_name: str) -> dict[str, str]:
    return {"id": user_id, "username": user_name, "name": user_name, "team_id": TEAM_ID}


def slash_command(
    *,
    command: str = "/gatepass",
    text: str = "",
    user_id: str = "U0ALICE",
    user_name: str = "alice",
    channel_id: str = "D0ALICE",
    trigger_id: str = "0.0.unknown-trigger",
    response_url: str = NO_RESPONSE_URL,
) -> SlackRequest:
    return _form(
        {
            "token": "deprecated-verification-token",
            "team_id": TEAM_ID,
            "team_domain": "gatepass-test",
            "channel_id": channel_id,
            "channel_name": "directmessage",
            "user_id": user_id,
            "user_name": user_name,
            "command": command,
            "text": text,
            "api_app_id": APP_ID,
            "is_enterprise_install": "false",
            "response_url": response_url,
            "trigger_id": trigger_id,
        },
        "slash_commands",
    )


def block_actions(
    *,
    action_id: str,
    value: str | None = None,
    user_id: str = "U0ALICE",
    user_name: str = "alice",
    block_id: str = "actions",
    trigger_id: str = "0.0.unknown-trigger",
    channel_id: str | None = "D0ALICE",
    message_ts: str | None = None,
    view: dict[str, Any] | None = None,
    selected_option: dict[str, Any] | None = None,
    response_url: str = NO_RESPONSE_URL,
) -> SlackRequest:
    """A button click (``value``) or select change (``selected_option``) in a message or view."""
    action: dict[str, Any] = {
        "action_id": action_id,
        "block_id": block_id,
        "type": "static_select" if selected_option is not None else "button",
        "action_ts": f"{time.time():.6f}",
    }
    if value is not None:
        action["value"] = value
    if selected_option is not None:
        action["selected_option"] = selected_option
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": _user(user_id, user_name),
        "api_app_id": APP_ID,
        "team": {"id": TEAM_ID, "domain": "gatepass-test"},
        "trigger_id": trigger_id,
        "actions": [action],
    }
    if view is not None:
        payload["container"] = {"type": "view", "view_id": view.get("id", "V0UNKNOWN")}
        payload["view"] = view
    else:
        ts = message_ts or f"{time.time():.6f}"
        payload["container"] = {"type": "message", "message_ts": ts, "channel_id": channel_id}
        payload["channel"] = {"id": channel_id, "name": "directmessage"}
        payload["message"] = {"type": "message", "ts": ts, "text": ""}
        payload["response_url"] = response_url
    return _interaction(payload)


def view_submission(
    *,
    callback_id: str,
    values: dict[str, dict[str, Any]] | None = None,
    user_id: str = "U0ALICE",
    user_name: str = "alice",
    private_metadata: str = "",
    view_id: str | None = None,
    trigger_id: str = "0.0.unknown-trigger",
) -> SlackRequest:
    """A modal submitted; ``values`` is ``{block_id: {action_id: {"type": …, "value": …}}}``."""
    view_id = view_id or f"V{next(_ids):08d}"
    return _interaction(
        {
            "type": "view_submission",
            "team": {"id": TEAM_ID, "domain": "gatepass-test"},
            "user": _user(user_id, user_name),
            "api_app_id": APP_ID,
            "trigger_id": trigger_id,
            "view": {
                "id": view_id,
                "team_id": TEAM_ID,
                "type": "modal",
                "callback_id": callback_id,
                "private_metadata": private_metadata,
                "state": {"values": values or {}},
                "hash": f"{time.time():.6f}",
                "root_view_id": view_id,
                "app_id": APP_ID,
            },
            "response_urls": [],
        }
    )


def block_suggestion(
    *,
    action_id: str,
    value: str,
    block_id: str = "input",
    user_id: str = "U0ALICE",
    user_name: str = "alice",
    callback_id: str = "request_submit",
    private_metadata: str = "",
    values: dict[str, dict[str, Any]] | None = None,
) -> SlackRequest:
    """An ``external_select`` asking for options matching what the user typed (``value``)."""
    return _interaction(
        {
            "type": "block_suggestion",
            "user": _user(user_id, user_name),
            "team": {"id": TEAM_ID, "domain": "gatepass-test"},
            "api_app_id": APP_ID,
            "action_id": action_id,
            "block_id": block_id,
            "value": value,
            "container": {"type": "view", "view_id": "V0SUGGEST"},
            "view": {
                "id": "V0SUGGEST",
                "type": "modal",
                "callback_id": callback_id,
                "private_metadata": private_metadata,
                "state": {"values": values or {}},
            },
        }
    )


def shortcut(
    *,
    callback_id: str = "request_access",
    user_id: str = "U0ALICE",
    user_name: str = "alice",
    trigger_id: str = "0.0.unknown-trigger",
) -> SlackRequest:
    """A global shortcut (lightning menu)."""
    return _interaction(
        {
            "type": "shortcut",
            "token": "deprecated-verification-token",
            "action_ts": f"{time.time():.6f}",
            "team": {"id": TEAM_ID, "domain": "gatepass-test"},
            "user": _user(user_id, user_name),
            "is_enterprise_install": False,
            "callback_id": callback_id,
            "trigger_id": trigger_id,
        }
    )


def event_callback(event: dict[str, Any], *, event_id: str | None = None) -> SlackRequest:
    """An Events API delivery, e.g. ``{"type": "app_home_opened", "user": "U1", "tab": "home"}``."""
    body = {
        "token": "deprecated-verification-token",
        "team_id": TEAM_ID,
        "api_app_id": APP_ID,
        "event": {"event_ts": f"{time.time():.6f}", **event},
        "type": "event_callback",
        "event_id": event_id or f"Ev{next(_ids):08d}",
        "event_time": int(time.time()),
        "authorizations": [
            {"team_id": TEAM_ID, "user_id": "U0BOT", "is_bot": True, "is_enterprise_install": False}
        ],
    }
    return SlackRequest(json.dumps(body).encode(), JSON, "events_api")


def url_verification(challenge: str = "challenge-accepted") -> SlackRequest:
    body = {"token": "deprecated-verification-token", "challenge": challenge}
    return SlackRequest(
        json.dumps({**body, "type": "url_verification"}).encode(), JSON, "events_api"
    )
