"""The Teams channel service, faked: Teams-shaped activities POSTed to a bot with a token.

channel = FakeTeamsChannel(openid=openid, connector=connector)
status, body = await channel.post(bot_url, channel.message("request", user=ALICE))
status, body = await channel.post(bot_url, channel.card_action(verb="approve", user=BOB))
status, _ = await channel.post(bot_url, activity, token=channel.token(expired=True))
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

import aiohttp

from tests.fakes.teams import (
    APP_ID,
    TENANT_ID,
    FakeBotConnector,
    FakeMember,
    FakeOpenIdServer,
)

_DEFAULT: Any = object()


@dataclass
class FakeTeamsChannel:
    """The Teams channel service: Teams-shaped activities, POSTed with a minted token."""

    openid: FakeOpenIdServer
    connector: FakeBotConnector
    app_id: str = APP_ID
    tenant_id: str = TENANT_ID
    bot_name: str = "Gatepass"

    def token(self, **overrides: Any) -> str:
        return self.openid.mint(
            **{"app_id": self.app_id, "service_url": self.connector.url, **overrides}
        )

    def activity(self, type: str, *, user: FakeMember, **fields: Any) -> dict[str, Any]:
        return {
            "type": type,
            "id": f"f:{uuid.uuid4().hex[:12]}",
            "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
            "serviceUrl": self.connector.url,
            "channelId": "msteams",
            "from": user.account(),
            "conversation": {
                "conversationType": "personal",
                "tenantId": self.tenant_id,
                "id": f"a:personal-{user.id}",
            },
            "recipient": {"id": f"28:{self.app_id}", "name": self.bot_name},
            "channelData": {"tenant": {"id": self.tenant_id}},
            "locale": "en-US",
            **fields,
        }

    def message(self, text: str, *, user: FakeMember, **fields: Any) -> dict[str, Any]:
        return self.activity("message", user=user, text=text, textFormat="plain", **fields)

    def card_action(
        self, *, verb: str, user: FakeMember, data: dict[str, Any] | None = None, **fields: Any
    ) -> dict[str, Any]:
        action = {"type": "Action.Execute", "id": verb, "verb": verb, "data": data or {}}
        value = {"action": action, "trigger": "manual"}
        return self.activity("invoke", user=user, name="adaptiveCard/action", value=value, **fields)

    async def post(
        self,
        url: str,
        activity: dict[str, Any],
        *,
        token: str | None = _DEFAULT,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, Any]:
        """POST the activity; ``token=None`` sends no Authorization header."""
        token = self.token() if token is _DEFAULT else token
        sent = {"Authorization": f"Bearer {token}"} if token is not None else {}
        sent.update(headers or {})
        async with (
            aiohttp.ClientSession() as session,
            session.post(url, json=activity, headers=sent) as response,
        ):
            text = await response.text()
            is_json = response.content_type == "application/json"
            return response.status, json.loads(text) if is_json else text
