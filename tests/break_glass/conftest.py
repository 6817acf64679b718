from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.break_glass.config import break_glass_config
from tests.support.domain import Domain, make_domain


@pytest.fixture
async def domain(database_url: str, encryption_key: str) -> AsyncIterator[Domain]:
    built = await make_domain(database_url, encryption_key, break_glass_config())
    yield built
    await built.ctx.store.close()


from tests.break_glass.harness import world  # noqa: E402, F401
from tests.cross_platform.conftest import (  # noqa: E402, F401
    connector,
    openid,
    slack,
    token_endpoint,
)
