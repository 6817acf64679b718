"""Inbound deliveries seen once: a replayed signed request is refused by every replica."""

from __future__ import annotations

import hashlib
from datetime import datetime

import sqlalchemy as sa

from core.context import Context
from core.storage.models import SeenDelivery
from core.storage.upsert import insert_or_ignore


def digest(platform: str, signature: str) -> str:
    return hashlib.sha256(f"{platform}\x1f{signature}".encode()).hexdigest()


async def first_delivery(ctx: Context, *, platform: str, signature: str, until: datetime) -> bool:
    """True the first time this signature is presented (on any replica), False afterwards."""
    key = digest(platform, signature)
    async with ctx.store.transaction() as session:
        return await insert_or_ignore(
            session, SeenDelivery, {"digest": key, "expires_at": until}, key=["digest"]
        )


async def forget_expired(ctx: Context) -> None:
    async with ctx.store.transaction() as session:
        await session.execute(
            sa.delete(SeenDelivery).where(SeenDelivery.expires_at < ctx.clock.now())  # type: ignore[arg-type]
        )
