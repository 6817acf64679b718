"""Telling people, durably: notices are jobs, sent after the commit that caused them, fanned out
to every platform where the person is reachable, retried on their own and never able to roll
back a decision or a grant.

Only these handlers talk to the chat platforms. They send through the notifiers the composition
root hands to :class:`Notices` once, at assembly; use cases only queue notice jobs
(``core.jobs.kinds``). A recipient already served (a ``posted_messages`` row) is skipped on a
retry, so a notice that failed for one approver is not sent twice to the others.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from sqlmodel import col, select

from core.context import Context
from core.domain.channels import is_channel_copy
from core.domain.lifecycle import Status
from core.domain.messages import ApprovalRequested, Message, OwnerAlert, RequestReceived
from core.domain.notices import Notice, requester_message
from core.domain.ports import MessageRef, Notifier
from core.domain.routing import integration_owners
from core.domain.views import RequestView
from core.jobs import channel_notices, escalation
from core.jobs.kinds import (
    ESCALATION_ROUND,
    UNREACHABLE_ROUND,
    ApproversNotice,
    Kind,
    MessagesUpdate,
    OwnerCopies,
    OwnersNotice,
    RequesterNotice,
)
from core.jobs.queue import JobKind
from core.storage.models import Job, PostedMessage
from core.storage.posted_messages import remember_copy
from core.storage.request_views import load_view
from core.use_cases import grants

log = logging.getLogger("gatepass.notify")

APPROVAL = "approval"  # the purpose of a posted ask (``approval:<round>`` for the later ones)
OWNER_COPY = f"{APPROVAL}:owner"  # an owner's copy of an active grant they were not asked about


class DeliveryFailed(Exception):
    """Some recipients could not be reached this time; the job retries just those."""


async def posted_copies(
    ctx: Context, request_id: str, purpose: str, *, prefix: bool = False
) -> set[tuple[str, str]]:
    """Who holds a message of ``purpose`` (``prefix``: of any purpose starting so), where."""
    which = (
        col(PostedMessage.purpose).startswith(purpose)
        if prefix
        else col(PostedMessage.purpose) == purpose
    )
    async with ctx.store.reading() as session:
        rows = await session.execute(
            select(PostedMessage.recipient, PostedMessage.platform).where(
                col(PostedMessage.request_id) == request_id, which
            )
        )
        return {(r, p) for r, p in rows.all()}


async def _view(ctx: Context, request_id: str) -> RequestView:
    async with ctx.store.reading() as session:
        return await load_view(session, ctx.directory, request_id)


def requester_purpose(notice: RequesterNotice) -> str:
    """What a requester notice is remembered as: one receipt; one of each other kind per key."""
    if notice.notice is Notice.RECEIPT:
        return str(Notice.RECEIPT)
    return f"{notice.notice}:{notice.key}"


class Notices:
    """The notice jobs' handlers, sending through ``notifiers`` (one per chat platform)."""

    def __init__(self, notifiers: Sequence[Notifier]) -> None:
        self.notifiers: tuple[Notifier, ...] = tuple(notifiers)

    def kinds(self) -> dict[str, JobKind]:
        return {
            Kind.NOTIFY_APPROVERS: JobKind(self.to_approvers),
            Kind.NOTIFY_REQUESTER: JobKind(self.to_requester),
            Kind.NOTIFY_OWNERS: JobKind(self.to_owners),
            Kind.UPDATE_MESSAGES: JobKind(self.update_messages),
            Kind.NOTIFY_OWNER_COPIES: JobKind(self.to_owner_copies),
        }

    async def _send_everywhere(
        self,
        ctx: Context,
        request_id: str,
        recipient: str,
        message: Message,
        purpose: str,
        *,
        skip: set[tuple[str, str]],
        errors: list[str],
    ) -> bool:
        """Send on every platform that reaches ``recipient``; True when at least one did."""
        reached = False
        for notifier in self.notifiers:
            if (recipient, notifier.platform) in skip:
                reached = True
                continue
            try:
                if not await notifier.reachable(recipient):
                    continue
                ref = await notifier.send(recipient, message)
            except Exception as error:  # one platform's outage must not stop the others
                errors.append(f"{notifier.platform} → {recipient}: {type(error).__name__}: {error}")
                reached = True  # reachable, just failing now: retry, do not escalate
                continue
            if ref is not None:
                reached = True
                await remember_copy(ctx, request_id, recipient, purpose, ref)
        return reached

    async def to_approvers(self, ctx: Context, job: Job) -> None:
        if not self.notifiers:
            return  # no chat platform is configured: nobody to tell
        notice = ApproversNotice.of(job)
        view = await _view(ctx, notice.request_id)
        if not view.is_pending:
            return
        purpose = APPROVAL if not notice.reminder else f"{APPROVAL}:{notice.round}"
        skip = await posted_copies(ctx, view.id, purpose)
        errors: list[str] = []
        reached_anyone = await channel_notices.ask_in_channels(
            ctx,
            self.notifiers,
            view,
            round_=notice.round if notice.reminder else None,
            errors=errors,
        )
        # Channel only: DMs just when no channel could be reached (the ask must reach someone).
        in_dms = not reached_anyone or channel_notices.asks_in_dms(ctx, view)
        for approver in view.approvers if in_dms else ():
            if view.has_decided(approver.email):
                continue
            if notice.round == ESCALATION_ROUND and not approver.escalation:
                continue  # an escalation without reminders asks only the owners it added
            message = ApprovalRequested(view, approver, reminder=notice.reminder)
            reached_anyone |= await self._send_everywhere(
                ctx, view.id, approver.email, message, purpose, skip=skip, errors=errors
            )
        if not reached_anyone and not notice.reminder:
            async with ctx.store.transaction() as session:
                await escalation.escalate(
                    ctx,
                    session,
                    view.id,
                    because=escalation.UNREACHABLE,
                    round_=UNREACHABLE_ROUND,
                )
            ctx.doorbell.ring()
        if errors:
            raise DeliveryFailed("; ".join(errors))

    def requester_notifiers(self, view: RequestView) -> list[Notifier]:
        """The platform where they asked first, then the others as a fallback."""
        return sorted(self.notifiers, key=lambda n: n.platform != view.platform)

    async def to_requester(self, ctx: Context, job: Job) -> None:
        if not self.notifiers:
            return  # no chat platform is configured: nobody to tell
        notice = RequesterNotice.of(job)
        purpose = requester_purpose(notice)
        async with ctx.store.reading() as session:  # one reading: told already, and the view
            told = await session.execute(
                select(col(PostedMessage.id))
                .where(
                    col(PostedMessage.request_id) == notice.request_id,
                    col(PostedMessage.purpose) == purpose,
                )
                .limit(1)
            )
            if told.first() is not None:
                return
            view = await load_view(session, ctx.directory, notice.request_id)
        message = requester_message(view, notice.notice)
        errors: list[str] = []
        for notifier in self.requester_notifiers(view):
            try:
                if not await notifier.reachable(view.requester):
                    continue
                ref = await notifier.send(view.requester, message)
            except Exception as error:  # try the next platform, retry the job if none worked
                errors.append(f"{notifier.platform}: {type(error).__name__}: {error}")
                continue
            if ref is not None:
                await remember_copy(ctx, view.id, view.requester, purpose, ref)
                return
        if errors:
            raise DeliveryFailed("; ".join(errors))
        log.info("request %s: %s cannot be reached on any platform", view.id, view.requester)

    async def to_owners(self, ctx: Context, job: Job) -> None:
        if not self.notifiers:
            return  # no chat platform is configured: nobody to tell
        alert = OwnersNotice.of(job)
        view = await _view(ctx, alert.request_id)
        integration = ctx.integration_config(view.integration)
        message = OwnerAlert(view, alert.problem)
        purpose = f"alert:{job.id}"
        skip = await posted_copies(ctx, view.id, purpose)
        errors: list[str] = []
        for owner in integration_owners(integration, ctx.directory):
            await self._send_everywhere(
                ctx, view.id, owner.email, message, purpose, skip=skip, errors=errors
            )
        if errors:
            raise DeliveryFailed("; ".join(errors))

    async def to_owner_copies(self, ctx: Context, job: Job) -> None:
        """A grant became active: each integration owner who holds no approval message of it
        gets one, which carries "Revoke now" while the access lasts (the copies they hold
        already are brought up to date, button included, by ``update_messages``)."""
        if not self.notifiers:
            return  # no chat platform is configured: nobody to tell
        view = await _view(ctx, OwnerCopies.of(job).request_id)
        if view.status is not Status.ACTIVE or not _owners_get_copies(ctx, view.flow):
            return
        holding = {r for r, _ in await posted_copies(ctx, view.id, APPROVAL, prefix=True)}
        skip = await posted_copies(ctx, view.id, OWNER_COPY)
        errors: list[str] = []
        for owner in grants.owners_of(ctx, view.integration):
            if owner in holding or owner == view.requester:
                continue
            message = grants.approval_copy(ctx, view, owner)
            await self._send_everywhere(
                ctx, view.id, owner, message, OWNER_COPY, skip=skip, errors=errors
            )
        if errors:
            raise DeliveryFailed("; ".join(errors))

    async def update_messages(self, ctx: Context, job: Job) -> None:
        """Re-render every approval and receipt copy of the request with its current state."""
        if not self.notifiers:
            return  # no chat platform is configured: nobody to tell
        request_id = MessagesUpdate.of(job).request_id
        async with ctx.store.reading() as session:
            view = await load_view(session, ctx.directory, request_id)
            posted = list(
                (
                    await session.execute(
                        select(PostedMessage).where(PostedMessage.request_id == request_id)
                    )
                ).scalars()
            )
        by_platform = {n.platform: n for n in self.notifiers}
        errors: list[str] = []
        for row in posted:
            if is_channel_copy(row.purpose):
                await channel_notices.update_copy(by_platform.get(row.platform), row, view, errors)
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
                errors.append(
                    f"{row.platform} {row.channel}/{row.message_id}: "
                    f"{type(error).__name__}: {error}"
                )
        if errors:
            raise DeliveryFailed("; ".join(errors))


def updated_message(ctx: Context, view: RequestView, row: PostedMessage) -> Message | None:
    if row.purpose.startswith(APPROVAL):
        reminder = row.purpose not in (APPROVAL, OWNER_COPY)
        return grants.approval_copy(ctx, view, row.recipient, reminder=reminder)
    if row.purpose == Notice.RECEIPT:
        return RequestReceived(view)
    kind = row.purpose.split(":", 1)[0]
    if kind in (Notice.EXPIRY_WARNING, Notice.READY):
        return requester_message(view, Notice(kind))
    return None


def _owners_get_copies(ctx: Context, flow_name: str) -> bool:
    """Whether the integration owners get a copy of each grant of the flow: not for a flow
    that asks nobody (automatic; break-glass, whose owners get its review instead), nor for one
    whose approvers are asked in a channel only (no DMs)."""
    try:
        flow = ctx.config.flow(flow_name)
    except KeyError:
        return False
    return not flow.is_automatic and flow.break_glass is None and flow.notify_approvers != "channel"
