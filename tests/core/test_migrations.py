"""The migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

import core.storage.models  # noqa: F401
from core.storage.store import Store


async def test_migrated_schema_matches_the_models(database_url: str) -> None:
    store = Store.from_url(database_url)

    def diff(connection: object) -> list[object]:
        context = MigrationContext.configure(connection, opts={"compare_type": False})  # type: ignore[arg-type]
        return compare_metadata(context, SQLModel.metadata)

    async with store.engine.connect() as connection:
        differences = await connection.run_sync(diff)
    await store.close()
    assert differences == []
