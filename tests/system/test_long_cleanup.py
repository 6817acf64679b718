"""``user_cleanup_days`` longer than Atlas's one-week ``deleteAfterDate`` cap is honoured: the
periodic refresh keeps the disabled user's date pushed until the cleanup, across a restart, and
the cleanup job deletes it on the day."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from bot.app import Gatepass, build
from core.config.schema import parse_config
from core.config.settings import resolve_settings
from core.integrations.atlas.users import DISABLED_DATABASE, parse_atlas_time
from core.jobs import handlers
from core.storage.request_views import load_view
from core.use_cases import approvals, grants, requests
from core.use_cases.eligibility import Draft
from tests.fakes.atlas import PRIVATE_KEY, PROJECT_ID, FakeAtlas
from tests.support.clock import ManualClock
from tests.support.recording_notifier import RecordingNotifier, recording_platform
from tests.system.test_atlas_through_core import config, run

CLEANUP_DAYS = 10  # past Atlas's one-week cap


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def atlas(clock: ManualClock) -> AsyncIterator[FakeAtlas]:
    async with FakeAtlas(clock=clock) as fake:
        yield fake


async def start(atlas: FakeAtlas, clock: ManualClock, sqlite_url: str, key: str) -> Gatepass:
    """Gatepass with a cleanup after CLEANUP_DAYS; discovery and the reconciler run daily, so
    that the days go by in few jobs (the refresh keeps its six hours)."""
    data = config(atlas.url, sqlite_url, user_cleanup_days=CLEANUP_DAYS)
    data["jobs"] = {"discovery_interval": "1d", "reconcile_interval": "1d"}
    environ = {"GATEPASS_KEY": key, "ATLAS_PUBLIC": "gpfakepublickey", "ATLAS_PRIVATE": PRIVATE_KEY}
    settings = resolve_settings(parse_config(data), config_path="t", environ=environ)
    app = await build(settings, clock=clock, platforms=[recording_platform(RecordingNotifier())])
    await handlers.schedule_periodic(app.ctx)
    await app.worker.run_due()  # the first sync
    return app


async def test_a_cleanup_after_ten_days_keeps_the_disabled_user_ten_days(
    atlas: FakeAtlas, clock: ManualClock, sqlite_url: str, encryption_key: str
) -> None:
    app = await start(atlas, clock, sqlite_url, encryption_key)
    ctx = app.ctx
    draft = Draft("prod-atlas", "database", "sales", "read", timedelta(hours=1), "fix the import")
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
    assert username is not None
    await grants.revoke(
        ctx, actor="alice@example.com", request_id=view.id, reason="done", platform="slack"
    )
    await run(app, clock)
    revoked_at = clock.now()
    cleanup_at = revoked_at + timedelta(days=CLEANUP_DAYS)

    for day in range(1, CLEANUP_DAYS):
        if day == 4:  # a restart in the middle loses nothing: the upkeep is a durable job
            await app.close()
            app = await start(atlas, clock, sqlite_url, encryption_key)
        clock.advance(days=1)
        await app.worker.run_due()
        user = atlas.users[PROJECT_ID].get(username)
        assert user is not None, f"Atlas deleted the disabled user on day {day}"
        assert [r["databaseName"] for r in user["roles"]] == [DISABLED_DATABASE]
        expiry = parse_atlas_time(user["deleteAfterDate"])
        assert expiry is not None and expiry <= cleanup_at

    clock.advance(days=1, minutes=1)
    await run(app, clock)
    assert username not in atlas.users[PROJECT_ID]
    await app.close()
