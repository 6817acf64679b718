"""The channels an edge may post approval asks to: stored once per channel, refreshed when the
edge sees the team again (on SQLite and PostgreSQL alike)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from core.storage import chat_channels
from tests.support.domain import Domain

GENERAL, DB_ACCESS = "19:general@thread.tacv2", "19:db-access@thread.tacv2"


async def test_channels_are_stored_once_and_refreshed(domain: Domain) -> None:
    ctx = domain.ctx
    first = {"reference": {"serviceUrl": "https://one.example/"}}
    await asyncio.gather(
        *(
            chat_channels.remember(
                ctx, platform="teams", channels=[GENERAL, DB_ACCESS], team_id=GENERAL, extra=first
            )
            for _ in range(3)
        )
    )
    domain.clock.advance(timedelta(minutes=5))
    moved = {"reference": {"serviceUrl": "https://two.example/"}}
    await chat_channels.remember(
        ctx, platform="teams", channels=[DB_ACCESS], team_id=GENERAL, extra=moved
    )
    general = await chat_channels.channel(ctx, platform="teams", channel_id=GENERAL)
    db_access = await chat_channels.channel(ctx, platform="teams", channel_id=DB_ACCESS)
    assert general is not None and general.extra == first
    assert db_access is not None and db_access.extra == moved
    assert db_access.updated_at == domain.clock.now()
    assert await chat_channels.channel(ctx, platform="slack", channel_id=DB_ACCESS) is None
