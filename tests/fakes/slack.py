"""A fake Slack Web API on loopback, for the bot's real ``AsyncWebClient`` (``base_url=api_url``).

It speaks Slack's wire protocol: bearer tokens (``not_authed`` / ``invalid_auth`` /
``not_allowed_token_type``, HTTP 200 with ``ok: false``), form, query or JSON arguments, 429 with
``Retry-After``, Block Kit limits (``invalid_blocks`` / ``invalid_arguments`` with Slack's
``[ERROR] … [json-pointer:…]`` messages), trigger ids that expire after 3 s and work once.
It keeps what a test wants to look at (messages by channel and ts, views, Home tabs, ephemeral
messages) and records every call, so tests wait on what arrived instead of sleeping::

    async with FakeSlack() as slack:
        slack.add_user("U0ALICE", email="alice@example.com")
        client = build_web_client(token=slack.bot_token, api_url=slack.api_url)
        ...
        call = await slack.wait_for("chat.postMessage", lambda c: c["channel"] == "U0ALICE")

Signed inbound requests (slash commands, interactions, events) are built by
``tests.fakes.slack_requests`` (re-exported here); Socket Mode is ``tests.fakes.slack_socket``.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from aiohttp import web

from tests.fakes.slack_chat import SlackUser, Workspace
from tests.fakes.slack_requests import (  # noqa: F401 - re-exported for other suites
    APP_ID,
    TEAM_ID,
    SlackRequest,
    block_actions,
    block_suggestion,
    event_callback,
    post,
    shortcut,
    sign,
    slash_command,
    url_verification,
    view_submission,
)
from tests.fakes.slack_views import SlackError, Views

BOT_USER_ID = "U0GATEBOT"
BOT_ID = "B0GATEBOT"
_JSON_ARGS = ("blocks", "attachments", "view", "metadata")


@dataclass(frozen=True)
class Call:
    """One Web API call as the fake answered it. ``call["channel"]`` reads an argument."""

    method: str
    args: dict[str, Any]
    token: str | None
    status: int
    response: dict[str, Any]

    @property
    def ok(self) -> bool:
        return self.status == 200 and bool(self.response.get("ok"))

    def __getitem__(self, key: str) -> Any:
        return self.args[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.args.get(key, default)


class SocketEndpoint(Protocol):
    def new_url(self) -> str: ...


@dataclass
class _Fault:
    remaining: int
    method: str | None
    status: int
    error: str
    headers: dict[str, str] = field(default_factory=dict)
    channel: str | None = None  # only calls about this channel (``not_in_channel`` is per channel)


class FakeSlack:
    def __init__(
        self,
        *,
        bot_token: str = "xoxb-gatepass-test",
        app_token: str = "xapp-1-gatepass-test",
        team_id: str = TEAM_ID,
        bot_user_id: str = BOT_USER_ID,
        trigger_ttl: float = 3.0,
    ) -> None:
        self.bot_token = bot_token
        self.app_token = app_token
        self.team_id = team_id
        self.bot_user_id = bot_user_id
        self.workspace = Workspace(
            team_id=team_id, app_id=APP_ID, bot_id=BOT_ID, bot_user_id=bot_user_id
        )
        self.users = self.workspace.users
        self.channels = self.workspace.channels
        self.messages = self.workspace.messages
        self.ephemerals = self.workspace.ephemerals
        self.views = Views(team_id=team_id, app_id=APP_ID, bot_id=BOT_ID, trigger_ttl=trigger_ttl)
        self.calls: list[Call] = []
        self.socket: SocketEndpoint | None = None
        self._faults: list[_Fault] = []
        self._delays: dict[str, float] = {}
        self.arrived: list[tuple[str, dict[str, Any]]] = []  # every call, as it comes in
        self.abandoned: list[str] = []  # slowed calls whose caller hung up before the answer
        self._changed = asyncio.Condition()
        self._hooks = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.base_url = ""
        self._methods: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
            "auth.test": self._auth_test,
            "apps.connections.open": self._connections_open,
            "chat.postMessage": self.workspace.post_message,
            "chat.update": self.workspace.update,
            "chat.postEphemeral": self.workspace.post_ephemeral,
            "conversations.open": self.workspace.conversations_open,
            "users.info": self.workspace.users_info,
            "users.lookupByEmail": self.workspace.lookup_by_email,
            "views.open": self.views.open,
            "views.push": self.views.push,
            "views.update": self.views.update,
            "views.publish": self._publish,
        }

    # ----------------------------------------------------------------------- lifecycle

    async def start(self) -> FakeSlack:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/hooks/{hook}", self._hook)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        port = self._runner.addresses[0][1]
        self.base_url = f"http://127.0.0.1:{port}"
        return self

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeSlack:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api/"

    # ----------------------------------------------------------------------- test controls

    def add_user(
        self,
        user_id: str,
        *,
        email: str,
        name: str | None = None,
        real_name: str | None = None,
        is_bot: bool = False,
        deleted: bool = False,
    ) -> SlackUser:
        name = name or email.split("@", 1)[0]
        user = SlackUser(user_id, email, name, real_name or name.title(), is_bot, deleted)
        self.users[user_id] = user
        self.channels.add(self.dm_channel(user_id))  # the app's DM with them (Messages tab)
        return user

    def add_channel(self, channel_id: str) -> None:
        self.channels.add(channel_id)

    def dm_channel(self, user_id: str) -> str:
        """The id of the bot's DM with ``user_id`` (what ``conversations.open`` answers)."""
        return self.workspace.dm_channel(user_id)

    def new_trigger_id(
        self, *, user_id: str | None = None, view_id: str | None = None, age: float = 0.0
    ) -> str:
        """A trigger id as an interaction by ``user_id`` would carry it, ``age`` seconds old.

        ``view_id``: the interaction happened inside that open modal (needed by views.push).
        """
        return self.views.new_trigger(user_id=user_id, view_id=view_id, age=age)

    def rate_limit(self, n: int = 1, *, retry_after: int = 1, method: str | None = None) -> None:
        """Answer the next ``n`` calls (to ``method``, or any) with 429 and ``Retry-After``."""
        headers = {"Retry-After": str(retry_after)}
        self._faults.append(_Fault(n, method, 429, "ratelimited", headers))

    def fail_next(
        self,
        method: str,
        *,
        error: str,
        n: int = 1,
        status: int = 200,
        channel: str | None = None,
    ) -> None:
        """Answer the next ``n`` calls to ``method`` (about ``channel``, when given) with
        ``error`` (e.g. ``channel_not_found``)."""
        self._faults.append(_Fault(n, method, status, error, channel=channel))

    def clear_faults(self) -> None:
        """Answer normally again (undo ``rate_limit`` and ``fail_next``)."""
        self._faults.clear()

    def slow_down(self, method: str, seconds: float) -> None:
        """Answer every call to ``method`` ``seconds`` late (``arrived`` shows it came in;
        ``abandoned`` the calls whose caller did not wait for the answer)."""
        self._delays[method] = seconds

    def attach_socket(self, socket: SocketEndpoint) -> None:
        """``apps.connections.open`` hands out ``socket.new_url()`` from now on."""
        self.socket = socket

    def response_url(self) -> str:
        """A ``response_url`` for a payload: what the app posts there is a ``response_url`` call."""
        return f"{self.base_url}/hooks/{next(self._hooks)}"

    def message(self, channel: str, ts: str) -> dict[str, Any]:
        return self.messages[channel][ts]

    # ----------------------------------------------------------------------- waiting

    def calls_to(self, method: str, *, include_failed: bool = False) -> list[Call]:
        return [c for c in self.calls if c.method == method and (include_failed or c.ok)]

    def mark(self) -> int:
        """A position in ``calls``: pass it as ``since`` to wait only for what comes after."""
        return len(self.calls)

    async def wait_for(
        self,
        method: str,
        predicate: Callable[[Call], bool] | None = None,
        *,
        timeout: float = 5.0,
        since: int = 0,
        include_failed: bool = False,
    ) -> Call:
        """The first successful call to ``method`` (since ``since``) that ``predicate`` accepts,
        already recorded or still to come; AssertionError after ``timeout`` seconds."""
        calls = await self.wait_for_calls(
            method, 1, predicate, timeout=timeout, since=since, include_failed=include_failed
        )
        return calls[0]

    async def wait_for_calls(
        self,
        method: str,
        count: int,
        predicate: Callable[[Call], bool] | None = None,
        *,
        timeout: float = 5.0,
        since: int = 0,
        include_failed: bool = False,
    ) -> list[Call]:
        """The first ``count`` matching calls, waiting until that many arrived."""

        def matching() -> list[Call]:
            return [
                call
                for call in self.calls[since:]
                if call.method == method
                and (include_failed or call.ok)
                and (predicate is None or predicate(call))
            ]

        async with self._changed:
            try:
                await asyncio.wait_for(
                    self._changed.wait_for(lambda: len(matching()) >= count), timeout
                )
            except TimeoutError:
                seen = [(c.method, c.response.get("error"), c.args) for c in self.calls[since:]]
                raise AssertionError(
                    f"{count} matching {method} call(s) did not arrive within {timeout}s; "
                    f"calls since {since}: {seen}"
                ) from None
            return matching()[:count]

    # ----------------------------------------------------------------------- HTTP

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args, token = await _read_args(request)
        self.arrived.append((method, args))
        if method in self._delays:
            await asyncio.sleep(self._delays[method])
            if request.transport is None or request.transport.is_closing():
                self.abandoned.append(method)
        status, headers = 200, {}
        try:
            fault = self._take_fault(method, args)
            if fault is not None:
                status, headers = fault.status, fault.headers
                raise SlackError(fault.error)
            if method not in self._methods:
                raise SlackError("unknown_method")
            self._authenticate(method, token)
            body = {"ok": True, **self._methods[method](args)}
        except SlackError as error:
            body = {"ok": False, "error": error.error, **error.extra}
        await self._record(Call(method, args, token, status, body))
        return web.json_response(body, status=status, headers=headers)

    async def _hook(self, request: web.Request) -> web.Response:
        args = await request.json()
        args["hook"] = request.match_info["hook"]
        await self._record(Call("response_url", args, None, 200, {"ok": True}))
        return web.json_response({"ok": True})

    async def _record(self, call: Call) -> None:
        async with self._changed:
            self.calls.append(call)
            self._changed.notify_all()

    def _take_fault(self, method: str, args: dict[str, Any]) -> _Fault | None:
        for fault in self._faults:
            if fault.channel not in (None, args.get("channel")):
                continue
            if fault.remaining > 0 and fault.method in (None, method):
                fault.remaining -= 1
                return fault
        return None

    def _authenticate(self, method: str, token: str | None) -> None:
        expected, other = self.bot_token, self.app_token
        if method == "apps.connections.open":
            expected, other = other, expected
        if not token:
            raise SlackError("not_authed")
        if token == other:
            raise SlackError("not_allowed_token_type")
        if token != expected:
            raise SlackError("invalid_auth")

    # ----------------------------------------------------------------------- methods

    def _auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        return {
            "url": "https://gatepass-test.slack.com/",
            "team": "Gatepass Test",
            "user": "gatepass",
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    def _connections_open(self, args: dict[str, Any]) -> dict[str, Any]:
        if self.socket is None:
            raise SlackError("socket_mode_not_enabled")
        return {"url": self.socket.new_url()}

    def _publish(self, args: dict[str, Any]) -> dict[str, Any]:
        if args.get("user_id") not in self.users:
            raise SlackError("user_not_found")
        return self.views.publish(args)


async def _read_args(request: web.Request) -> tuple[dict[str, Any], str | None]:
    """Arguments from the query string and a form or JSON body; the token from the header."""
    args: dict[str, Any] = dict(request.query)
    if request.can_read_body:
        if request.content_type == "application/json":
            body = await request.json()
            if isinstance(body, dict):
                args.update(body)
        else:
            args.update(await request.post())
    token = args.pop("token", None)
    authorization = request.headers.get("Authorization", "")
    if authorization.startswith("Bearer "):
        token = authorization.removeprefix("Bearer ").strip()
    for key in _JSON_ARGS:
        if isinstance(args.get(key), str):
            with contextlib.suppress(ValueError):  # left a string: reported as invalid
                args[key] = json.loads(args[key])
    return args, token
