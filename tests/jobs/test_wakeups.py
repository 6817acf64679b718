"""Cross-process wake-ups on PostgreSQL (``core.storage.wakeups``): a job queued by this
process wakes a separate ``gatepass worker`` whose poll interval is 5 minutes, and the worker's
listener keeps doing so after its connection was terminated.

The worker has no handler for the kind queued here, so it marks the job dead at once: that is
the sign it claimed the job. Nothing here is timed: with a 5-minute poll, a job done within the
(generous) wait was claimed because of the notification.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa
import yaml
from sqlalchemy.engine import make_url
from sqlmodel import col

from core.domain.ports import NoDoorbell
from core.jobs.contract import DEAD, JobSpec, enqueue
from core.storage.models import Job
from core.storage.store import Store
from core.storage.wakeups import LISTENER_NAME, Wakeups
from tests.support.gatepass_process import ROOT, GatepassProcess, launch
from tests.system.test_atlas_through_core import config

pytestmark = [pytest.mark.slow, pytest.mark.postgres]
WAIT_S = 60.0  # well within the worker's 5-minute poll


def libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def until(condition: Callable[[], Awaitable[bool]], timeout: float = WAIT_S) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


@pytest.fixture
async def worker(postgres_url: str, encryption_key: str, tmp_path: Path) -> AsyncIterator[str]:
    """A ``gatepass worker`` polling every 5 minutes; yields the database URL."""
    data = config("http://127.0.0.1:9", postgres_url)
    data["jobs"] = {"poll_interval": "300s"}
    path = tmp_path / "gatepass.yml"
    path.write_text(yaml.safe_dump(data))
    mine = ("SLACK_", "ATLAS_", "GATEPASS_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(mine)}
    env |= {"GATEPASS_KEY": encryption_key, "PYTHONPATH": str(ROOT)}
    process: GatepassProcess = await launch("worker", path, env, port=0)
    try:
        yield postgres_url
    finally:
        output = await process.stop()
        assert "Traceback" not in output, output


async def listener_pids(url: str) -> set[int]:
    async with await psycopg.AsyncConnection.connect(libpq(url), autocommit=True) as connection:
        rows = await connection.execute(
            "SELECT pid FROM pg_stat_activity WHERE application_name = %s"
            " AND datname = current_database() AND query LIKE 'LISTEN%%'",
            (LISTENER_NAME,),
        )
        return {row[0] for row in await rows.fetchall()}


async def queue_and_ring(store: Store, wakeups: Wakeups, key: str) -> None:
    async with store.transaction() as session:
        await enqueue(session, JobSpec("wakeup-probe", key, run_at=datetime.now(UTC)))
    wakeups.doorbell(NoDoorbell()).ring()


async def claimed(store: Store, key: str) -> bool:
    async with store.reading() as session:
        state = (
            await session.execute(sa.select(col(Job.state)).where(col(Job.dedupe_key) == key))
        ).scalar_one()
    return bool(state == DEAD)


async def test_a_job_queued_here_wakes_the_worker_of_another_process(worker: str) -> None:
    store, wakeups = Store.from_url(worker), Wakeups.for_database(worker)
    assert wakeups is not None
    try:
        await until(lambda: _some(listener_pids(worker)))
        await queue_and_ring(store, wakeups, "probe-1")
        await until(lambda: claimed(store, "probe-1"))
    finally:
        await wakeups.aclose()
        await store.close()


async def test_the_listener_reconnects_after_its_connection_is_terminated(worker: str) -> None:
    store, wakeups = Store.from_url(worker), Wakeups.for_database(worker)
    assert wakeups is not None
    try:
        await until(lambda: _some(listener_pids(worker)))
        first = await listener_pids(worker)
        async with await psycopg.AsyncConnection.connect(libpq(worker), autocommit=True) as admin:
            for pid in first:
                await admin.execute("SELECT pg_terminate_backend(%s)", (pid,))

        async def listening_again() -> bool:
            now = await listener_pids(worker)
            return bool(now) and not now & first

        await until(listening_again)
        await queue_and_ring(store, wakeups, "probe-2")
        await until(lambda: claimed(store, "probe-2"))
    finally:
        await wakeups.aclose()
        await store.close()


async def test_a_process_is_not_woken_by_its_own_rings(postgres_url: str) -> None:
    """Two processes' wake-ups in one test: each ring wakes the other's listener only."""
    here, there = Wakeups.for_database(postgres_url), Wakeups.for_database(postgres_url)
    assert here is not None and there is not None
    woken = {"here": 0, "there": 0}
    try:
        here.listen(lambda: woken.__setitem__("here", woken["here"] + 1))
        there.listen(lambda: woken.__setitem__("there", woken["there"] + 1))

        async def both_listening() -> bool:  # each rings once when it starts listening
            return woken["here"] >= 1 and woken["there"] >= 1

        await until(both_listening)
        before = dict(woken)
        here.doorbell(NoDoorbell()).ring()

        async def there_woken() -> bool:
            return woken["there"] > before["there"]

        await until(there_woken)
        there.doorbell(NoDoorbell()).ring()  # a ring of its own, after which "here" is woken

        async def here_woken() -> bool:
            return woken["here"] > before["here"]

        await until(here_woken)
        assert woken["there"] == before["there"] + 1
    finally:
        await here.aclose()
        await there.aclose()


async def _some(pids: Awaitable[set[int]]) -> bool:
    return bool(await pids)
