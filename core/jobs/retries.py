"""What the worker does with a job that did not finish: wait and run it again (``Reschedule``),
retry it with backoff after a failure, or give up — by its kind's rules (``JobKind``)."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from core import metrics
from core.context import Context
from core.domain.durations import describe_duration
from core.domain.ports import IntegrationError
from core.jobs.contract import DEAD, Backoff, JobKind, PermanentFailure, Reschedule
from core.storage.models import Job

log = logging.getLogger("gatepass.jobs")


class RetryRules:
    """The worker's retry rules (``core.jobs.queue.Worker`` has the fields they use)."""

    ctx: Context
    backoff: Backoff
    max_wait: timedelta | None

    async def _finish(self, job: Job, **values: Any) -> None:
        raise NotImplementedError

    async def _failed(self, job: Job, kind: JobKind, error: BaseException) -> None:
        """A handler raised: give up, or retry later, by the kind's rules."""
        if isinstance(error, PermanentFailure):
            await self._fail(job, kind, str(error), final=True)
        elif isinstance(error, IntegrationError):
            await self._fail(
                job,
                kind,
                str(error),
                final=not error.retryable and not kind.retry_forever,
                retry_after=error.retry_after,
            )
        else:
            log.error("job %s (%s) failed", job.id, job.kind, exc_info=error)
            await self._fail(job, kind, f"{type(error).__name__}: {error}", final=False)

    async def _wait(self, job: Job, kind: JobKind, outcome: Reschedule) -> None:
        """Run the job again later, unless it has waited past its deadline: then it fails
        (a kind that retries for ever tells its give_up and keeps waiting)."""
        now = self.ctx.clock.now()
        since = job.waiting_since or now
        assert self.max_wait is not None
        if now - since >= self.max_wait:
            error = f"still not done after {describe_duration(now - since)}: {outcome.note}"
            log.warning("job %s (%s) waited too long: %s", job.id, job.kind, error)
            if not kind.retry_forever:
                await self._finish(job, state=DEAD, last_error=error, finished_at=now)
                if kind.give_up is not None:
                    await kind.give_up(self.ctx, job, error)
                return
            if kind.give_up is not None:
                await kind.give_up(self.ctx, job, error)
            since = now  # told; the next deadline counts from here
        await self._finish(
            job,
            run_at=outcome.at,
            attempts=job.attempts - 1,
            last_error=outcome.note or None,
            waiting_since=since,
        )

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
