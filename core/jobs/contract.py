"""What a job and its handler agree on: the spec that queues a job (``enqueue``), the answers a
handler gives (``Reschedule``, ``PermanentFailure``), a kind's handlers and rules
(``JobKind``), the retry backoff, and the doorbell that wakes the worker. The worker itself is
``core.jobs.queue``, which re-exports all of these."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from core.context import Context
from core.storage.models import Job, JobState
from core.storage.upsert import insert_many_or_ignore, insert_or_ignore

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


def _row(spec: JobSpec) -> dict[str, Any]:
    return {
        "kind": str(spec.kind),
        "payload": dict(spec.payload),
        "dedupe_key": spec.dedupe_key,
        "state": QUEUED,
        "run_at": spec.run_at,
        "attempts": 0,
        "max_attempts": spec.max_attempts,
        "created_at": spec.run_at,
    }


async def enqueue(session: AsyncSession, *specs: JobSpec) -> None:
    """Queue jobs in the caller's transaction, in one statement; a job whose dedupe key
    exists is kept as is."""
    if len(specs) == 1:
        await insert_or_ignore(session, Job, _row(specs[0]), key=["dedupe_key"])
    elif specs:
        await insert_many_or_ignore(
            session, Job, [_row(spec) for spec in specs], key=["dedupe_key"]
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
    """A handler's answer: not finished, run me again at ``at`` (no attempt is spent). A job
    that keeps answering this for longer than its kind's deadline fails visibly."""

    at: datetime
    note: str = ""


class PermanentFailure(Exception):
    """A handler's answer: retrying cannot help; give up now."""


Handler = Callable[[Context, Job], Awaitable[Reschedule | None]]
GiveUp = Callable[[Context, Job, str], Awaitable[None]]


@dataclass
class BatchResult:
    """What a batch handler made of its jobs: ``done`` (finished and marked done by it),
    ``failed`` (the exception the worker's retry rules take), ``handed_back`` (for the worker
    to run one by one with ``handle``)."""

    done: list[Job] = field(default_factory=list)
    failed: list[tuple[Job, BaseException]] = field(default_factory=list)
    handed_back: list[Job] = field(default_factory=list)


class BatchHandler(Protocol):
    async def __call__(self, ctx: Context, jobs: Sequence[Job], *, worker: str) -> BatchResult: ...


@dataclass(frozen=True)
class JobKind:
    handle: Handler
    give_up: GiveUp | None = None
    retry_forever: bool = False  # revocations: never stop trying; owners are told on give_up
    urgent: bool = False  # claimed before the other kinds when both are due (revocations)
    batch: BatchHandler | None = None  # runs many claimed jobs of the kind at once


@dataclass
class Backoff:
    base: float = 2.0
    cap: float = 600.0
    jitter: float = 0.25

    def delay(self, attempts: int, retry_after: float | None = None) -> float:
        raw = min(self.cap, self.base * 2 ** max(0, attempts - 1))
        raw *= 1 + random.uniform(-self.jitter, self.jitter)
        return float(max(raw, retry_after or 0.0))
