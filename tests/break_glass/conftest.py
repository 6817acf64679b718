"""The break-glass tests' fixtures: a domain with the break-glass flow, the both-platform world
against the Atlas fake (``harness.py``), and the fakes and CLI fixtures they borrow."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.break_glass.config import break_glass_config
from tests.break_glass.harness import world  # noqa: F401
from tests.cli.conftest import cli, secrets_env  # noqa: F401
from tests.cross_platform.conftest import connector, openid, slack, token_endpoint  # noqa: F401
from tests.support.domain import Domain, make_domain


@pytest.fixture
async def domain(database_url: str, encryption_key: str) -> AsyncIterator[Domain]:
    built = await make_domain(database_url, encryption_key, break_glass_config())
    yield built
    await built.ctx.store.close()
