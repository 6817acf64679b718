"""The whole Gatepass app (``bot.app.build``) served on 127.0.0.1 with the Slack edge installed,
talking to the fake Slack Web API, with the in-memory integration and a moved clock.

Jobs are run by the test (``harness.run_jobs()``), never by a background worker, so every
step is deterministic.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from core.storage import migrations
from tests.fakes.slack import FakeSlack
from tests.fakes.slack_socket import FakeSocketMode
from tests.slack.harness import PEOPLE, Harness, start_harness


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as fake:
        for user_id, (email, name) in PEOPLE.items():
            fake.add_user(user_id, email=email, real_name=name)
        yield fake


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file for the session; each test gets a copy (migrating per test
    would be most of the suite's time)."""
    template = tmp_path_factory.mktemp("slack-db") / "template.db"
    migrations.upgrade(f"sqlite+aiosqlite:///{template}")
    return template


@pytest.fixture
def sqlite_url(migrated_sqlite: Path, tmp_path: Path) -> str:
    copy = tmp_path / "gatepass.db"
    shutil.copyfile(migrated_sqlite, copy)
    return f"sqlite+aiosqlite:///{copy}"


@pytest.fixture
async def harness(slack: FakeSlack, sqlite_url: str, encryption_key: str) -> AsyncIterator[Harness]:
    started = await start_harness(slack, sqlite_url, encryption_key)
    try:
        yield started
    finally:
        await started.close()


@pytest.fixture
async def socket_mode(slack: FakeSlack) -> AsyncIterator[FakeSocketMode]:
    async with FakeSocketMode() as fake:
        slack.attach_socket(fake)
        yield fake


@pytest.fixture
async def harness_on_each_database(
    slack: FakeSlack, database_url: str, encryption_key: str
) -> AsyncIterator[Harness]:
    """The same app on SQLite, then on PostgreSQL (row locks, real concurrency)."""
    started = await start_harness(slack, database_url, encryption_key)
    try:
        yield started
    finally:
        await started.close()
