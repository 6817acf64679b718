"""The real app over HTTP with the SCIM edge, a recording chat platform and a memory Atlas."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from aiohttp.test_utils import TestClient, TestServer

from bot.app import Gatepass, build
from bot.scim.install import install
from core.config.schema import parse_config
from core.config.settings import resolve_settings
from core.storage import resources
from tests.support.clock import ManualClock
from tests.support.domain import BASE_CONFIG, RESOURCES
from tests.support.memory_integration import MemoryIntegration
from tests.support.recording_notifier import RecordingNotifier, recording_platform

TOKEN = "scim-token-0123456789abcdef"
USER = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def scim_config(database_url: str, **changes: Any) -> dict[str, Any]:
    config = copy.deepcopy(BASE_CONFIG)
    config["database_url"] = database_url
    config["encryption_key"] = "env:KEY"
    # Carol stays in the config file (a break-glass admin); everyone else comes from SCIM.
    config["directory"] = {
        "users": [u for u in config["directory"]["users"] if u["email"] == "carol@example.com"],
        "scim": {"token": "env:GATEPASS_SCIM_TOKEN"},
    }
    config.update(changes)
    return config


@dataclass
class App:
    gatepass: Gatepass
    client: TestClient[Any, Any]
    atlas: MemoryIntegration
    chat: RecordingNotifier
    clock: ManualClock

    async def call(self, method: str, path: str, body: Any = None, **headers: str) -> Any:
        response = await self.client.request(
            method, f"/scim/v2{path}", json=body, headers={**AUTH, **headers}
        )
        text = await response.text()
        import json

        return response.status, (json.loads(text) if text else None), response.headers

    async def directory(self) -> Any:
        """The directory as the next use case sees it (refreshed as a transaction starts)."""
        import sqlalchemy as sa

        async with self.gatepass.ctx.store.reading() as session:
            await session.execute(sa.text("SELECT 1"))
        return self.gatepass.ctx.directory

    async def run_jobs(self) -> int:
        assert self.gatepass.worker is not None
        return await self.gatepass.worker.run_due()


@asynccontextmanager
async def running(
    database_url: str, key: str, config: dict[str, Any] | None = None, *, migrate: bool = True
) -> AsyncIterator[App]:
    settings = resolve_settings(
        parse_config(config or scim_config(database_url)),
        config_path="gatepass.yml",
        environ={"KEY": key, "GATEPASS_SCIM_TOKEN": TOKEN},
    )
    chat = RecordingNotifier()
    clock = ManualClock()
    atlas = MemoryIntegration("prod-atlas", resources=list(RESOURCES))
    gatepass = await build(
        settings,
        clock=clock,
        integrations={"prod-atlas": atlas},
        platforms=[install, recording_platform(chat)],
        start_worker_loop=False,
        migrate=migrate,
    )
    async with gatepass.ctx.store.transaction() as session:
        await resources.replace_discovered(session, "prod-atlas", RESOURCES, at=clock.now())
    client = TestClient(TestServer(gatepass.web))
    await client.start_server()
    try:
        yield App(gatepass, client, atlas, chat, clock)
    finally:
        await client.close()


def okta_user(email: str, name: str, *, external_id: str, **extension: Any) -> dict[str, Any]:
    given, _, family = name.partition(" ")
    body: dict[str, Any] = {
        "schemas": [USER, ENTERPRISE] if extension else [USER],
        "userName": email,
        "name": {"givenName": given, "familyName": family},
        "emails": [{"primary": True, "value": email, "type": "work"}],
        "displayName": name,
        "locale": "en-US",
        "externalId": external_id,
        "groups": [],
        "password": "1mP@ssw0rd",
        "active": True,
    }
    if extension:
        body[ENTERPRISE] = extension
    return body
