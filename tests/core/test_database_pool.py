"""``database_pool``: the PostgreSQL connections one process may hold, honoured by the store
and checked against the server's ``max_connections``; refused with SQLite, where it would do
nothing."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import sqlalchemy as sa

from core.config.schema import ConfigError, parse_config
from core.config.settings import Settings, resolve_settings
from core.storage.connections import connection_budget
from core.storage.store import Store


def settings(data: dict[str, object], tmp_path: Path) -> Settings:
    return resolve_settings(
        parse_config(data), config_path=str(tmp_path / "gatepass.yml"), environ={}
    )


def test_the_defaults_leave_room_for_four_processes_on_a_default_server() -> None:
    pool = parse_config({}).database_pool
    assert (pool.size, pool.overflow, pool.timeout.total_seconds()) == (10, 10, 10.0)
    assert pool.most_per_process == 21  # and 4 x 21 < 100 - 3 reserved


def test_with_sqlite_the_section_is_refused_naming_why(tmp_path: Path) -> None:
    data = {"database_url": "sqlite+aiosqlite:///gatepass.db", "database_pool": {"size": 5}}
    with pytest.raises(ConfigError) as refused:
        settings(data, tmp_path)
    assert "database_pool: applies to PostgreSQL only" in str(refused.value)


@pytest.mark.parametrize(
    ("pool", "problem"),
    [
        ({"size": 0}, "database_pool.size"),
        ({"overflow": -1}, "database_pool.overflow"),
        ({"timeout": "soon"}, "database_pool.timeout"),
        ({"sise": 3}, "database_pool.sise"),
    ],
)
def test_a_bad_pool_is_named(pool: dict[str, object], problem: str) -> None:
    with pytest.raises(ConfigError) as refused:
        parse_config({"database_pool": pool})
    assert problem in str(refused.value)


@pytest.mark.postgres
async def test_the_store_holds_no_more_than_the_pool(postgres_url: str, tmp_path: Path) -> None:
    data = {
        "database_url": postgres_url,
        "encryption_key": "env:KEY",
        "database_pool": {"size": 2, "overflow": 1, "timeout": "1s"},
    }
    pool = settings(data, tmp_path).config.database_pool
    store = Store.from_url(postgres_url, pool=pool)
    held = asyncio.Event()
    try:

        async def hold() -> None:
            async with store.transaction() as session:
                await session.execute(sa.text("SELECT 1"))
                held.set()
                await asyncio.sleep(3)

        holders = [asyncio.create_task(hold()) for _ in range(3)]
        await held.wait()
        await asyncio.sleep(0.2)
        with pytest.raises(sa.exc.TimeoutError):  # a fourth waits 1 s, then fails
            async with store.transaction() as session:
                await session.execute(sa.text("SELECT 1"))
        await asyncio.gather(*holders)
    finally:
        await store.close()


@pytest.mark.postgres
async def test_the_budget_says_how_many_processes_fit(postgres_url: str, tmp_path: Path) -> None:
    store = Store.from_url(postgres_url)
    try:
        async with store.engine.connect() as connection:
            most = int((await connection.execute(sa.text("SHOW max_connections"))).scalar_one())
        fits = parse_config({"database_pool": {"size": 10, "overflow": 10}}).database_pool
        budget = await connection_budget(store, fits)
        assert budget is not None and budget.max_connections == most
        assert budget.processes == (most - budget.reserved) // 21
        assert budget.problem() is None
        too_big = parse_config({"database_pool": {"size": most, "overflow": 0}}).database_pool
        over = await connection_budget(store, too_big)
        assert over is not None and over.processes == 0
        assert over.problem() is not None
        assert "lower database_pool or raise PostgreSQL's max_connections" in over.problem()
    finally:
        await store.close()
