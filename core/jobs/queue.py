"""The durable job queue and its worker.

Jobs are rows: written in the same transaction as the state change that causes them
(transactional outbox), claimed by due time with a lease (``FOR UPDATE SKIP LOCKED`` on
PostgreSQL; SQLite's single writer lock elsewhere), renewed while they run, taken over when a
worker dies, retried with exponential backoff and jitter. A dedupe key keeps a step from ever
being queued twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import socket
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from core import logs, metrics
from core.context import Context
from core.domain.ports import IntegrationError
from core.storage.models import Job, JobState
from core.storage.upsert import insert_or_ignore

log = logging.getLogger("gatepass.jobs")

QUEUED, DONE, DEAD = JobState.QUEUED, JobState.DONE, JobState.DEAD
DEFAULT_ATTEMPTS = 8


@dataclass(frozen=True)
class JobSpec:
    """One job to queue: its kind, when it is due, the key that keeps it from ever being queued
    twice, and its payload. ``core.jobs.kinds`` builds every spec Gatepass queues."""

    kind: str
    dedupe_key: str
    run_at: datetime
    payload: Mapping[str, Any] = field(default_factory=dict)
    max_attempts: int = DEFAULT_ATTEMPTS


async def enqueue(session: AsyncSession, *specs: JobSpec) -> None:
    """Queue jobs in the caller's transaction; a job whose dedupe key exists is kept as is."""
    for spec in specs:
        await insert_or_ignore(
            session,
            Job,
            {
                "kind": str(spec.kind),
                "payload": dict(spec.payload),
                "dedupe_key": spec.dedupe_key,
                "state": QUEUED,
                "run_at": spec.run_at,
                "attempts": 0,
                "max_attempts": spec.max_attempts,
                "created_at": spec.run_at,
            },
            key=["dedupe_key"],
        )


class Bell:
    """The worker's doorbell (``core.domain.ports.Doorbell``): use cases and handlers ring it
    after a commit that queued jobs; the worker of this process waits on it between polls."""

    def __init__(self) -> None:
        self._rung = asyncio.Event()

    def ring(self) -> None:
        self._rung.set()

    async def wait(self) -> None:
        await self._rung.wait()

    def clear(self) -> None:
        self._rung.clear()


@dataclass(frozen=True)
class Reschedule:
    """A handler's answer: not finished, run me again at ``at`` (no attempt is spent)."""

    at: datetime
    note: str = ""


class PermanentFailure(Exception):
    """A handler's answer: retrying cannot help; give up now."""


Handler = Callable[[Context, Job], Awaitable[Reschedule | None]]
GiveUp = Callable[[Context, Job, str], Awaitable[None]]


@dataclass(frozen=True)
class JobKind:
    handle: Handler
    give_up: GiveUp | None = None
    retry_forever: bool = False  # revocations: never stop trying; owners are told on give_up


@dataclass
class Backoff:
    base: float = 2.0
    cap: float = 600.0
    jitter: float = 0.25

    def delay(self, attempts: int, retry_after: float | None = None) -> float:
        raw = min(self.cap, self.base * 2 ** max(0, attempts - 1))
        raw *= 1 + random.uniform(-self.jitter, self.jitter)
        return float(max(raw, retry_after or 0.0))


def default_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{random.randrange(16**6):06x}"


@dataclass
class Worker:
    """Claims due jobs and runs them. It listens to ``bell`` (by default the context's doorbell,
    when that is a :class:`Bell`) so that jobs queued in this process run at once."""

    ctx: Context
    kinds: Mapping[str, JobKind]
    worker_id: str = field(default_factory=default_worker_id)
    lease: timedelta = timedelta(seconds=60)
    poll_interval: float = 1.0
    batch: int = 20
    concurrency: int = 8
    backoff: Backoff = field(default_factory=Backoff)
    bell: Bell | None = None
    _bell: Bell = field(init=False, repr=False)

    def __post_init__(self) -> None:
        doorbell = self.bell or self.ctx.doorbell
        self._bell = doorbell if isinstance(doorbell, Bell) else Bell()

    # ------------------------------------------------------------------ claiming

    async def claim(self, limit: int) -> list[Job]:
        """Lease up to ``limit`` due jobs, oldest ``run_at`` first, in one statement."""
        now = self.ctx.clock.now()
        due = (
            sa.select(col(Job.id))
            .where(
                col(Job.state) == QUEUED,
                col(Job.run_at) <= now,
                sa.or_(col(Job.locked_until).is_(None), col(Job.locked_until) < now),
            )
            .order_by(col(Job.run_at), col(Job.id))
            .limit(limit)
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        )
        claim = (
            sa.update(Job)
            .where(Job.id.in_(due))  # type: ignore[union-attr]
            .values(
                locked_by=self.worker_id, locked_until=now + self.lease, attempts=Job.attempts + 1
            )
            .returning(Job)
        )
        async with self.ctx.store.transaction() as session:
            rows = (
                (await session.execute(claim, execution_options={"synchronize_session": False}))
                .scalars()
                .all()
            )
            return sorted(rows, key=lambda job: (job.run_at, job.id or 0))

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
            except (sa.exc.OperationalError, sa.exc.InterfaceError, OSError) as error:
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
        except PermanentFailure as error:
            await self._fail(job, kind, str(error), final=True)
        except IntegrationError as error:
            await self._fail(
                job,
                kind,
                str(error),
                final=not error.retryable and not kind.retry_forever,
                retry_after=error.retry_after,
            )
        except Exception as error:  # a handler bug or an outage: retried, never silently lost
            log.exception("job %s (%s) failed", job.id, job.kind)
            await self._fail(job, kind, f"{type(error).__name__}: {error}", final=False)
        else:
            if isinstance(outcome, Reschedule):
                metrics.job_ran(job.kind, "rescheduled")
                await self._finish(
                    job,
                    run_at=outcome.at,
                    attempts=job.attempts - 1,
                    last_error=outcome.note or None,
                )
            else:
                await self._finish(
                    job, state=DONE, finished_at=self.ctx.clock.now(), last_error=None
                )
                metrics.job_done(job.kind, due=job.created_at, now=self.ctx.clock.now())

    async def _fail(
        self, job: Job, kind: JobKind, error: str, *, final: bool, retry_after: float | None = None
    ) -> None:
        error = error[:2000]
        exhausted = job.attempts >= job.max_attempts
        if final or (exhausted and not kind.retry_forever):
            log.warning("job %s (%s) gave up: %s", job.id, job.kind, error)
            metrics.job_ran(job.kind, "gave_up")
            metrics.job_gave_up(job.kind)
            await self._finish(job, state=DEAD, last_error=error, finished_at=self.ctx.clock.now())
            if kind.give_up is not None:
                await kind.give_up(self.ctx, job, error)
            return
        if exhausted and kind.give_up is not None and job.attempts == job.max_attempts:
            await kind.give_up(self.ctx, job, error)  # told once; the job keeps trying
            metrics.job_gave_up(job.kind)
        delay = self.backoff.delay(job.attempts, retry_after)
        log.info("job %s (%s) retry in %.1fs: %s", job.id, job.kind, delay, error)
        metrics.job_ran(job.kind, "retry")
        await self._finish(
            job, run_at=self.ctx.clock.now() + timedelta(seconds=delay), last_error=error
        )

    async def run_due(self, *, limit: int | None = None) -> int:
        """Run every due job until none is left (tests move the clock and call this)."""
        ran = 0
        while limit is None or ran < limit:
            jobs = await self.claim(self.batch)
            if not jobs:
                return ran
            for job in jobs:
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
        threshold = max(1, self.batch // 2)
        while not stop.is_set():
            room = self.batch - len(in_hand)
            if room < threshold:
                await self._idle(stop, in_hand, full=True)
                continue
            jobs = await self._claim_safely(room)
            for job in jobs:
                task = asyncio.create_task(self._run_in_slot(job, slots))
                in_hand.add(task)
                task.add_done_callback(in_hand.discard)
            if len(jobs) < room:
                await self._idle(stop, in_hand, full=False)
        if in_hand:
            log.info("worker %s finishing %d job(s) in hand", self.worker_id, len(in_hand))
            await asyncio.gather(*in_hand, return_exceptions=True)
        log.info("worker %s stopped", self.worker_id)

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
        except (sa.exc.OperationalError, sa.exc.InterfaceError, OSError) as error:
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
