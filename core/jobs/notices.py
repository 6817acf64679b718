"""Telling people, durably: notices are jobs, sent after the commit that caused them, fanned out
to every platform where the person is reachable, retried on their own and never able to roll
back a decision or a grant.

A recipient already served (a ``posted_messages`` row) is skipped on a retry, so a notice that
failed for one approver is not sent twice to the others.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import select

from core.context import Context
from core.domain.messages import (
    AccessEnded,
    AccessReady,
    ApprovalRequested,
    ExpiryWarning,
    Message,
    OwnerAlert,
    RequestOutcome,
    RequestReceived,
)
from core.domain.ports import MessageRef, Notifier
from core.domain.routing import integration_owners
from core.domain.views import ApproverView, RequestView
from core.jobs import queue
from core.storage import audit
from core.storage.models import Job, PostedMessage, RequestApprover
from core.storage.request_views import load_view

log = logging.getLogger("gatepass.notify")

APPROVAL = "approval"
RECEIPT = "receipt"


class DeliveryFailed(Exception):
    """Some recipients could not be reached this time; the job retries just those."""


# ------------------------------------------------------------------ queueing (in transactions)


async def queue_approvals(
    session: AsyncSession, request_id: str, *, at: datetime, round_: str = "0"
) -> None:
    await queue.enqueue(
        session,
        kind="notify_approvers",
        run_at=at,
        dedupe_key=f"approvers:{request_id}:{round_}",
        payload={"request_id": request_id, "round": round_},
    )


async def queue_requester(
    session: AsyncSession, request_id: str, notice: str, *, at: datetime, key: str = ""
) -> None:
    await queue.enqueue(
        session,
        kind="notify_requester",
        run_at=at,
        dedupe_key=f"requester:{request_id}:{notice}:{key}",
        payload={"request_id": request_id, "notice": notice},
    )


async def queue_update(
    session: AsyncSession, request_id: str, *, at: datetime, version: str
) -> None:
    """Bring every posted copy of the request's messages to its current state."""
    await queue.enqueue(
        session,
        kind="update_messages",
        run_at=at,
        dedupe_key=f"update:{request_id}:{version}",
        payload={"request_id": request_id},
    )


async def queue_owner_alert(
    session: AsyncSession, request_id: str, problem: str, *, at: datetime, key: str
) -> None:
    await queue.enqueue(
        session,
        kind="notify_owners",
        run_at=at,
        dedupe_key=f"owners:{request_id}:{key}",
        payload={"request_id": request_id, "problem": problem},
    )


# ------------------------------------------------------------------ delivery


async def _posted(ctx: Context, request_id: str, purpose: str) -> set[tuple[str, str]]:
    async with ctx.store.reading() as session:
        rows = await session.execute(
            select(PostedMessage.recipient, PostedMessage.platform).where(
                PostedMessage.request_id == request_id, PostedMessage.purpose == purpose
            )
        )
        return {(r, p) for r, p in rows.all()}


async def _remember(
    ctx: Context, request_id: str, recipient: str, purpose: str, ref: MessageRef
) -> None:
    async with ctx.store.transaction() as session:
        session.add(
            PostedMessage(
                request_id=request_id,
                recipient=recipient,
                purpose=purpose,
                platform=ref.platform,
                channel=ref.channel,
                message_id=ref.message_id,
                posted_at=ctx.clock.now(),
            )
        )


async def _send_everywhere(
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
    for notifier in ctx.notifiers:
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
            await _remember(ctx, request_id, recipient, purpose, ref)
    return reached


async def notify_approvers(ctx: Context, job: Job) -> None:
    if not ctx.notifiers:
        return  # no chat platform is configured: nobody to tell
    request_id = job.payload["request_id"]
    async with ctx.store.reading() as session:
        view = await load_view(session, ctx.directory, request_id)
    if not view.is_pending:
        return
    reminder = job.payload.get("round", "0") != "0"
    purpose = APPROVAL if not reminder else f"{APPROVAL}:{job.payload['round']}"
    skip = await _posted(ctx, request_id, purpose)
    errors: list[str] = []
    reached_anyone = False
    for approver in view.approvers:
        if view.has_decided(approver.email):
            continue
        message = ApprovalRequested(view, approver, reminder=reminder)
        reached_anyone |= await _send_everywhere(
            ctx, request_id, approver.email, message, purpose, skip=skip, errors=errors
        )
    if not reached_anyone and not reminder:
        await _escalate_unreachable(ctx, view)
    if errors:
        raise DeliveryFailed("; ".join(errors))


async def _escalate_unreachable(ctx: Context, view: RequestView) -> None:
    """Nobody routing chose can be reached on any platform: ask the integration owners."""
    integration = ctx.integration_config(view.integration)
    owners = [
        o
        for o in integration_owners(
            integration, ctx.directory, reason_suffix=" (the approvers cannot be reached)"
        )
        if o.email != view.requester and view.approver(o.email) is None
    ]
    async with ctx.store.transaction() as session:
        for owner in owners:
            session.add(
                RequestApprover(
                    request_id=view.id, email=owner.email, reason=owner.reason, escalation=True
                )
            )
        await audit.record(
            session,
            at=ctx.clock.now(),
            actor="gatepass",
            action="request.escalated",
            request_id=view.id,
            detail={
                "why": "no approver is reachable on any platform",
                "to": [o.email for o in owners],
            },
        )
        if owners:
            await queue_approvals(session, view.id, at=ctx.clock.now(), round_="unreachable")
    ctx.wake_worker()


def requester_message(view: RequestView, notice: str) -> Message:
    if notice == RECEIPT:
        return RequestReceived(view)
    if notice == "outcome":
        return RequestOutcome(view)
    if notice == "ready":
        return AccessReady(view, password_waiting=view.password_waiting)
    if notice == "expiry_warning":
        return ExpiryWarning(view)
    if notice == "ended":
        return AccessEnded(view)
    raise ValueError(f"unknown requester notice {notice!r}")


def _requester_notifiers(ctx: Context, view: RequestView) -> list[Notifier]:
    """The platform where they asked first, then the others as a fallback."""
    return sorted(ctx.notifiers, key=lambda n: n.platform != view.platform)


async def notify_requester(ctx: Context, job: Job) -> None:
    if not ctx.notifiers:
        return  # no chat platform is configured: nobody to tell
    request_id, notice = job.payload["request_id"], job.payload["notice"]
    async with ctx.store.reading() as session:
        view = await load_view(session, ctx.directory, request_id)
    purpose = notice if notice == RECEIPT else f"{notice}:{job.dedupe_key.rsplit(':', 1)[-1]}"
    if await _posted(ctx, request_id, purpose):
        return
    message = requester_message(view, notice)
    errors: list[str] = []
    for notifier in _requester_notifiers(ctx, view):
        try:
            if not await notifier.reachable(view.requester):
                continue
            ref = await notifier.send(view.requester, message)
        except Exception as error:  # try the next platform, retry the job if none worked
            errors.append(f"{notifier.platform}: {type(error).__name__}: {error}")
            continue
        if ref is not None:
            await _remember(ctx, request_id, view.requester, purpose, ref)
            return
    if errors:
        raise DeliveryFailed("; ".join(errors))
    log.info("request %s: %s cannot be reached on any platform", request_id, view.requester)


async def notify_owners(ctx: Context, job: Job) -> None:
    if not ctx.notifiers:
        return  # no chat platform is configured: nobody to tell
    request_id = job.payload["request_id"]
    async with ctx.store.reading() as session:
        view = await load_view(session, ctx.directory, request_id)
    integration = ctx.integration_config(view.integration)
    message = OwnerAlert(view, job.payload["problem"])
    purpose = f"alert:{job.id}"
    skip = await _posted(ctx, request_id, purpose)
    errors: list[str] = []
    for owner in integration_owners(integration, ctx.directory):
        await _send_everywhere(
            ctx, request_id, owner.email, message, purpose, skip=skip, errors=errors
        )
    if errors:
        raise DeliveryFailed("; ".join(errors))


async def update_messages(ctx: Context, job: Job) -> None:
    """Re-render every approval and receipt copy of the request with its current state."""
    if not ctx.notifiers:
        return  # no chat platform is configured: nobody to tell
    request_id = job.payload["request_id"]
    async with ctx.store.reading() as session:
        view = await load_view(session, ctx.directory, request_id)
        posted = list(
            (
                await session.execute(
                    select(PostedMessage).where(PostedMessage.request_id == request_id)
                )
            ).scalars()
        )
    by_platform = {n.platform: n for n in ctx.notifiers}
    errors: list[str] = []
    for row in posted:
        message = _updated_message(view, row)
        notifier = by_platform.get(row.platform)
        if message is None or notifier is None:
            continue
        try:
            await notifier.update(MessageRef(row.platform, row.channel, row.message_id), message)
        except Exception as error:  # keep updating the other copies
            errors.append(
                f"{row.platform} {row.channel}/{row.message_id}: {type(error).__name__}: {error}"
            )
    if errors:
        raise DeliveryFailed("; ".join(errors))


def _updated_message(view: RequestView, row: PostedMessage) -> Message | None:
    if row.purpose.startswith(APPROVAL):
        approver = view.approver(row.recipient) or ApproverView(row.recipient, row.recipient, "")
        return ApprovalRequested(view, approver, reminder=row.purpose != APPROVAL)
    if row.purpose == RECEIPT:
        return RequestReceived(view)
    if row.purpose.startswith("expiry_warning") or row.purpose.startswith("ready"):
        return requester_message(view, row.purpose.split(":", 1)[0])
    return None
