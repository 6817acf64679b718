"""The whole domain against the Atlas fake: sync → request → approve → grant → reveal → rotate →
revoke, driven by the real job worker with a moved clock. Afterwards no password, key or token
may be found in any log line, audit event, database column or chat message."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import SQLModel

from bot.app import Gatepass, build
from core.config.schema import parse_config
from core.config.settings import resolve_settings
from core.domain.lifecycle import Status
from core.jobs import handlers
from core.storage.request_views import load_view
from core.use_cases import approvals, grants, requests
from core.use_cases.eligibility import Draft
from tests.fakes.atlas import CLUSTER_NAME, PRIVATE_KEY, PROJECT_ID, FakeAtlas
from tests.support.clock import ManualClock
from tests.support.recording_notifier import RecordingNotifier, recording_platform


def config(atlas_url: str, database_url: str, **atlas: Any) -> dict[str, Any]:
    return {
        "database_url": database_url,
        "encryption_key": "env:GATEPASS_KEY",
        "directory": {
            "users": [
                {"email": "alice@example.com", "name": "Alice Doe", "groups": ["data-eng"]},
                {"email": "bob@example.com", "name": "Bob Ray", "groups": ["dba-oncall"]},
                {"email": "carol@example.com", "name": "Carol Lin", "groups": ["dba"]},
            ]
        },
        "integrations": [
            {
                "name": "prod-atlas",
                "type": "mongodb-atlas",
                "project_id": PROJECT_ID,
                "cluster_name": CLUSTER_NAME,
                "atlas_url": atlas_url,
                "secret": {"public_key": "env:ATLAS_PUBLIC", "private_key": "env:ATLAS_PRIVATE"},
                "integration_owners": [{"attribute": "group", "value": "dba"}],
                "resource_owner": {"tag_key": "owner", "attribute": "group"},
                "custom_access_details": "Connect from the office VPN.",
                **atlas,
            }
        ],
        "access_flows": [
            {
                "name": "analytics",
                "requestors": [{"attribute": "group", "value": "data-eng"}],
                "integration": "prod-atlas",
                "resources": ["database:*", "cluster:*"],
                "permissions": ["read", "readWrite", "clusterMonitor"],
                "durations": ["1h", "3d"],
                "require_justification": True,
            }
        ],
    }


@pytest.fixture
async def atlas(clock: ManualClock) -> AsyncIterator[FakeAtlas]:
    async with FakeAtlas(clock=clock) as fake:
        yield fake


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


async def start(
    atlas: FakeAtlas, clock: ManualClock, sqlite_url: str, key: str, **options: Any
) -> tuple[Gatepass, RecordingNotifier]:
    environ = {"GATEPASS_KEY": key, "ATLAS_PUBLIC": "gpfakepublickey", "ATLAS_PRIVATE": PRIVATE_KEY}
    settings = resolve_settings(
        parse_config(config(atlas.url, sqlite_url, **options)), config_path="t", environ=environ
    )
    chat = RecordingNotifier()
    app = await build(settings, clock=clock, platforms=[recording_platform(chat)])
    await handlers.schedule_periodic(app.ctx)
    await app.worker.run_due()  # the first sync
    return app, chat


async def run(app: Gatepass, clock: ManualClock, seconds: float = 6) -> None:
    """Let the worker catch up, moving time past Atlas's PENDING polls."""
    for _ in range(4):
        await app.worker.run_due()
        clock.advance(seconds=seconds)
    await app.worker.run_due()


async def test_full_cycle_through_atlas_leaks_no_secret(
    atlas: FakeAtlas,
    clock: ManualClock,
    sqlite_url: str,
    encryption_key: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    app, chat = await start(atlas, clock, sqlite_url, encryption_key, credential_rotation_days=1)
    ctx = app.ctx
    draft = Draft(
        "prod-atlas", "database", "analytics", "read", timedelta(days=3), "month-end close"
    )
    view = await requests.submit(ctx, requester="alice@example.com", draft=draft, platform="slack")
    assert [(a.email, a.reason) for a in view.approvers] == [
        ("bob@example.com", "owner of cluster Cluster0 via tag owner=dba-oncall")
    ]
    await approvals.decide(
        ctx,
        approver="bob@example.com",
        request_id=view.id,
        outcome="approve",
        reason=None,
        platform="teams",
    )
    await run(app, clock)

    username = await granted_in_atlas(app, atlas, view.id)
    first = await grants.reveal_password(
        ctx, actor="alice@example.com", request_id=view.id, platform="slack"
    )
    assert first.reveal() == atlas.passwords[(PROJECT_ID, username)]

    clock.advance(days=1, hours=1)
    await run(app, clock)
    second = await grants.reveal_password(
        ctx, actor="alice@example.com", request_id=view.id, platform="slack"
    )
    assert second.reveal() != first.reveal()
    assert second.reveal() == atlas.passwords[(PROJECT_ID, username)]

    await grants.revoke(
        ctx, actor="alice@example.com", request_id=view.id, reason="done", platform="slack"
    )
    await run(app, clock)
    async with ctx.store.reading() as session:
        assert (await load_view(session, ctx.directory, view.id)).status is Status.REVOKED
    assert username not in atlas.users[PROJECT_ID]

    secrets = [first.reveal(), second.reveal(), PRIVATE_KEY, encryption_key]
    secrets += [token for token in getattr(atlas, "tokens", {})]
    await assert_nowhere(ctx, secrets, caplog, chat)
    await app.ctx.store.close()


async def granted_in_atlas(app: Gatepass, atlas: FakeAtlas, request_id: str) -> str:
    """The request is active, its database user in Atlas has its role; the username."""
    async with app.ctx.store.reading() as session:
        granted = await load_view(session, app.ctx.directory, request_id)
    assert granted.status is Status.ACTIVE
    assert granted.username is not None
    user = atlas.users[PROJECT_ID][granted.username]
    assert user["scopes"] == [{"name": CLUSTER_NAME, "type": "CLUSTER"}]
    assert user["roles"] == [{"roleName": "read", "databaseName": "analytics"}]
    assert granted.connection and granted.connection["connection_string"].startswith(
        "mongodb+srv://"
    )
    return granted.username


async def assert_nowhere(
    ctx: Any, secrets: list[str], caplog: pytest.LogCaptureFixture, chat: RecordingNotifier
) -> None:
    async with ctx.store.reading() as session:
        for table in SQLModel.metadata.sorted_tables:
            for row in (await session.execute(sa.select(table))).all():
                text = repr(tuple(row))
                for secret in secrets:
                    assert secret not in text, f"a secret is stored in clear in {table.name}"
    logged = "\n".join(record.getMessage() + repr(record.args) for record in caplog.records)
    messages = repr([m for _, m, _ in chat.sent]) + repr(chat.updated)
    for secret in secrets:
        assert secret not in logged
        assert secret not in messages


async def test_cleanup_days_disable_then_delete_later(
    atlas: FakeAtlas, clock: ManualClock, sqlite_url: str, encryption_key: str
) -> None:
    app, _chat = await start(atlas, clock, sqlite_url, encryption_key, user_cleanup_days=2)
    ctx = app.ctx
    draft = Draft(
        "prod-atlas", "database", "sales", "readWrite", timedelta(hours=1), "fix the import"
    )
    view = await requests.submit(ctx, requester="alice@example.com", draft=draft, platform="slack")
    await approvals.decide(
        ctx,
        approver="bob@example.com",
        request_id=view.id,
        outcome="approve",
        reason=None,
        platform="slack",
    )
    await run(app, clock)
    async with ctx.store.reading() as session:
        username = (await load_view(session, ctx.directory, view.id)).username
    clock.advance(hours=1)
    await run(app, clock)
    user = atlas.users[PROJECT_ID][username]
    assert all(role["databaseName"] not in ("analytics", "sales") for role in user["roles"])
    clock.advance(days=2, minutes=1)
    await run(app, clock)
    assert username not in atlas.users[PROJECT_ID]
    await app.ctx.store.close()


async def test_reconciler_removes_a_gatepass_user_no_grant_covers(
    atlas: FakeAtlas, clock: ManualClock, sqlite_url: str, encryption_key: str
) -> None:
    app, _chat = await start(atlas, clock, sqlite_url, encryption_key)
    atlas.add_db_user(
        "gp-mallory-0badc0de",
        roles=[{"roleName": "atlasAdmin", "databaseName": "admin"}],
        labels=[
            {"key": "managed-by", "value": "gatepass"},
            {"key": "gatepass-integration", "value": "prod-atlas"},
            {"key": "gatepass-person", "value": "mallory@example.com"},
        ],
    )
    clock.advance(minutes=16)
    await run(app, clock)
    assert "gp-mallory-0badc0de" not in atlas.users[PROJECT_ID]
    await app.ctx.store.close()
