"""A webhook receiver, faked: an aiohttp server on loopback that records every delivery (the raw
body and the headers, exactly as they arrived) and answers as the test scripts it.

async with WebhookReceiver() as receiver:
    receiver.answer(500, 500, 500)          # the next three deliveries fail; then 200 again
    receiver.redirect_to("https://elsewhere.example/hook")   # every answer is a 302
    receiver.hold()                          # deliveries wait for receiver.release()
    await receiver.until(lambda got: len(got) >= 3)
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

PATH = "/hooks/gatepass"


@dataclass(frozen=True)
class Arrived:
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> dict[str, Any]:
        return json.loads(self.body)  # type: ignore[no-any-return]

    @property
    def delivery_id(self) -> str:
        return self.headers["Gatepass-Delivery"]

    @property
    def event(self) -> str:
        return self.headers["Gatepass-Event"]


@dataclass
class WebhookReceiver:
    arrived: list[Arrived] = field(default_factory=list)
    _answers: list[int] = field(default_factory=list)
    _redirect: str | None = None
    _held: asyncio.Event | None = None
    _runner: web.AppRunner | None = None
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{PATH}"

    def answer(self, *statuses: int) -> None:
        self._answers.extend(statuses)

    def redirect_to(self, location: str | None) -> None:
        self._redirect = location

    def hold(self) -> None:
        self._held = asyncio.Event()

    def release(self) -> None:
        if self._held is not None:
            self._held.set()
        self._held = None

    def events(self) -> list[str]:
        return [item.event for item in self.arrived]

    async def until(
        self, condition: Callable[[list[Arrived]], bool], timeout: float = 30.0
    ) -> list[Arrived]:
        deadline = asyncio.get_running_loop().time() + timeout
        while not condition(self.arrived):
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"the receiver got only {self.events()}")
            await asyncio.sleep(0.02)
        return self.arrived

    async def _handle(self, request: web.Request) -> web.Response:
        self.arrived.append(Arrived(dict(request.headers), await request.read()))
        if self._held is not None:
            await self._held.wait()
        if self._redirect is not None:
            return web.Response(status=302, headers={"Location": self._redirect})
        status = self._answers.pop(0) if self._answers else 200
        return web.Response(status=status, text="ok" if status < 300 else "receiver broke")

    async def _head(self, _request: web.Request) -> web.Response:
        """A HEAD is no delivery (not recorded): redirected like a POST, else 405 as a
        receiver that only takes POSTs answers."""
        if self._redirect is not None:
            return web.Response(status=302, headers={"Location": self._redirect})
        return web.Response(status=405)

    async def __aenter__(self) -> WebhookReceiver:
        application = web.Application()
        application.router.add_post(PATH, self._handle)
        application.router.add_route("HEAD", PATH, self._head)
        self._runner = web.AppRunner(application)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.release()
        assert self._runner is not None
        await self._runner.cleanup()
