"""The record of each message Gatepass posted about a request (so it can be updated later)."""

from __future__ import annotations

from core.context import Context
from core.domain.ports import MessageRef
from core.storage.models import PostedMessage


async def remember_copy(
    ctx: Context, request_id: str, recipient: str, purpose: str, ref: MessageRef
) -> None:
    """Record that ``ref`` is ``recipient``'s copy of the request for ``purpose``."""
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
