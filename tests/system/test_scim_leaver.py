"""A leaver over SCIM against the Atlas wire fake: the identity provider deactivates a person who
holds an active grant and has a request pending; after one worker tick their database user is
gone from Atlas, the pending request is cancelled, and the audit trail says why."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from aiohttp.test_utils import TestClient, TestServer
from sqlmodel import col

from bot.app import Gatepass, build
from bot.scim.install import install
from core.config.schema import parse_config
from core.config.settings import resolve_settings
from core.domain.lifecycle import Status
from core.domain.request_form import Draft
from core.jobs import handlers
from core.storage.models import AuditEvent
from core.storage.request_views import load_view
from core.use_cases import approvals, requests
from tests.fakes.atlas import PRIVATE_KEY, PROJECT_ID, FakeAtlas
from tests.scim.harness import AUTH, GROUP, PATCH, TOKEN, okta_user
from tests.support.clock import ManualClock
from tests.support.recording_notifier import RecordingNotifier, recording_platform
from tests.system.test_atlas_through_core import config, run

WHY = "deprovisioned: deactivated in the identity provider"


@dataclass
class Wired:
    """The real app with the SCIM edge and the real Atlas integration, over loopback HTTP."""

    gatepass: Gatepass
    client: TestClient[Any, Any]
    atlas: FakeAtlas
    clock: ManualClock

    async def scim(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        response = await self.client.request(method, f"/scim/v2{path}", json=body, headers=AUTH)
        text = await response.text()
        return response.status, (json.loads(text) if text else None)

    async def status(self, request_id: str) -> Status:
        ctx = self.gatepass.ctx
        async with ctx.store.reading() as session:
            return (await load_view(session, ctx.directory, request_id)).status


def leaver_config(atlas_url: str, database_url: str) -> dict[str, Any]:
    data = config(atlas_url, database_url)
    # Carol (dba, the integration's owner) stays in the file; Alice and Bob come from SCIM.
    carol = [u for u in data["directory"]["users"] if u["email"] == "carol@example.com"]
    data["directory"] = {"users": carol, "scim": {"token": "env:GATEPASS_SCIM_TOKEN"}}
    return data


@asynccontextmanager
async def wired(sqlite_url: str, key: str) -> AsyncIterator[Wired]:
    clock = ManualClock()
    async with FakeAtlas(clock=clock) as atlas:
        environ = {
            "GATEPASS_KEY": key,
            "ATLAS_PUBLIC": "gpfakepublickey",
            "ATLAS_PRIVATE": PRIVATE_KEY,
            "GATEPASS_SCIM_TOKEN": TOKEN,
        }
        settings = resolve_settings(
            parse_config(leaver_config(atlas.url, sqlite_url)), config_path="t", environ=environ
        )
        chat = RecordingNotifier()
        gatepass = await build(
            settings,
            clock=clock,
            platforms=[install, recording_platform(chat)],
            start_worker_loop=False,
        )
        client = TestClient(TestServer(gatepass.web))
        await client.start_server()  # runs the SCIM edge's start: the directory loaded
        try:
            await handlers.schedule_periodic(gatepass.ctx)
            assert gatepass.worker is not None
            await gatepass.worker.run_due()  # the first sync of Atlas's resources
            yield Wired(gatepass, client, atlas, clock)
        finally:
            await client.close()


async def provision(app: Wired, email: str, name: str, group: str) -> str:
    status, user = await app.scim("POST", "/Users", okta_user(email, name, external_id=email))
    assert status == 201, user
    body = {"schemas": [GROUP], "displayName": group, "members": [{"value": user["id"]}]}
    status, created = await app.scim("POST", "/Groups", body)
    assert status == 201, created
    return str(user["id"])


async def granted(app: Wired, requester: str, approver: str, database: str) -> tuple[str, str]:
    """An approved request run until active: (request id, its Atlas database user)."""
    ctx = app.gatepass.ctx
    draft = Draft("prod-atlas", "database", database, "read", timedelta(hours=1), "close")
    view = await requests.submit(ctx, requester=requester, draft=draft, platform="slack")
    await approvals.decide(
        ctx,
        approver=approver,
        request_id=view.id,
        outcome="approve",
        reason=None,
        platform="slack",
    )
    await run(app.gatepass, app.clock)
    async with ctx.store.reading() as session:
        active = await load_view(session, ctx.directory, view.id)
    assert active.status is Status.ACTIVE and active.username is not None
    return view.id, active.username


async def audit(app: Wired) -> list[tuple[str, str | None, dict[str, Any]]]:
    async with app.gatepass.ctx.store.reading() as session:
        events = await session.execute(sa.select(AuditEvent).order_by(col(AuditEvent.seq)))
        return [(e.action, e.request_id, dict(e.detail or {})) for e in events.scalars()]


async def test_a_leaver_loses_the_atlas_user_and_pending_request_in_one_tick(
    sqlite_url: str, encryption_key: str
) -> None:
    async with wired(sqlite_url, encryption_key) as app:
        alice = await provision(app, "alice@example.com", "Alice Doe", "data-eng")
        await provision(app, "bob@example.com", "Bob Ray", "dba-oncall")
        active, username = await granted(app, "alice@example.com", "bob@example.com", "analytics")
        assert username in app.atlas.users[PROJECT_ID]
        other = Draft("prod-atlas", "database", "sales", "read", timedelta(hours=1), "later")
        pending = await requests.submit(
            app.gatepass.ctx, requester="alice@example.com", draft=other, platform="slack"
        )
        assert await app.status(pending.id) is Status.PENDING

        body = {"schemas": [PATCH], "Operations": [{"op": "replace", "value": {"active": False}}]}
        status, user = await app.scim("PATCH", f"/Users/{alice}", body)
        assert status == 200, user
        assert user["active"] is False

        assert app.gatepass.worker is not None
        await app.gatepass.worker.run_due()  # one worker tick
        assert username not in app.atlas.users[PROJECT_ID]
        assert app.atlas.calls("DELETE", f"/databaseUsers/admin/{username}")
        assert await app.status(pending.id) is Status.CANCELLED
        assert await app.status(active) is Status.REVOKED

        events = await audit(app)
        assert (
            "directory.deprovisioned",
            None,
            {"person": "alice@example.com", "why": "deactivated"},
        ) in events
        why = {rid: d.get("why") for a, rid, d in events if a.endswith("_deprovisioned")}
        assert why == {pending.id: WHY, active: WHY}
