"""Several workers on one PostgreSQL database: every due job is handled exactly once."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import replace
from datetime import timedelta

import pytest
import sqlalchemy as sa

from core.jobs import queue
from core.jobs.queue import Backoff, JobKind, JobSpec, Worker
from core.storage.models import Job
from core.storage.store import Store
from tests.support.domain import make_domain

pytestmark = pytest.mark.postgres


async def run_until_drained(store: Store, workers: list[Worker]) -> None:
    """Run the workers until no job is left to do (at most 30 s), then stop them."""

    async def drained() -> bool:
        async with store.reading() as session:
            left = (
                await session.execute(
                    sa.select(sa.func.count()).select_from(Job).where(Job.state != "done")
                )
            ).scalar_one()
        return left == 0

    stop = asyncio.Event()
    runs = [asyncio.create_task(worker.run(stop)) for worker in workers]
    for _ in range(600):
        if await drained():
            break
        await asyncio.sleep(0.05)
    stop.set()
    await asyncio.gather(*runs)


async def test_two_workers_drain_1000_due_jobs_each_exactly_once(
    postgres_url: str, encryption_key: str
) -> None:
    domain = await make_domain(postgres_url, encryption_key)
    handled: Counter[int] = Counter()
    by_worker: Counter[str] = Counter()

    def kind_for(name: str) -> JobKind:
        async def handle(ctx: object, job: Job) -> None:
            handled[job.payload["n"]] += 1
            by_worker[name] += 1
            await asyncio.sleep(0.001)

        return JobKind(handle)

    async with domain.ctx.store.transaction() as session:
        await queue.enqueue(
            session,
            *(
                JobSpec(
                    "probe", f"probe:{n}", domain.clock.now() - timedelta(seconds=n % 7), {"n": n}
                )
                for n in range(1000)
            ),
        )
        # The same step queued again is kept once.
        await queue.enqueue(session, JobSpec("probe", "probe:0", domain.clock.now(), {"n": 0}))

    stores = [Store.from_url(postgres_url) for _ in range(2)]
    workers = [
        Worker(
            replace(domain.ctx, store=store),
            {"probe": kind_for(f"w{i}")},
            worker_id=f"w{i}",
            poll_interval=0.01,
            batch=25,
            concurrency=8,
            backoff=Backoff(base=0.01),
        )
        for i, store in enumerate(stores)
    ]
    await run_until_drained(domain.ctx.store, workers)
    for store in stores:
        await store.close()

    assert len(handled) == 1000
    assert set(handled.values()) == {1}, [n for n, c in handled.items() if c != 1][:10]
    assert by_worker["w0"] > 0 and by_worker["w1"] > 0, by_worker
    async with domain.ctx.store.reading() as session:
        attempts = (await session.execute(sa.select(sa.func.max(Job.attempts)))).scalar_one()
    assert attempts == 1
    await domain.ctx.store.close()


async def test_claim_order_follows_run_at(postgres_url: str, encryption_key: str) -> None:
    domain = await make_domain(postgres_url, encryption_key)
    seen: list[int] = []

    async def handle(ctx: object, job: Job) -> None:
        seen.append(job.payload["n"])

    async with domain.ctx.store.transaction() as session:
        for n in (3, 1, 2):
            await queue.enqueue(
                session,
                JobSpec(
                    "probe", f"o:{n}", domain.clock.now() - timedelta(minutes=10 - n), {"n": n}
                ),
            )
        await queue.enqueue(
            session,
            JobSpec("probe", "o:future", domain.clock.now() + timedelta(minutes=1), {"n": 99}),
        )
    worker = Worker(domain.ctx, {"probe": JobKind(handle)}, batch=1)
    await worker.run_due()
    assert seen == [1, 2, 3]
    await domain.ctx.store.close()
