from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.support.domain import Domain, make_domain


@pytest.fixture
async def domain(database_url: str, encryption_key: str) -> AsyncIterator[Domain]:
    built = await make_domain(database_url, encryption_key)
    yield built
    await built.ctx.store.close()


@pytest.fixture
async def sqlite_domain(sqlite_url: str, encryption_key: str) -> AsyncIterator[Domain]:
    built = await make_domain(sqlite_url, encryption_key)
    yield built
    await built.ctx.store.close()
