"""Extensions through the Atlas wire fake: approved while the grant runs, it continues it from
its current end (the same Atlas user and password, no gap, Atlas's deleteAfterDate pushed);
approved after the end, it is a grant of its own from its approval."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest

from bot.app import Gatepass
from core.domain.lifecycle import Status
from core.domain.messages import AccessReady, ExpiryWarning
from core.integrations.atlas.users import parse_atlas_time
from core.use_cases import approvals, requests
from tests.fakes.atlas import PROJECT_ID, FakeAtlas
from tests.support.clock import ManualClock
from tests.support.recording_notifier import RecordingNotifier
from tests.system.test_atlas_through_core import start
from tests.system.test_overlapping_grants import (
    ALICE,
    ANALYTICS,
    approved,
    roles,
    settle,
    step,
    until,
    view_of,
)

USERS = "/databaseUsers"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def atlas(clock: ManualClock) -> AsyncIterator[FakeAtlas]:
    async with FakeAtlas(clock=clock) as fake:
        yield fake


@pytest.fixture
async def gatepass(
    atlas: FakeAtlas, clock: ManualClock, sqlite_url: str, encryption_key: str
) -> AsyncIterator[tuple[Gatepass, RecordingNotifier]]:
    app, chat = await start(atlas, clock, sqlite_url, encryption_key)
    yield app, chat
    await app.close()


async def active_grant(app: Gatepass, clock: ManualClock) -> tuple[str, str, datetime]:
    request_id = await approved(app, "analytics")
    await settle(app, clock)
    view = await view_of(app, request_id)
    assert view.status is Status.ACTIVE and view.username and view.ends_at
    return request_id, view.username, view.ends_at


async def extension_of(app: Gatepass, request_id: str) -> str:
    view = await requests.extend(
        app.ctx,
        actor=ALICE,
        request_id=request_id,
        duration=timedelta(hours=1),
        justification="the month-end report runs late",
        platform="slack",
    )
    return view.id


async def approve(app: Gatepass, request_id: str) -> None:
    await approvals.decide(
        app.ctx,
        approver="bob@example.com",
        request_id=request_id,
        outcome="approve",
        reason=None,
        platform="slack",
    )


def delete_after(atlas: FakeAtlas, username: str) -> datetime:
    expiry = parse_atlas_time(atlas.users[PROJECT_ID][username]["deleteAfterDate"])
    assert expiry is not None
    return expiry


async def test_an_extension_approved_before_the_end_continues_the_grant(
    gatepass: tuple[Gatepass, RecordingNotifier], atlas: FakeAtlas, clock: ManualClock
) -> None:
    app, chat = gatepass
    request_id, username, end = await active_grant(app, clock)
    assert timedelta(0) < delete_after(atlas, username) - end <= timedelta(minutes=2)
    password = atlas.passwords[(PROJECT_ID, username)]
    clock.set(end - timedelta(minutes=10))
    await app.worker.run_due()  # the warning, with Extend
    extension = await extension_of(app, request_id)
    clock.set(end - timedelta(minutes=5))
    await approve(app, extension)
    await app.worker.run_due()

    assert (await view_of(app, extension)).status is Status.EXTENDED
    grant = await view_of(app, request_id)
    assert grant.status is Status.ACTIVE and grant.ends_at == end + timedelta(hours=1)
    assert timedelta(0) < delete_after(atlas, username) - grant.ends_at <= timedelta(minutes=2)
    ready = chat.to(ALICE, AccessReady)
    assert len(ready) == 2 and ready[-1].request.ends_at == grant.ends_at

    await until(app, clock, grant.ends_at - timedelta(seconds=1), atlas, [ANALYTICS])
    assert atlas.passwords[(PROJECT_ID, username)] == password  # the same user all along
    assert len(atlas.calls("POST", USERS)) == 1 and not atlas.calls("DELETE", USERS)
    assert len(chat.to(ALICE, ExpiryWarning)) == 2  # before each end
    await step(app, clock, 1)
    assert (await view_of(app, request_id)).status is Status.EXPIRED
    assert roles(atlas) == []


async def test_an_extension_approved_after_the_end_starts_at_its_approval(
    gatepass: tuple[Gatepass, RecordingNotifier], atlas: FakeAtlas, clock: ManualClock
) -> None:
    app, _chat = gatepass
    request_id, username, end = await active_grant(app, clock)
    clock.set(end - timedelta(minutes=10))
    extension = await extension_of(app, request_id)
    clock.set(end + timedelta(minutes=2))
    await app.worker.run_due()
    assert (await view_of(app, request_id)).status is Status.EXPIRED
    assert username not in atlas.users[PROJECT_ID]

    approved_at = clock.now()
    await approve(app, extension)
    await app.worker.run_due()
    await settle(app, clock)
    grant = await view_of(app, extension)
    assert grant.status is Status.ACTIVE
    assert grant.starts_at == approved_at and grant.ends_at == approved_at + timedelta(hours=1)
    assert roles(atlas) == [ANALYTICS]
    assert timedelta(0) < delete_after(atlas, username) - grant.ends_at <= timedelta(minutes=2)
