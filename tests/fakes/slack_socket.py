"""Slack's side of Socket Mode on loopback: a WebSocket server the app's SocketModeClient dials.

Wire it to the fake Web API so ``apps.connections.open`` hands out its URLs::

    async with FakeSlack() as slack, FakeSocketMode() as socket:
        slack.attach_socket(socket)
        handler = await start_socket_mode(app, app_token=slack.app_token, api_url=slack.api_url)
        envelope_id = await socket.push_request(slash_command(text="help"))
        ack = await socket.wait_for_ack(envelope_id)   # {"envelope_id": …, "payload"?: …}

Each URL carries a one-time ticket, as Slack's do; a connection is greeted with ``hello``.
"""

from __future__ import annotations

import asyncio
import itertools
import secrets
from typing import Any

from aiohttp import WSMsgType, web

from tests.fakes.slack_requests import APP_ID, SlackRequest

# Interactions whose ack may carry a response (errors, options, response_action).
_RESPONSE_PAYLOAD_TYPES = {"view_submission", "block_suggestion", "block_actions"}


class FakeSocketMode:
    def __init__(self, *, app_id: str = APP_ID) -> None:
        self.app_id = app_id
        self.connections: list[web.WebSocketResponse] = []
        self.received: list[dict[str, Any]] = []
        self.connects = 0
        self._tickets: set[str] = set()
        self._ids = itertools.count(1)
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    async def start(self) -> FakeSocketMode:
        app = web.Application()
        app.router.add_get("/link/", self._link)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.base_url = f"ws://127.0.0.1:{self._runner.addresses[0][1]}"
        return self

    async def close(self) -> None:
        for connection in list(self.connections):
            await connection.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeSocketMode:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    def new_url(self) -> str:
        """A URL with a fresh one-time ticket (what ``apps.connections.open`` answers)."""
        ticket = secrets.token_hex(8)
        self._tickets.add(ticket)
        return f"{self.base_url}/link/?ticket={ticket}&app_id={self.app_id}"

    # ----------------------------------------------------------------------- test controls

    async def wait_connected(self, *, connects: int = 1, timeout: float = 5.0) -> None:
        """Until ``connects`` connections have been greeted in all (reconnects count)."""
        await self._wait(lambda: self.connects >= connects, timeout, f"{connects} connection(s)")

    async def push(self, envelope: dict[str, Any]) -> str:
        """Send ``envelope`` on the newest connection; returns its ``envelope_id``."""
        await self.wait_connected()
        envelope.setdefault("envelope_id", f"env-{next(self._ids):06d}")
        await self.connections[-1].send_json(envelope)
        return str(envelope["envelope_id"])

    async def push_request(self, request: SlackRequest, *, retry_attempt: int = 0) -> str:
        """What Slack would POST over HTTP, sent as a Socket Mode envelope instead."""
        payload = request.payload()
        accepts = request.envelope_type == "slash_commands" or (
            request.envelope_type == "interactive"
            and payload.get("type") in _RESPONSE_PAYLOAD_TYPES
        )
        envelope: dict[str, Any] = {
            "type": request.envelope_type,
            "payload": payload,
            "accepts_response_payload": accepts,
        }
        if request.envelope_type != "slash_commands":
            envelope["retry_attempt"] = retry_attempt
            envelope["retry_reason"] = "timeout" if retry_attempt else ""
        return await self.push(envelope)

    async def send_disconnect(self, reason: str = "refresh_requested") -> None:
        """Ask the client to reconnect, as Slack does every few hours."""
        await self.connections[-1].send_json(
            {"type": "disconnect", "reason": reason, "debug_info": {"host": "applink-fake"}}
        )

    async def drop(self) -> None:
        """Close every connection from Slack's side, without a word (a network cut)."""
        for connection in list(self.connections):
            await connection.close()

    async def wait_for_ack(self, envelope_id: str, *, timeout: float = 5.0) -> dict[str, Any]:
        """The client's acknowledgement of ``envelope_id``: ``{envelope_id, payload?}``."""

        def ack() -> dict[str, Any] | None:
            return next((m for m in self.received if m.get("envelope_id") == envelope_id), None)

        await self._wait(lambda: ack() is not None, timeout, f"an ack of {envelope_id}")
        found = ack()
        assert found is not None
        return found

    async def _wait(self, ready: Any, timeout: float, what: str) -> None:
        async with self._changed:
            try:
                await asyncio.wait_for(self._changed.wait_for(ready), timeout)
            except TimeoutError:
                raise AssertionError(
                    f"{what} did not arrive within {timeout}s; received: {self.received}"
                ) from None

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    # ----------------------------------------------------------------------- WebSocket

    async def _link(self, request: web.Request) -> web.StreamResponse:
        ticket = request.query.get("ticket", "")
        if ticket not in self._tickets:
            return web.json_response({"ok": False, "error": "invalid_ticket"}, status=401)
        self._tickets.discard(ticket)
        connection = web.WebSocketResponse(autoping=True)
        await connection.prepare(request)
        self.connections.append(connection)
        await connection.send_json(
            {
                "type": "hello",
                "num_connections": len(self.connections),
                "debug_info": {"host": "applink-fake", "approximate_connection_time": 18060},
                "connection_info": {"app_id": self.app_id},
            }
        )
        self.connects += 1
        await self._notify()
        try:
            async for message in connection:
                if message.type == WSMsgType.TEXT:
                    self.received.append(message.json())
                    await self._notify()
        finally:
            self.connections.remove(connection)
        return connection
