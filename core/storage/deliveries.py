"""Inbound deliveries seen once: a replayed signed request is refused by every replica."""

from __future__ import annotations

import hashlib
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from core.context import Context
from core.storage.models import SeenDelivery


def digest(platform: str, signature: str) -> str:
    return hashlib.sha256(f"{platform}\x1f{signature}".encode()).hexdigest()


async def first_delivery(ctx: Context, *, platform: str, signature: str, until: datetime) -> bool:
    """True the first time this signature is presented (on any replica), False afterwards."""
    key = digest(platform, signature)
    async with ctx.store.transaction() as session:
        dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        result = await session.execute(
            insert(SeenDelivery)
            .values(digest=key, expires_at=until)
            .on_conflict_do_nothing(index_elements=["digest"])
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]


async def forget_expired(ctx: Context) -> None:
    async with ctx.store.transaction() as session:
        await session.execute(
            sa.delete(SeenDelivery).where(SeenDelivery.expires_at < ctx.clock.now())  # type: ignore[arg-type]
        )
