"""The fake Slack of the Slack-driven revocation benchmark, and what the load process may ask it.

``FakeSlack`` runs in the benchmark's process, beside the fake Atlas. The load process
(``bench.slack_load``) plays Slack's users from another process, so it asks this side, over
loopback HTTP, what a person would see in Slack: a fresh trigger id for the interaction they are
about to make, the request modal once Gatepass has filled (or updated) it, their Home tab, and
the approval DM that reached the approver. An indexer follows the fake's record of calls, so a
question costs a dictionary look-up, not a scan of every call so far.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable
from typing import Any, TypeVar

from aiohttp import web

from bot.slack import ids
from tests.fakes.slack import Call, FakeSlack

APPROVER = "U0BOB"
APPROVER_EMAIL = "bob@example.com"
SIGNING_SECRET = "bench-slack-signing-secret-0123456789"
WAIT = 60.0  # seconds a question waits for its answer before the person gives up
_TOKEN = re.compile(r"bench-load-(\d+)\b")
T = TypeVar("T")


def person_id(index: int) -> str:
    """The Slack user id of ``person{index}@example.com``."""
    return f"U0P{index:07d}"


def justification(index: int) -> str:
    """What person ``index`` types as the reason: it finds their ask in the approver's DMs."""
    return f"bench-load-{index}"


def add_people(slack: FakeSlack, first: int, count: int) -> None:
    slack.add_user(APPROVER, email=APPROVER_EMAIL, name="bob", real_name="Bob Ray")
    for index in range(first, first + count):
        slack.add_user(person_id(index), email=f"person{index}@example.com", name=f"p{index}")


def _approve_value(blocks: Any) -> str | None:
    for block in blocks if isinstance(blocks, list) else []:
        for element in block.get("elements") or []:
            if isinstance(element, dict) and element.get("action_id") == ids.APPROVE:
                return str(element.get("value"))
    return None


class SlackWatch:
    """Answers the load process's questions about the fake Slack (see the module docstring)."""

    def __init__(self, slack: FakeSlack) -> None:
        self.slack = slack
        self.opened: dict[str, str] = {}  # trigger id -> id of the modal it opened
        self.asks: dict[str, dict[str, str]] = {}  # person index -> their approval DM
        self._approver_channel = slack.dm_channel(APPROVER)
        self._cursor = 0
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self._indexer: asyncio.Task[None] | None = None
        self.url = ""

    async def start(self) -> SlackWatch:
        app = web.Application()
        app.router.add_post("/trigger", self._trigger)
        app.router.add_get("/view", self._view)
        app.router.add_get("/home", self._home)
        app.router.add_get("/ask", self._ask)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0, backlog=1024).start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"
        self._indexer = asyncio.create_task(self._index_forever())
        return self

    async def close(self) -> None:
        if self._indexer is not None:
            self._indexer.cancel()
        if self._runner is not None:
            await self._runner.cleanup()

    # ----------------------------------------------------------------------- indexing

    async def _index_forever(self) -> None:
        while True:
            await asyncio.sleep(0.01)
            calls = self.slack.calls
            if self._cursor == len(calls):
                continue
            for call in calls[self._cursor :]:
                self._index(call)
            self._cursor = len(calls)
            async with self._changed:
                self._changed.notify_all()

    def _index(self, call: Call) -> None:
        if not call.ok:
            return
        if call.method == "views.open":
            self.opened[str(call.get("trigger_id"))] = call.response["view"]["id"]
        elif (
            call.method == "chat.postMessage"
            and call.response.get("channel") == self._approver_channel
        ):
            found = _TOKEN.search(json.dumps(call.get("blocks")))
            value = _approve_value(call.get("blocks"))
            if found and value:
                ask = {"ts": call.response["ts"], "channel": self._approver_channel}
                self.asks[found.group(1)] = {**ask, "request_id": value}

    async def _until(self, found: Callable[[], T | None]) -> T | None:
        async with self._changed:
            try:
                await asyncio.wait_for(self._changed.wait_for(lambda: found() is not None), WAIT)
            except TimeoutError:
                return None
        return found()

    # ----------------------------------------------------------------------- questions

    async def _trigger(self, request: web.Request) -> web.Response:
        """A trigger id for an interaction by ``user`` (inside modal ``view``, if given)."""
        trigger = self.slack.new_trigger_id(
            user_id=request.query["user"], view_id=request.query.get("view")
        )
        return web.json_response({"trigger_id": trigger, "response_url": self.slack.response_url()})

    async def _view(self, request: web.Request) -> web.Response:
        """The request modal opened by ``trigger`` (or modal ``id``), once its hash is not
        ``after``: filled after the loading notice, or updated after a choice."""
        trigger, view_id = request.query.get("trigger"), request.query.get("id")
        after = request.query.get("after")

        def modal() -> dict[str, Any] | None:
            shown = view_id or self.opened.get(str(trigger))
            view = self.slack.views.views.get(str(shown))
            if view is None or view["callback_id"] != ids.REQUEST_SUBMIT or view["hash"] == after:
                return None
            return view

        return _answer(await self._until(modal))

    async def _home(self, request: web.Request) -> web.Response:
        user = request.query["user"]
        return _answer(await self._until(lambda: self.slack.views.homes.get(user)))

    async def _ask(self, request: web.Request) -> web.Response:
        """The approval DM asking the approver about person ``person``'s request."""
        person = request.query["person"]
        return _answer(await self._until(lambda: self.asks.get(person)))


def _answer(found: dict[str, Any] | None) -> web.Response:
    if found is None:
        return web.json_response({"error": "not_arrived"}, status=504)
    return web.json_response(found)
