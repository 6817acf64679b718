"""The durable job queue and its worker.

Jobs are rows: written in the same transaction as the state change that causes them
(transactional outbox), claimed by due time with a lease (``FOR UPDATE SKIP LOCKED`` on
PostgreSQL; SQLite's single writer lock elsewhere), renewed while they run, retried with
exponential backoff and jitter. A dedupe key keeps a step from ever being queued twice.

Every worker writes a heartbeat (``core.storage.workers``) each tick; a job leased by a worker
whose heartbeat went stale is taken over at once, not when its lease runs out. Urgent kinds
(revocations and expiries) are claimed before the others when both are due. A handler that
keeps answering "not yet" (``Reschedule``) has a deadline (``jobs.max_wait``): past it the job
fails visibly, never waits silently for ever.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import col

from core import logs, metrics
from core.context import Context
from core.jobs import heartbeats
from core.jobs.contract import (
    DEAD,
    DEFAULT_ATTEMPTS,
    DONE,
    QUEUED,
    Backoff,
    BatchResult,
    Bell,
    GiveUp,
    Handler,
    JobKind,
    JobSpec,
    PermanentFailure,
    Reschedule,
    enqueue,
)
from core.jobs.retries import RetryRules
from core.storage import workers
from core.storage.models import Job
from core.storage.store import DATABASE_ERRORS
from core.storage.workers import default_worker_id

log = logging.getLogger("gatepass.jobs")
BATCH_CHUNK = 64  # jobs a batch handler takes at once (one transaction before, one after)

__all__ = [
    "DEAD",
    "DEFAULT_ATTEMPTS",
    "DONE",
    "QUEUED",
    "Backoff",
    "Bell",
    "GiveUp",
    "Handler",
    "JobKind",
    "JobSpec",
    "PermanentFailure",
    "Reschedule",
    "Worker",
    "enqueue",
]


@dataclass
class Worker(RetryRules):
    """Claims due jobs and runs them. It listens to ``bell`` (by default the context's doorbell,
    when that is a :class:`Bell`) so that jobs queued in this process run at once."""

    ctx: Context
    kinds: Mapping[str, JobKind]
    worker_id: str = field(default_factory=default_worker_id)
    lease: timedelta = timedelta(seconds=60)
    poll_interval: float = 1.0
    batch: int = 256  # jobs in hand at most (claimed in chunks of at least half of it)
    concurrency: int = 8
    backoff: Backoff = field(default_factory=Backoff)
    bell: Bell | None = None
    heartbeat: timedelta | None = None  # None: jobs.heartbeat of the config
    heartbeat_timeout: timedelta | None = None  # None: jobs.heartbeat_timeout
    max_wait: timedelta | None = None  # None: jobs.max_wait
    _bell: Bell = field(init=False, repr=False)
    _urgent: tuple[str, ...] = field(init=False, repr=False)
    _beating: bool = field(default=False, init=False, repr=False)  # run() beats on its own

    def __post_init__(self) -> None:
        doorbell = self.bell or self.ctx.doorbell
        self._bell = doorbell if isinstance(doorbell, Bell) else Bell()
        config = self.ctx.config.jobs
        self.heartbeat = self.heartbeat or config.heartbeat
        self.heartbeat_timeout = self.heartbeat_timeout or config.heartbeat_timeout
        self.max_wait = self.max_wait or config.max_wait
        self._urgent = tuple(sorted(name for name, kind in self.kinds.items() if kind.urgent))

    def wake(self) -> None:
        """Claim at once (another process queued jobs: ``core.storage.wakeups``)."""
        self._bell.ring()

    # ------------------------------------------------------------------ claiming

    def _free(self, now: datetime) -> sa.ColumnElement[bool]:
        """Not leased, its lease run out, or leased by a worker known dead."""
        assert self.heartbeat_timeout is not None
        return sa.or_(
            col(Job.locked_until).is_(None),
            col(Job.locked_until) < now,
            workers.dead(col(Job.locked_by), now=now, stale_after=self.heartbeat_timeout),
        )

    async def claim(self, limit: int) -> list[Job]:
        """Lease up to ``limit`` due jobs in one statement: urgent kinds first, then the oldest
        ``run_at``. Outside ``run()`` (tests, tools) the claim is also the heartbeat.

        "Due" is as of the moment the transaction has begun: a claim that waited for SQLite's
        writer (the commit that queued the job and rang the bell) still sees that job."""
        async with self.ctx.store.transaction() as session:
            now = self.ctx.clock.now()
            if not self._beating:
                await workers.beat(session, self.worker_id, now=now)
            rows = (
                (
                    await session.execute(
                        self._claim_statement(limit, now),
                        execution_options={"synchronize_session": False},
                    )
                )
                .scalars()
                .all()
            )
            return sorted(
                rows, key=lambda job: (job.kind not in self._urgent, job.run_at, job.id or 0)
            )

    def _claim_statement(self, limit: int, now: datetime) -> sa.Update:
        urgent = sa.case((col(Job.kind).in_(self._urgent), 0), else_=1)
        due = (
            sa.select(col(Job.id))
            .where(col(Job.state) == QUEUED, col(Job.run_at) <= now, self._free(now))
            .order_by(urgent, col(Job.run_at), col(Job.id))
            .limit(limit)
            .with_for_update(skip_locked=True, of=Job)
            .scalar_subquery()
        )
        claim: sa.Update = (
            sa.update(Job)
            .where(Job.id.in_(due))  # type: ignore[union-attr]
            .values(
                locked_by=self.worker_id, locked_until=now + self.lease, attempts=Job.attempts + 1
            )
            .returning(Job)
        )
        return claim

    async def beat(self) -> None:
        """Write this worker's heartbeat now."""
        await heartbeats.beat(self.ctx, self.worker_id)

    async def _renew(self, job_id: int) -> None:
        """Keep the job's lease every third of it; a failed renewal is tried again at the next
        (the job's steps are idempotent, should the lease lapse and another worker run it)."""
        interval = max(0.05, self.lease.total_seconds() / 3)
        while True:
            await asyncio.sleep(interval)
            try:
                async with self.ctx.store.transaction() as session:
                    await session.execute(
                        sa.update(Job)
                        .where(col(Job.id) == job_id, col(Job.locked_by) == self.worker_id)
                        .values(locked_until=self.ctx.clock.now() + self.lease)
                    )
            except DATABASE_ERRORS as error:
                log.warning(
                    "worker %s cannot renew the lease of job %s: %s", self.worker_id, job_id, error
                )

    async def _finish(self, job: Job, **values: Any) -> None:
        async with self.ctx.store.transaction() as session:
            await session.execute(
                sa.update(Job)
                .where(col(Job.id) == job.id, col(Job.locked_by) == self.worker_id)
                .values(locked_by=None, locked_until=None, **values)
            )

    # ------------------------------------------------------------------ running

    async def run_one(self, job: Job) -> None:
        """Run one claimed job, renewing its lease while it runs."""
        renew = asyncio.create_task(self._renew(job.id))  # type: ignore[arg-type]
        try:
            await self._execute(job)
        finally:
            await _cancel(renew)

    async def _execute(self, job: Job) -> None:
        kind = self.kinds.get(job.kind)
        logs.bind(job_id=job.id, job_kind=job.kind, integration=job.payload.get("integration"))
        if kind is None:
            metrics.job_ran(job.kind, "no_handler")
            await self._finish(job, state=DEAD, last_error=f"no handler for job kind {job.kind}")
            return
        try:
            outcome = await kind.handle(self.ctx, job)
        except Exception as error:  # a handler bug or an outage: retried, never silently lost
            await self._failed(job, kind, error)
        else:
            if isinstance(outcome, Reschedule):
                metrics.job_ran(job.kind, "rescheduled")
                await self._wait(job, kind, outcome)
            else:
                await self._finish(
                    job,
                    state=DONE,
                    finished_at=self.ctx.clock.now(),
                    last_error=None,
                    waiting_since=None,
                )
                metrics.job_done(job.kind, due=job.created_at, now=self.ctx.clock.now())

    async def _run_batch(self, kind: JobKind, jobs: list[Job], slots: asyncio.Semaphore) -> None:
        """Run jobs of one kind together with its batch handler; the jobs it hands back run
        one by one, each in a slot."""
        assert kind.batch is not None
        try:
            result = await kind.batch(self.ctx, jobs, worker=self.worker_id)
        except Exception:  # the batch path failed as a whole: each job runs on its own
            log.exception(
                "a batch of %d %s job(s) failed; running them one by one", len(jobs), jobs[0].kind
            )
            result = BatchResult(handed_back=list(jobs))
        now = self.ctx.clock.now()
        for job in result.done:
            metrics.job_done(job.kind, due=job.created_at, now=now)
        for job, error in result.failed:
            await self._failed(job, kind, error)
        if result.handed_back:
            await asyncio.gather(*(self._run_in_slot(job, slots) for job in result.handed_back))

    def _batches(self, jobs: list[Job]) -> tuple[list[tuple[JobKind, list[Job]]], list[Job]]:
        """The claimed jobs of kinds with a batch handler, in chunks of ``BATCH_CHUNK`` per
        handler; the other jobs."""
        grouped: dict[int, tuple[JobKind, list[Job]]] = {}
        single: list[Job] = []
        for job in jobs:
            kind = self.kinds.get(job.kind)
            if kind is None or kind.batch is None:
                single.append(job)
            else:
                grouped.setdefault(id(kind.batch), (kind, []))[1].append(job)
        chunks = [
            (kind, members[start : start + BATCH_CHUNK])
            for kind, members in grouped.values()
            for start in range(0, len(members), BATCH_CHUNK)
        ]
        return chunks, single

    async def run_due(self, *, limit: int | None = None) -> int:
        """Run every due job until none is left (tests move the clock and call this)."""
        ran = 0
        while limit is None or ran < limit:
            jobs = await self.claim(self.batch)
            if not jobs:
                return ran
            batches, single = self._batches(jobs)
            for kind, members in batches:
                await self._run_batch(kind, members, asyncio.Semaphore(1))
            for job in single:
                await self.run_one(job)
            ran += len(jobs)
        return ran

    async def run(self, stop: asyncio.Event) -> None:
        """Claim and run jobs until ``stop`` is set; then finish the jobs in hand.

        Jobs are claimed in chunks of up to ``batch`` and run ``concurrency`` at a time; a
        claimed job's lease is renewed from the moment it is claimed, so a job waiting for a
        free slot is never taken over by another worker.
        """
        slots = asyncio.Semaphore(self.concurrency)
        in_hand: set[asyncio.Task[None]] = set()
        log.info("worker %s started", self.worker_id)
        self._beating = True
        assert self.heartbeat is not None
        beating = asyncio.create_task(
            heartbeats.beat_forever(self.ctx, self.worker_id, self.heartbeat)
        )
        chaining = asyncio.create_task(
            heartbeats.chain_forever(self.ctx, self.worker_id, self.heartbeat)
        )
        try:
            await self._loop(stop, slots, in_hand)
        finally:
            await _cancel(chaining)
            await _cancel(beating)
            self._beating = False
        await heartbeats.sign_off(self.ctx, self.worker_id)
        log.info("worker %s stopped", self.worker_id)

    async def _loop(
        self, stop: asyncio.Event, slots: asyncio.Semaphore, in_hand: set[asyncio.Task[None]]
    ) -> None:
        threshold = max(1, self.batch // 2)
        sizes: dict[asyncio.Task[None], int] = {}

        def start(work: Any, size: int) -> None:
            task = asyncio.create_task(work)
            in_hand.add(task)
            sizes[task] = size
            task.add_done_callback(in_hand.discard)
            task.add_done_callback(lambda done: sizes.pop(done, None))

        while not stop.is_set():
            room = self.batch - sum(sizes.values())
            if room < threshold:
                await self._idle(stop, in_hand, full=True)
                continue
            jobs = await self._claim_safely(room)
            batches, single = self._batches(jobs)
            for kind, members in batches:
                start(self._run_batch(kind, members, slots), len(members))
            for job in single:
                start(self._run_in_slot(job, slots), 1)
            if len(jobs) < room:
                await self._idle(stop, in_hand, full=False)
        if in_hand:
            log.info("worker %s finishing %d job(s) in hand", self.worker_id, len(in_hand))
            await asyncio.gather(*in_hand, return_exceptions=True)

    async def _run_in_slot(self, job: Job, slots: asyncio.Semaphore) -> None:
        renew = asyncio.create_task(self._renew(job.id))  # type: ignore[arg-type]
        try:
            async with slots:
                await self._execute(job)
        finally:
            await _cancel(renew)

    async def _claim_safely(self, limit: int) -> list[Job]:
        try:
            return await self.claim(limit)
        except DATABASE_ERRORS as error:
            log.warning("worker %s cannot claim jobs: %s", self.worker_id, error)
            return []

    async def _idle(
        self, stop: asyncio.Event, in_hand: set[asyncio.Task[None]], *, full: bool
    ) -> None:
        """Wait for a wake-up, a stop, a finished job (when we are full) or the next poll."""
        waits: list[asyncio.Future[Any]] = [
            asyncio.ensure_future(self._bell.wait()),
            asyncio.ensure_future(stop.wait()),
        ]
        if in_hand and full:
            waits.append(
                asyncio.ensure_future(
                    asyncio.wait(set(in_hand), return_when=asyncio.FIRST_COMPLETED)
                )
            )
        timeout = None if full else self.poll_interval
        _done, pending = await asyncio.wait(
            waits, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
        )
        for future in pending:
            future.cancel()
        self._bell.clear()


async def _cancel(task: asyncio.Task[Any]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
