"""Chat channels Gatepass may post approval asks to, as their platform's edge last saw them.

The edge stores a channel when it learns it may write there (Teams: the app installed in the
channel's team, or a channel event of that team); ``extra`` is the edge's own (a conversation
reference) and core never reads it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from core.context import Context
from core.storage.models import ChatChannel
from core.storage.upsert import insert_or_ignore


async def remember(
    ctx: Context,
    *,
    platform: str,
    channels: Iterable[str],
    team_id: str,
    extra: Mapping[str, Any],
) -> None:
    """Store or refresh these channels of one team, each with the same ``extra``."""
    now = ctx.clock.now()
    async with ctx.store.transaction() as session:
        for channel_id in sorted(set(channels)):
            values = {
                "platform": platform,
                "channel_id": channel_id,
                "team_id": team_id,
                "extra": dict(extra),
                "updated_at": now,
            }
            await insert_or_ignore(session, ChatChannel, values, key=["platform", "channel_id"])
            row = await session.get(ChatChannel, (platform, channel_id), with_for_update=True)
            assert row is not None
            row.team_id, row.extra, row.updated_at = team_id, dict(extra), now


async def channel(ctx: Context, *, platform: str, channel_id: str) -> ChatChannel | None:
    async with ctx.store.reading() as session:
        return await session.get(ChatChannel, (platform, channel_id))
