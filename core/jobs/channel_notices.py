"""Approval asks in a shared channel: posted by the approvers' notice job, updated by the
messages' update job, remembered like every other copy (``posted_messages``).

A flow's ``notify_approvers`` says where its approvers are asked: in their DMs (``dm``), in the
flow's ``approval_channel`` only (``channel``: no approver gets a DM), or in both. The channel
copy is a :class:`~core.domain.channels.ChannelApproval`: the approval's content and buttons,
nothing of the access itself. A channel already served is skipped on a retry; a platform that
cannot reach its channel (the app not installed there) logs it and the others go on; when no
channel has the ask, the approvers are asked in their DMs.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import col, select

from core.config.approval_channels import NOTIFY_CHANNEL
from core.context import Context
from core.domain.channels import ChannelApproval, channel_purpose
from core.domain.ports import MessageRef, Notifier
from core.domain.views import RequestView
from core.storage.models import PostedMessage
from core.storage.posted_messages import remember_copy


def _channels(ctx: Context, view: RequestView) -> dict[str, str]:
    """The flow's approval channel by platform (none for a flow asking in DMs only)."""
    try:
        flow = ctx.config.flow(view.flow)
    except KeyError:
        return {}
    if flow.approval_channel is None:
        return {}
    found = {p: flow.approval_channel.for_platform(p) for p in ("slack", "teams")}
    return {platform: channel for platform, channel in found.items() if channel}


def asks_in_dms(ctx: Context, view: RequestView) -> bool:
    """Whether the request's approvers are asked in their DMs (also when its flow is gone)."""
    try:
        return ctx.config.flow(view.flow).notify_approvers != NOTIFY_CHANNEL
    except KeyError:
        return True


def recipient_of(channel: str) -> str:
    """How a channel copy's row names its audience (never an email)."""
    return f"#{channel}"


async def _served(ctx: Context, request_id: str, purpose: str) -> set[str]:
    async with ctx.store.reading() as session:
        rows = await session.execute(
            select(PostedMessage.platform).where(
                col(PostedMessage.request_id) == request_id, col(PostedMessage.purpose) == purpose
            )
        )
        return set(rows.scalars())


async def ask_in_channels(
    ctx: Context,
    notifiers: Sequence[Notifier],
    view: RequestView,
    *,
    round_: str | None,
    errors: list[str],
) -> bool:
    """Post the ask to the flow's channel on every platform that names one (``round_``: None
    for the first ask, else the reminder's round). True when a channel has it (or failed only
    for now: the job retries, nobody escalates)."""
    channels = _channels(ctx, view)
    if not channels:
        return False
    purpose = channel_purpose(round_)
    served = await _served(ctx, view.id, purpose)
    message = ChannelApproval(view, reminder=round_ is not None)
    reached = False
    for notifier in notifiers:
        channel = channels.get(notifier.platform)
        if channel is None:
            continue
        if notifier.platform in served:
            reached = True
            continue
        try:
            ref = await notifier.post_to_channel(channel, message)
        except Exception as error:  # one platform's outage must not stop the others
            errors.append(f"{notifier.platform} → {channel}: {type(error).__name__}: {error}")
            reached = True
            continue
        if ref is None:  # the notifier said which channel and what to do
            continue
        reached = True
        await remember_copy(ctx, view.id, recipient_of(ref.channel), purpose, ref)
    return reached


async def update_copy(
    notifier: Notifier | None, row: PostedMessage, view: RequestView, errors: list[str]
) -> None:
    """Bring one channel copy to the request's current state."""
    if notifier is None:
        return
    message = ChannelApproval(view, reminder=row.purpose != channel_purpose(None))
    try:
        await notifier.update_in_channel(
            MessageRef(row.platform, row.channel, row.message_id), message
        )
    except Exception as error:  # keep updating the other copies
        errors.append(
            f"{row.platform} {row.channel}/{row.message_id}: {type(error).__name__}: {error}"
        )
