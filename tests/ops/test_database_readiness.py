"""/readyz follows the database, for real: a PostgreSQL database that stops accepting
connections (its own are cut) makes /readyz 503 naming the cause while /healthz stays 200 (a
database outage must not restart every pod); once it accepts connections again, 200."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import psycopg
import pytest
from aiohttp import web
from sqlalchemy.engine import make_url

from bot.app import build
from core.config.schema import parse_config
from core.config.settings import resolve_settings
from tests.ops.test_readiness import get
from tests.support import databases
from tests.support.domain import config_with
from tests.support.memory_integration import MemoryIntegration

pytestmark = pytest.mark.postgres


@pytest.fixture
def fresh_postgres() -> Iterator[str]:
    url = databases.create_database()
    yield url
    databases.drop_database(url)


def set_accepting(url: str, accepting: bool) -> None:
    name = make_url(url).database
    base = databases._libpq(databases.postgres_base_url())
    with psycopg.connect(base, autocommit=True, connect_timeout=5) as admin:
        admin.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS {str(accepting).lower()}')
        if not accepting:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid()",
                (name,),
            )


@pytest.fixture
async def served(fresh_postgres: str, encryption_key: str) -> AsyncIterator[str]:
    data = config_with(database_url=fresh_postgres, encryption_key="env:KEY")
    settings = resolve_settings(
        parse_config(data), config_path="t", environ={"KEY": encryption_key}
    )
    gatepass = await build(
        settings,
        integrations={"prod-atlas": MemoryIntegration("prod-atlas")},
        platforms=[],
        run_worker=False,
        readiness_ttl=0,
    )
    runner = web.AppRunner(gatepass.web, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        set_accepting(fresh_postgres, True)
        await runner.cleanup()


async def test_readyz_follows_the_database_and_healthz_does_not(
    served: str, fresh_postgres: str
) -> None:
    status, body = await get(served + "/readyz")
    assert status == 200, body
    assert (await get(served + "/healthz"))[1]["database"] == "ok"

    set_accepting(fresh_postgres, False)
    status, body = await get(served + "/readyz")
    assert status == 503
    problem = body["checks"]["database"]["problem"]
    assert problem.startswith("unreachable: ") and "not currently accepting connections" in problem
    live, health = await get(served + "/healthz")
    assert live == 200 and health["status"] == "ok"
    assert health["database"] == problem

    set_accepting(fresh_postgres, True)
    status, body = await get(served + "/readyz")
    assert status == 200, body
