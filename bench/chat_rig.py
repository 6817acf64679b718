"""Slack configured for ``bench.jobs --chat slack``: the fake Web API in its own process
(``bench.slack_server``), Gatepass's real ``SlackNotifier`` talking to it on loopback, and each
grant's posted copies seeded as a real request leaves them: the requester's receipt and the
owner's approval message, both in the fake and in ``posted_messages``."""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from bench.slack_server import OWNER_EMAIL, OWNER_ID, email, user_id
from bot.slack.client import build_web_client
from bot.slack.deps import InFlight
from bot.slack.home import HomeTab
from bot.slack.identity import SlackIdentity
from bot.slack.notifier import SlackNotifier
from core.context import Context
from core.storage.models import ChatAccount, PostedMessage
from core.storage.store import Store

SEEDING = 16  # seed posts in flight at once


def directory(people: int) -> dict[str, Any]:
    """The bench's people (requesters in ``data-eng``) and the owner (``dba``)."""
    users = [
        {"email": email(i), "name": f"Person {i}", "groups": ["data-eng"]} for i in range(people)
    ]
    users.append({"email": OWNER_EMAIL, "name": "Olive Owner", "groups": ["dba"]})
    return {"users": users}


class SlackRig:
    def __init__(self, people: int) -> None:
        self.people = people
        self._server: asyncio.subprocess.Process | None = None
        self._in_flight = InFlight(logger=logging.getLogger("bench.slack"))
        self.api_url = ""
        self._token = ""

    async def start(self) -> SlackRig:
        self._server = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.slack_server",
            str(self.people),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        assert self._server.stdout is not None
        hello = json.loads(await self._server.stdout.readline())
        self.api_url, self._token = hello["api_url"], hello["bot_token"]
        return self

    def notifier(self, ctx: Context) -> SlackNotifier:
        log = logging.getLogger("bench.slack")
        client = build_web_client(token=self._token, api_url=self.api_url, logger=log)
        identity = SlackIdentity(ctx=ctx, client=client, logger=log)
        home = HomeTab(
            ctx=ctx, client=client, identity=identity, in_flight=self._in_flight, logger=log
        )
        return SlackNotifier(client=client, identity=identity, home=home, logger=log)

    async def calls(self) -> dict[str, int]:
        """The calls the fake answered so far, by method."""
        assert self._server is not None and self._server.stdin and self._server.stdout
        self._server.stdin.write(b"count\n")
        await self._server.stdin.drain()
        counts: dict[str, int] = json.loads(await self._server.stdout.readline())
        return counts

    async def drain(self) -> None:
        """Until the Home-tab refreshes in the background are published."""
        await asyncio.sleep(0.5)
        await self._in_flight.drain(within=60)

    async def close(self) -> None:
        if self._server is not None and self._server.stdin is not None:
            self._server.stdin.close()
            await self._server.wait()

    async def seed(self, store: Store, request_ids: list[str]) -> None:
        """Known Slack accounts for everyone; a receipt and an approval copy per request."""
        now = datetime.now(UTC)
        accounts = [
            {"platform": "slack", "platform_user_id": user_id(i), "email": email(i), "extra": {}}
            for i in range(self.people)
        ]
        accounts.append(
            {"platform": "slack", "platform_user_id": OWNER_ID, "email": OWNER_EMAIL, "extra": {}}
        )
        client = build_web_client(token=self._token, api_url=self.api_url)
        slots = asyncio.Semaphore(SEEDING)

        async def post(index: int, request_id: str) -> list[dict[str, Any]]:
            rows = []
            for to, recipient, purpose in (
                (user_id(index), email(index), "receipt"),
                (OWNER_ID, OWNER_EMAIL, "approval"),
            ):
                async with slots:
                    posted = await client.chat_postMessage(channel=to, text="seeded")
                rows.append(
                    {
                        "request_id": request_id,
                        "recipient": recipient,
                        "purpose": purpose,
                        "platform": "slack",
                        "channel": posted["channel"],
                        "message_id": posted["ts"],
                        "posted_at": now,
                    }
                )
            return rows

        posted = await asyncio.gather(*(post(i, r) for i, r in enumerate(request_ids)))
        async with store.transaction() as session:
            await session.execute(
                sa.insert(ChatAccount), [{**a, "updated_at": now} for a in accounts]
            )
            await session.execute(
                sa.insert(PostedMessage), [row for rows in posted for row in rows]
            )
