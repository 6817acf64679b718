"""Workers' heartbeats: a lease held by a dead worker (its heartbeat stale) is free at once, on
jobs and on accounts; revocations are claimed before other kinds; a job that keeps
rescheduling fails visibly at its deadline."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import col

from core.jobs import queue
from core.jobs.queue import JobKind, JobSpec, Reschedule, Worker
from core.storage import audit, integration_accounts, workers
from core.storage.models import AuditEvent, Job, WorkerBeat
from tests.support.domain import Domain, make_domain

DEAD, ALIVE, SILENT = "host:1:dead", "host:2:alive", "host:3:old-release"


@pytest.fixture
async def domain(database_url: str, encryption_key: str) -> AsyncIterator[Domain]:
    built = await make_domain(database_url, encryption_key)
    yield built
    await built.ctx.store.close()


async def leased_job(
    domain: Domain, holder: str, key: str, lease: timedelta = timedelta(hours=1)
) -> None:
    """A due job leased by ``holder`` for ``lease``."""
    now = domain.clock.now()
    async with domain.ctx.store.transaction() as session:
        await queue.enqueue(session, JobSpec("probe", key, now, {}))
        await session.execute(
            sa.update(Job)
            .where(Job.dedupe_key == key)
            .values(locked_by=holder, locked_until=now + lease, attempts=1)
        )


async def heartbeats(domain: Domain, **ages: timedelta) -> None:
    """Each named worker's last heartbeat, that long ago."""
    async with domain.ctx.store.transaction() as session:
        for worker, age in ages.items():
            await workers.beat(session, worker, now=domain.clock.now() - age)


def probe_worker(domain: Domain, handled: list[str], **options: object) -> Worker:
    async def handle(ctx: object, job: Job) -> None:
        handled.append(job.dedupe_key)

    kinds = {"probe": JobKind(handle), "urgent": JobKind(handle, urgent=True)}
    return Worker(domain.ctx, kinds, worker_id="host:9:new", **options)  # type: ignore[arg-type]


async def test_a_job_leased_by_a_dead_worker_is_taken_over_at_once(domain: Domain) -> None:
    await heartbeats(domain, **{DEAD: timedelta(seconds=6), ALIVE: timedelta(seconds=1)})
    await leased_job(domain, DEAD, "of-the-dead")
    await leased_job(domain, ALIVE, "of-the-living", timedelta(hours=2))
    await leased_job(domain, SILENT, "of-an-old-release")  # no heartbeat row: lease runs out
    handled: list[str] = []
    await probe_worker(domain, handled).run_due()
    assert handled == ["of-the-dead"]
    domain.clock.advance(hours=1, seconds=1)
    await heartbeats(domain, **{ALIVE: timedelta(0)})
    await probe_worker(domain, handled).run_due()
    assert sorted(handled) == ["of-an-old-release", "of-the-dead"]


async def test_an_account_lease_of_a_dead_worker_is_taken_over(domain: Domain) -> None:
    await heartbeats(domain, **{DEAD: timedelta(seconds=30), ALIVE: timedelta(seconds=2)})
    timeout = domain.ctx.config.jobs.heartbeat_timeout
    now, hour = domain.clock.now(), timedelta(hours=1)

    async def acquire(person: str, holder: str, worker: str) -> bool:
        async with domain.ctx.store.transaction() as session:
            return await integration_accounts.try_acquire(
                session,
                "prod-atlas",
                person,
                holder,
                now=now,
                length=hour,
                worker=worker,
                stale_after=timeout,
            )

    assert await acquire("alice@example.com", "job:1", DEAD)
    assert await acquire("dave@example.com", "job:2", ALIVE)
    assert await acquire("alice@example.com", "job:3", ALIVE)  # its holder is dead
    assert not await acquire("dave@example.com", "job:4", ALIVE)  # its holder lives


async def test_revocations_are_claimed_before_other_due_kinds(domain: Domain) -> None:
    now = domain.clock.now()
    async with domain.ctx.store.transaction() as session:
        await queue.enqueue(
            session,
            JobSpec("probe", "older-notice", now - timedelta(minutes=5), {}),
            JobSpec("urgent", "revocation", now, {}),
        )
    handled: list[str] = []
    worker = probe_worker(domain, handled, batch=1)
    await worker.run_due()
    assert handled == ["revocation", "older-notice"]


async def test_a_job_that_keeps_rescheduling_fails_at_its_deadline(domain: Domain) -> None:
    told: list[str] = []

    async def wait(ctx: object, job: Job) -> Reschedule:
        return Reschedule(domain.clock.now() + timedelta(seconds=5), "waiting for Godot")

    async def give_up(ctx: object, job: Job, error: str) -> None:
        told.append(f"{job.dedupe_key}: {error}")

    kinds = {
        "waits": JobKind(wait, give_up=give_up),
        "revokes": JobKind(wait, give_up=give_up, retry_forever=True),
    }
    async with domain.ctx.store.transaction() as session:
        now = domain.clock.now()
        await queue.enqueue(session, JobSpec("waits", "w", now), JobSpec("revokes", "r", now))
    worker = Worker(domain.ctx, kinds, max_wait=timedelta(minutes=2))
    for _ in range(30):  # 2.5 minutes of polls, every 5 s
        await worker.run_due()
        domain.clock.advance(seconds=5)
    async with domain.ctx.store.reading() as session:
        jobs = {j.dedupe_key: j for j in (await session.execute(sa.select(Job))).scalars()}
    assert jobs["w"].state == "dead"
    assert jobs["w"].last_error == "still not done after 2 minutes: waiting for Godot"
    assert jobs["r"].state == "queued"  # a revocation never stops trying
    assert told == [
        "w: still not done after 2 minutes: waiting for Godot",
        "r: still not done after 2 minutes: waiting for Godot",
    ]


async def test_a_running_worker_beats_and_signs_off_when_it_stops(domain: Domain) -> None:
    worker = Worker(domain.ctx, {}, worker_id="host:7:beats", heartbeat=timedelta(milliseconds=20))
    stop = asyncio.Event()
    running = asyncio.create_task(worker.run(stop))
    await asyncio.sleep(0.2)
    async with domain.ctx.store.reading() as session:
        beat = await session.get(WorkerBeat, "host:7:beats")
    assert beat is not None
    stop.set()
    await running
    async with domain.ctx.store.reading() as session:
        assert await session.get(WorkerBeat, "host:7:beats") is None


async def test_the_heartbeat_goes_on_while_the_sequencer_chains_a_backlog(domain: Domain) -> None:
    """A backlog of events to chain (after a long outage of every worker) takes the sequencer
    seconds; the heartbeat does not wait for it, so the worker's leases are never taken over
    as a dead worker's meanwhile."""
    at = domain.clock.now()
    for start in range(0, 60_000, 10_000):
        rows = [
            audit.event_row(at=at, actor="system", action="request.expired", request_id=f"R{i}")
            for i in range(start, start + 10_000)
        ]
        async with domain.ctx.store.transaction() as session:
            await session.execute(sa.insert(AuditEvent), rows)
    worker = probe_worker(
        domain, [], heartbeat=timedelta(seconds=0.1), heartbeat_timeout=timedelta(seconds=1)
    )
    stop = asyncio.Event()
    running = asyncio.create_task(worker.run(stop))
    beats: set[object] = set()
    try:
        while await unchained(domain):
            domain.clock.advance(seconds=1)  # each beat writes a time of its own
            async with domain.ctx.store.reading() as session:
                beat = await session.get(WorkerBeat, worker.worker_id)
            if beat is not None:
                beats.add(beat.seen_at)
            await asyncio.sleep(0.05)
    finally:
        stop.set()
        await running
    assert len(beats) >= 3, "the heartbeat waited for the sequencer"


async def unchained(domain: Domain) -> int:
    async with domain.ctx.store.reading() as session:
        query = sa.select(sa.func.count()).where(col(AuditEvent.chain_seq).is_(None))
        return int((await session.execute(query)).scalar_one())
