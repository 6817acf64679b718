"""Break-glass notices: the broadcast to the configured channels, the integration owners' review
requests (Acknowledge / Flag), their reminders until someone reviews, and the update of every
copy once someone has.

Like every notice, these are jobs sent after the commit that caused them; each copy posted is
remembered (``posted_messages``), so a retry skips what already went out. A reminder for a use
reviewed meanwhile does nothing: the review stops the reminders.

A broadcast channel the app cannot post to (not invited, not installed in the team) is a
configuration to fix, not an outage: the notifier logs which channel and what to do, the owners
are asked all the same, and the job does not fail nor retry for it. A connector failure does:
the owners still get theirs and the retry posts what is missing.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from sqlmodel import col, select

from core.context import Context
from core.domain.break_glass import (
    BROADCAST,
    REVIEW,
    BreakGlassAnnounced,
    ReviewRequested,
    ReviewState,
)
from core.domain.errors import GatepassError
from core.domain.ports import MessageRef, Notifier
from core.domain.views import RequestView
from core.jobs.announcement_kinds import BreakGlassNotice, BreakGlassRemind, BreakGlassUpdate
from core.jobs.kinds import Kind
from core.jobs.notices import DeliveryFailed, Notices, posted_copies
from core.jobs.queue import JobKind, enqueue
from core.storage import audit
from core.storage.models import Job, PostedMessage
from core.storage.posted_messages import remember_copy
from core.storage.request_views import load_view
from core.use_cases.break_glass import review_state, reviewers
from core.use_cases.requests import SYSTEM

log = logging.getLogger("gatepass.notify")


async def _load(ctx: Context, request_id: str) -> tuple[RequestView, ReviewState | None]:
    async with ctx.store.reading() as session:
        view = await load_view(session, ctx.directory, request_id)
        return view, await review_state(ctx, session, request_id)


def _channels(ctx: Context, view: RequestView) -> tuple[tuple[str, str], ...]:
    try:
        rules = ctx.config.flow(view.flow).break_glass
    except (KeyError, GatepassError):
        rules = None
    if rules is None:
        log.info("request %s: its break-glass flow %s is gone; no broadcast", view.id, view.flow)
        return ()
    return rules.broadcast.channels


async def remind(ctx: Context, job: Job) -> None:
    """Ask the owners again when nobody has reviewed the use yet."""
    step = BreakGlassRemind.of(job)
    now = ctx.clock.now()
    async with ctx.store.transaction() as session:
        state = await review_state(ctx, session, step.request_id)
        if state is None or state.done:
            return
        await audit.record(
            session,
            at=now,
            actor=SYSTEM,
            action="request.break_glass_review_reminded",
            request_id=step.request_id,
            detail={"round": step.round},
        )
        await enqueue(session, BreakGlassNotice.again(step.request_id, step.round, at=now))
    ctx.doorbell.ring()


class BreakGlassNotices(Notices):
    """The break-glass notice jobs' handlers, sending through ``notifiers``."""

    def __init__(self, notifiers: Sequence[Notifier]) -> None:
        super().__init__(notifiers)

    def kinds(self) -> dict[str, JobKind]:
        return {
            Kind.BREAK_GLASS_NOTICE: JobKind(self.announce),
            Kind.BREAK_GLASS_REMIND: JobKind(remind),
            Kind.BREAK_GLASS_UPDATE: JobKind(self.update_copies),
        }

    async def announce(self, ctx: Context, job: Job) -> None:
        """The broadcast (first round only) and a review request to every owner."""
        if not self.notifiers:
            return
        step = BreakGlassNotice.of(job)
        view, state = await _load(ctx, step.request_id)
        if state is None or (step.reminder and state.done):
            return
        errors: list[str] = []
        if not step.reminder:
            await self._broadcast(ctx, view, state, errors)
        purpose = REVIEW if not step.reminder else f"{REVIEW}:{step.round}"
        skip = await posted_copies(ctx, view.id, purpose)
        for owner in reviewers(ctx, view):
            message = ReviewRequested(view, state, owner, reminder=step.reminder)
            await self._send_everywhere(
                ctx, view.id, owner, message, purpose, skip=skip, errors=errors
            )
        if errors:
            raise DeliveryFailed("; ".join(errors))

    async def _broadcast(
        self, ctx: Context, view: RequestView, state: ReviewState, errors: list[str]
    ) -> None:
        done = await posted_copies(ctx, view.id, BROADCAST)
        by_platform = {n.platform: n for n in self.notifiers}
        for platform, channel in _channels(ctx, view):
            notifier = by_platform.get(platform)
            if notifier is None:
                log.warning(
                    "break-glass %s: %s is not configured; no broadcast there", view.id, platform
                )
                continue
            if (channel, platform) in done:
                continue
            try:
                ref = await notifier.post_to_channel(channel, BreakGlassAnnounced(view, state))
            except Exception as error:  # the other channel and the owners still get theirs
                errors.append(f"{platform} channel {channel}: {type(error).__name__}: {error}")
                continue
            if ref is not None:  # None: the notifier said which channel and what to do
                await remember_copy(ctx, view.id, channel, BROADCAST, ref)

    async def update_copies(self, ctx: Context, job: Job) -> None:
        """Every broadcast and review request of the use, re-rendered as reviewed."""
        if not self.notifiers:
            return
        request_id = BreakGlassUpdate.of(job).request_id
        view, state = await _load(ctx, request_id)
        if state is None:
            return
        async with ctx.store.reading() as session:
            rows = list(
                (
                    await session.execute(
                        select(PostedMessage).where(col(PostedMessage.request_id) == request_id)
                    )
                ).scalars()
            )
        by_platform = {n.platform: n for n in self.notifiers}
        errors: list[str] = []
        for row in rows:
            message = _copy(view, state, row)
            notifier = by_platform.get(row.platform)
            if message is None or notifier is None:
                continue
            ref = MessageRef(row.platform, row.channel, row.message_id)
            try:
                if row.purpose == BROADCAST:
                    await notifier.update_in_channel(ref, message)
                else:
                    await notifier.update(ref, message)
            except Exception as error:  # keep updating the other copies
                errors.append(f"{row.platform} {row.channel}: {type(error).__name__}: {error}")
        if errors:
            raise DeliveryFailed("; ".join(errors))


def _copy(
    view: RequestView, state: ReviewState, row: PostedMessage
) -> BreakGlassAnnounced | ReviewRequested | None:
    if row.purpose == BROADCAST:
        return BreakGlassAnnounced(view, state)
    if row.purpose == REVIEW or row.purpose.startswith(REVIEW + ":"):
        return ReviewRequested(view, state, row.recipient, reminder=row.purpose != REVIEW)
    return None
