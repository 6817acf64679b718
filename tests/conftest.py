from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet

from core.storage import migrations
from tests.support import databases
from tests.support.network import forbid_leaving_the_machine


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing in the suite (nor in the SDKs behind it) may leave the machine."""
    forbid_leaving_the_machine(monkeypatch)


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """One migrated PostgreSQL database for the session; tables are emptied between tests."""
    url = databases.create_database()
    migrations.upgrade(url)
    yield url
    databases.drop_database(url)


@pytest.fixture
def postgres_url(postgres_database: str) -> Iterator[str]:
    databases.truncate_all(postgres_database)
    yield postgres_database


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'gatepass.db'}"
    migrations.upgrade(url)
    return url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> str:
    """Runs the test once on SQLite and once on PostgreSQL."""
    return request.getfixturevalue(f"{request.param}_url")


@pytest.fixture
def encryption_key() -> str:
    return Fernet.generate_key().decode()


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def pytest_configure(config: Any) -> None:
    config.addinivalue_line("markers", "postgres: needs a real PostgreSQL")
