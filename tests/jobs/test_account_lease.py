"""A person's account lease outlives a slow Atlas call: it is renewed while the call runs, and a
lease that is lost stops the job's work, which runs again later.

Real time (the lease expires by the clock), the Atlas wire fake answering the creation of the
database user late, a lease of a fraction of a second.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
import sqlalchemy as sa

from bot.app import Gatepass, build
from core.config.schema import parse_config
from core.config.settings import resolve_settings
from core.domain.ports import SystemClock
from core.jobs import handlers
from core.storage import integration_accounts
from core.storage.models import AuditEvent, Grant, IntegrationAccount, Job
from core.use_cases import approvals, requests
from core.use_cases.eligibility import Draft
from tests.fakes.atlas import PRIVATE_KEY, PROJECT_ID, FakeAtlas
from tests.system.test_atlas_through_core import config

pytestmark = pytest.mark.slow
LEASE = timedelta(milliseconds=600)
SLOW_CALL = 2.0
USERS = "/databaseUsers"
ALICE = "alice@example.com"


@pytest.fixture
async def atlas() -> AsyncIterator[FakeAtlas]:
    async with FakeAtlas(clock=SystemClock(), pending_polls=0) as fake:
        yield fake


@pytest.fixture
async def app(atlas: FakeAtlas, sqlite_url: str, encryption_key: str) -> AsyncIterator[Gatepass]:
    data = config(atlas.url, sqlite_url)
    data["jobs"] = {"lease": LEASE}
    environ = {
        "GATEPASS_KEY": encryption_key,
        "ATLAS_PUBLIC": "gpfakepublickey",
        "ATLAS_PRIVATE": PRIVATE_KEY,
    }
    settings = resolve_settings(parse_config(data), config_path="t", environ=environ)
    built = await build(settings, platforms=[], migrate=False)
    assert built.worker is not None
    await handlers.schedule_periodic(built.ctx)
    await built.worker.run_due()  # the first sync
    yield built
    await built.close()


async def approved(app: Gatepass) -> str:
    draft = Draft("prod-atlas", "database", "analytics", "read", timedelta(hours=1), "report")
    view = await requests.submit(app.ctx, requester=ALICE, draft=draft, platform="slack")
    await approvals.decide(
        app.ctx,
        approver="bob@example.com",
        request_id=view.id,
        outcome="approve",
        reason=None,
        platform="slack",
    )
    return view.id


async def in_flight(atlas: FakeAtlas) -> None:
    """Until Atlas has the creation of the database user in hand (not answered yet)."""
    while not [c for c in atlas.calls("POST", USERS) if c.status == 0]:
        await asyncio.sleep(0.02)


def calling(atlas: FakeAtlas) -> bool:
    """Atlas has not answered the creation yet (once it has, the job lets the lease go)."""
    return any(c.status == 0 for c in atlas.calls("POST", USERS))


async def grant_job(app: Gatepass, request_id: str) -> Job:
    async with app.ctx.store.reading() as session:
        return (
            await session.execute(sa.select(Job).where(Job.dedupe_key == f"grant:{request_id}"))
        ).scalar_one()


async def account(app: Gatepass) -> IntegrationAccount:
    async with app.ctx.store.reading() as session:
        row = await session.get(IntegrationAccount, ("prod-atlas", ALICE))
    assert row is not None
    return row


async def stored_grant(app: Gatepass, request_id: str) -> Grant | None:
    async with app.ctx.store.reading() as session:
        return await session.get(Grant, request_id)


async def test_the_lease_is_held_for_the_whole_slow_call(app: Gatepass, atlas: FakeAtlas) -> None:
    atlas.slow_down(SLOW_CALL, method="POST", contains=USERS)
    request_id = await approved(app)
    assert app.worker is not None
    running = asyncio.create_task(app.worker.run_due())
    await in_flight(atlas)
    taken_by_another: list[bool] = []
    while calling(atlas):  # another job keeps trying to take the account
        async with app.ctx.store.transaction() as session:
            taken_by_another.append(
                await integration_accounts.try_acquire(
                    session,
                    "prod-atlas",
                    ALICE,
                    "job:another",
                    now=app.ctx.clock.now(),
                    length=LEASE,
                )
            )
        await asyncio.sleep(0.1)
    await running
    assert len(taken_by_another) >= SLOW_CALL / 0.1 / 2  # the call outlived the lease 3 times
    assert not any(taken_by_another)
    assert len(atlas.calls("POST", USERS)) == 1
    grant = await stored_grant(app, request_id)
    assert grant is not None and grant.username is not None
    assert grant.username in atlas.users[PROJECT_ID]
    held = await account(app)
    assert held.locked_by is None and held.username == grant.username  # let go when done
    job = await grant_job(app, request_id)
    assert job.last_error == "waiting for the change to be deployed"


async def test_a_lost_lease_stops_the_job_and_it_runs_again(
    app: Gatepass, atlas: FakeAtlas, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="gatepass.jobs")
    atlas.slow_down(SLOW_CALL, method="POST", contains=USERS, count=1)
    request_id = await approved(app)
    assert app.worker is not None
    started = time.monotonic()
    running = asyncio.create_task(app.worker.run_due())
    await in_flight(atlas)
    async with app.ctx.store.transaction() as session:  # someone takes the account over
        await session.execute(
            sa.update(IntegrationAccount)
            .where(IntegrationAccount.person == ALICE)
            .values(locked_by="job:thief", locked_until=app.ctx.clock.now() + timedelta(hours=1))
        )
    await running
    assert time.monotonic() - started < SLOW_CALL, "the Atlas call was cut short"
    job = await grant_job(app, request_id)
    assert job.state == "queued" and "lost: another holder took it over" in (job.last_error or "")
    assert await stored_grant(app, request_id) is None  # nothing written after the loss
    assert (await account(app)).locked_by == "job:thief"  # and the thief's lease left alone
    [line] = [r.getMessage() for r in caplog.records if "lost" in r.getMessage()]
    assert line == (
        f"lease on prod-atlas/{ALICE} (held by job:{job.id}) lost: another holder took it "
        "over; stopping the work under it, the job tries again later"
    )

    while not all(c.status for c in atlas.calls("POST", USERS)):
        await asyncio.sleep(0.05)  # Atlas made the user anyway, after its delay
    async with app.ctx.store.transaction() as session:
        await integration_accounts.release(session, "prod-atlas", ALICE, "job:thief")
    await asyncio.sleep(max(0.0, (job.run_at - app.ctx.clock.now()).total_seconds()) + 0.1)
    await app.worker.run_due()
    grant = await stored_grant(app, request_id)
    assert grant is not None and grant.username in atlas.users[PROJECT_ID]
    assert len(atlas.calls("POST", USERS)) == 2  # the second run found the user and adopted it
    async with app.ctx.store.reading() as session:
        applied = (
            await session.execute(
                sa.select(sa.func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.action == "grant.applied")
            )
        ).scalar_one()
    assert applied == 1
