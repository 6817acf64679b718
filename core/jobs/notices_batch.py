"""The notices that ends queue, run many at once: the requester's notice (``notify_requester``)
and the update of the posted copies (``update_messages``).

The same messages as the one-job handlers of ``core.jobs.notices``, with the bookkeeping done
for the whole batch:

1. one reading transaction loads every request, its view and its posted copies;
2. the chat calls run concurrently (at most :data:`IN_FLIGHT` jobs at a time; the jobs of one
   person, or of one request, stay in claim order, so nobody's messages change order);
3. one transaction records the copies posted and marks the finished jobs done.

A job whose request is missing is handed back (the one-job path fails it as before); a job
whose chat calls failed is given to the worker's retry rules on its own, the others are done.

Delivery is at least once, as on the one-job path: a message is posted before its copy can be
recorded. Step 3 is tried again (:data:`RECORD_TRIES`) before the batch gives up; when it
still fails, every job of the batch goes to the retry rules, and the retry posts again the
messages whose copies were not recorded.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from core.context import Context
from core.domain.channels import is_channel_copy
from core.domain.notices import requester_message
from core.domain.ports import MessageRef, Notifier
from core.domain.views import RequestView
from core.jobs import channel_notices
from core.jobs.contract import DONE, BatchResult, JobKind
from core.jobs.kinds import Kind, MessagesUpdate, RequesterNotice
from core.jobs.notices import DeliveryFailed, Notices, requester_purpose, updated_message
from core.storage.models import AccessRequest, Job, PostedMessage
from core.storage.request_views import build_views
from core.storage.store import DATABASE_ERRORS

log = logging.getLogger("gatepass.notify")
IN_FLIGHT = 16  # jobs whose chat calls run at once
RECORD_TRIES = 3  # step 3, before the batch gives its jobs to the retry rules


@dataclass
class Loaded:
    """What step 1 read: the views and every posted copy of the batch's requests."""

    views: dict[str, RequestView] = field(default_factory=dict)
    copies: dict[str, list[PostedMessage]] = field(default_factory=dict)


@dataclass
class Outcome:
    """One job's chat calls: the copies they posted, and the errors that make it retry."""

    posted: list[PostedMessage] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def batched(notices: Notices) -> dict[str, JobKind]:
    """The kinds ``notices`` handles that run in batches here (the one-job path kept)."""
    batches = NoticeBatches(notices)
    return {
        Kind.NOTIFY_REQUESTER: JobKind(notices.to_requester, batch=batches.to_requesters),
        Kind.UPDATE_MESSAGES: JobKind(notices.update_messages, batch=batches.update_all),
    }


async def _load(ctx: Context, request_ids: set[str]) -> Loaded:
    """Step 1: the requests, their views and their posted copies, in one reading."""
    loaded = Loaded()
    async with ctx.store.reading() as session:
        requests = (
            await session.execute(
                select(AccessRequest).where(col(AccessRequest.id).in_(request_ids))
            )
        ).scalars()
        for view in await build_views(session, ctx.directory, list(requests)):
            loaded.views[view.id] = view
        rows = await session.execute(
            select(PostedMessage)
            .where(col(PostedMessage.request_id).in_(request_ids))
            .order_by(col(PostedMessage.id))
        )
        for row in rows.scalars():
            loaded.copies.setdefault(row.request_id, []).append(row)
    return loaded


async def _in_order(
    groups: Iterable[list[Job]], run: Callable[[Job], Awaitable[Outcome]]
) -> dict[int, Outcome]:
    """Run each group's jobs one after the other, the groups concurrently (bounded). A job
    that breaks fails alone: the others' messages are out, and must be recorded."""
    slots = asyncio.Semaphore(IN_FLIGHT)
    outcomes: dict[int, Outcome] = {}

    async def one_group(jobs: list[Job]) -> None:
        for job in jobs:
            async with slots:
                try:
                    outcomes[id(job)] = await run(job)
                except Exception as error:  # handed to the retry rules with the others' kept
                    outcomes[id(job)] = Outcome(errors=[f"{type(error).__name__}: {error}"])

    await asyncio.gather(*(one_group(jobs) for jobs in groups))
    return outcomes


async def _renew_while_calling(ctx: Context, jobs: Sequence[Job], worker: str) -> None:
    """Keep the batch's job leases while the chat calls run (every third of the lease)."""
    lease = ctx.config.jobs.lease
    ids = [job.id for job in jobs]
    while True:
        await asyncio.sleep(max(0.05, lease.total_seconds() / 3))
        with contextlib.suppress(*DATABASE_ERRORS):
            async with ctx.store.transaction() as session:
                await session.execute(
                    sa.update(Job)
                    .where(col(Job.id).in_(ids), col(Job.locked_by) == worker)
                    .values(locked_until=ctx.clock.now() + lease)
                )


async def _mark_done(session: AsyncSession, jobs: list[Job], worker: str, ctx: Context) -> None:
    if jobs:
        await session.execute(
            sa.update(Job)
            .where(col(Job.id).in_([job.id for job in jobs]), col(Job.locked_by) == worker)
            .values(
                state=DONE,
                finished_at=ctx.clock.now(),
                locked_by=None,
                locked_until=None,
                last_error=None,
                waiting_since=None,
            )
            .execution_options(synchronize_session=False)
        )


async def _record(
    ctx: Context, jobs: list[Job], outcomes: dict[int, Outcome], worker: str, result: BatchResult
) -> None:
    """Step 3: the copies posted and the finished jobs, in one transaction (tried again)."""
    posted = [row for job in jobs for row in outcomes[id(job)].posted]
    finished = [job for job in jobs if not outcomes[id(job)].errors]
    for attempt in range(1, RECORD_TRIES + 1):
        try:
            async with ctx.store.transaction() as session:
                session.add_all([_fresh(row) for row in posted])
                await _mark_done(session, finished, worker, ctx)
            break
        except DATABASE_ERRORS as error:
            if attempt == RECORD_TRIES:
                log.warning("cannot record a batch of %d notice(s): %s", len(jobs), error)
                result.failed.extend((job, error) for job in jobs)
                return
            await asyncio.sleep(0.1 * attempt)
    result.done.extend(finished)
    for job in jobs:
        if outcomes[id(job)].errors:
            result.failed.append((job, DeliveryFailed("; ".join(outcomes[id(job)].errors))))


def _fresh(row: PostedMessage) -> PostedMessage:
    """A new row for each try (a failed flush leaves the old one bound to its session)."""
    return PostedMessage(**row.model_dump(exclude={"id"}))


class NoticeBatches:
    """The batch handlers, sending through the notifiers of ``notices``."""

    def __init__(self, notices: Notices) -> None:
        self.notices = notices

    async def _run(
        self,
        ctx: Context,
        jobs: Sequence[Job],
        worker: str,
        request_of: Callable[[Job], str],
        group_of: Callable[[Job, RequestView], str],
        send: Callable[[Context, Job, Loaded], Awaitable[Outcome]],
    ) -> BatchResult:
        result = BatchResult()
        if not self.notices.notifiers:  # no chat platform is configured: nobody to tell
            await _record(ctx, list(jobs), {id(job): Outcome() for job in jobs}, worker, result)
            return result
        loaded = await _load(ctx, {request_of(job) for job in jobs})
        taken: list[Job] = []
        groups: dict[str, list[Job]] = {}
        for job in jobs:
            view = loaded.views.get(request_of(job))
            if view is None:
                result.handed_back.append(job)  # the one-job path says the request is missing
                continue
            taken.append(job)
            groups.setdefault(group_of(job, view), []).append(job)
        renewing = asyncio.create_task(_renew_while_calling(ctx, taken, worker))
        try:
            outcomes = await _in_order(groups.values(), lambda job: send(ctx, job, loaded))
        finally:
            renewing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewing
        await _record(ctx, taken, outcomes, worker, result)
        return result

    # ------------------------------------------------------------------ the requester

    async def to_requesters(self, ctx: Context, jobs: Sequence[Job], *, worker: str) -> BatchResult:
        """``Notices.to_requester`` for many jobs; one person's notices stay in order."""
        return await self._run(
            ctx,
            jobs,
            worker,
            lambda job: RequesterNotice.of(job).request_id,
            lambda _job, view: view.requester,
            self._tell_requester,
        )

    async def _tell_requester(self, ctx: Context, job: Job, loaded: Loaded) -> Outcome:
        notice = RequesterNotice.of(job)
        purpose = requester_purpose(notice)
        outcome = Outcome()
        copies = loaded.copies.get(notice.request_id, [])
        if any(row.purpose == purpose for row in copies):
            return outcome  # told already (a retry after the copy was recorded)
        view = loaded.views[notice.request_id]
        message = requester_message(view, notice.notice)
        for notifier in self.notices.requester_notifiers(view):
            try:
                if not await notifier.reachable(view.requester):
                    continue
                ref = await notifier.send(view.requester, message)
            except Exception as error:  # try the next platform, retry the job if none worked
                outcome.errors.append(f"{notifier.platform}: {type(error).__name__}: {error}")
                continue
            if ref is not None:
                outcome.posted.append(_copy(ctx, view, purpose, ref))
                outcome.errors.clear()  # reached: the job is done, as on the one-job path
                return outcome
        if not outcome.errors:
            log.info("request %s: %s cannot be reached on any platform", view.id, view.requester)
        return outcome

    # ------------------------------------------------------------------ the posted copies

    async def update_all(self, ctx: Context, jobs: Sequence[Job], *, worker: str) -> BatchResult:
        """``Notices.update_messages`` for many jobs; one request's updates stay in order."""
        return await self._run(
            ctx,
            jobs,
            worker,
            lambda job: MessagesUpdate.of(job).request_id,
            lambda _job, view: view.id,
            self._update_copies,
        )

    async def _update_copies(self, ctx: Context, job: Job, loaded: Loaded) -> Outcome:
        request_id = MessagesUpdate.of(job).request_id
        view = loaded.views[request_id]
        by_platform: dict[str, Notifier] = {n.platform: n for n in self.notices.notifiers}
        outcome = Outcome()
        for row in loaded.copies.get(request_id, []):
            if is_channel_copy(row.purpose):
                notifier = by_platform.get(row.platform)
                await channel_notices.update_copy(notifier, row, view, outcome.errors)
                continue
            message = updated_message(ctx, view, row)
            notifier = by_platform.get(row.platform)
            if message is None or notifier is None:
                continue
            try:
                await notifier.update(
                    MessageRef(row.platform, row.channel, row.message_id), message
                )
            except Exception as error:  # keep updating the other copies
                outcome.errors.append(
                    f"{row.platform} {row.channel}/{row.message_id}: "
                    f"{type(error).__name__}: {error}"
                )
        return outcome


def _copy(ctx: Context, view: RequestView, purpose: str, ref: MessageRef) -> PostedMessage:
    return PostedMessage(
        request_id=view.id,
        recipient=view.requester,
        purpose=purpose,
        platform=ref.platform,
        channel=ref.channel,
        message_id=ref.message_id,
        posted_at=ctx.clock.now(),
    )
