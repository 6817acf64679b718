"""One insert-or-ignore for both databases: the first row with a key is kept, later ones are
ignored, and the caller learns which happened."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from sqlmodel import select

from core.storage.models import ChatAccount, SeenDelivery
from core.storage.store import Store
from core.storage.upsert import insert_or_ignore

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


async def test_the_first_row_with_a_key_is_kept(database_url: str) -> None:
    store = Store.from_url(database_url)
    try:
        async with store.transaction() as session:
            first = await insert_or_ignore(
                session, SeenDelivery, {"digest": "d1", "expires_at": NOW}, key=["digest"]
            )
            again = await insert_or_ignore(
                session,
                SeenDelivery,
                {"digest": "d1", "expires_at": NOW.replace(hour=13)},
                key=["digest"],
            )
        assert (first, again) == (True, False)
        async with store.reading() as session:
            rows = list((await session.execute(select(SeenDelivery))).scalars())
        assert [(r.digest, r.expires_at) for r in rows] == [("d1", NOW)]
    finally:
        await store.close()


async def test_concurrent_inserts_of_one_key_make_one_row(database_url: str) -> None:
    stores = [Store.from_url(database_url) for _ in range(2)]

    async def insert(store: Store, name: str) -> bool:
        async with store.transaction() as session:
            return await insert_or_ignore(
                session,
                ChatAccount,
                {
                    "platform": "slack",
                    "platform_user_id": "U0ALICE",
                    "email": "alice@example.com",
                    "display_name": name,
                    "extra": {},
                    "updated_at": NOW,
                },
                key=["platform", "platform_user_id"],
            )

    try:
        results = await asyncio.gather(*(insert(s, f"Alice {i}") for i, s in enumerate(stores * 3)))
        assert sorted(results) == [False] * 5 + [True]
        async with stores[0].reading() as session:
            rows = list((await session.execute(select(ChatAccount))).scalars())
        assert len(rows) == 1
    finally:
        for store in stores:
            await store.close()


async def test_a_delivery_is_first_once_on_either_database(
    database_url: str, encryption_key: str
) -> None:
    from core.storage import deliveries
    from tests.support.domain import make_domain

    domain = await make_domain(database_url, encryption_key)
    try:
        seen = [
            await deliveries.first_delivery(
                domain.ctx, platform="slack", signature="v0=abc", until=NOW
            )
            for _ in range(2)
        ]
        assert seen == [True, False]
    finally:
        await domain.ctx.store.close()
