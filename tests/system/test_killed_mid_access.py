"""`gatepass serve` and `gatepass worker` killed with SIGKILL in the middle of giving or taking
access, against the Atlas wire fake, on SQLite and on PostgreSQL.

- Killed after Atlas made the user (the create in flight, or waiting for Atlas to report it
  applied) and kept down past the grant's end: on restart the user is removed at once, never
  given a fresh window, and the requester is told.
- Killed during a revocation (a delete, a role-union PATCH, an admin revoke): the restarted
  process (a new worker id) takes the dead one's leases over as soon as its heartbeat is stale,
  not when the lease runs out, and finishes within a few seconds.

Each test prints what it measured (seconds from the restart to the access being gone).
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml

from core.config.schema import parse_config
from core.config.settings import resolve_settings
from core.context import Context
from core.domain.lifecycle import Status
from core.domain.ports import SystemClock
from core.runtime import build_context
from core.storage import resources
from core.storage.models import AccessRequest, Job
from core.use_cases import approvals, grants, requests
from core.use_cases.eligibility import Draft
from tests.cli.test_serve import free_port
from tests.fakes.atlas import PRIVATE_KEY, PROJECT_ID, FakeAtlas
from tests.support.gatepass_process import ROOT, GatepassProcess, launch
from tests.support.memory_integration import MemoryIntegration
from tests.system.test_atlas_through_core import config

pytestmark = pytest.mark.slow
USERS = "/databaseUsers"
ALICE = "alice@example.com"


@dataclass
class Rig:
    atlas: FakeAtlas
    ctx: Context  # the test's own view of the database: it asks, decides and reads
    path: Path
    env: dict[str, str]
    port: int

    async def start(self, command: str = "serve") -> GatepassProcess:
        return await launch(command, self.path, self.env, port=self.port)

    async def request(self, database: str, seconds: float) -> str:
        draft = Draft(
            "prod-atlas", "database", database, "read", timedelta(seconds=seconds), "drill"
        )
        view = await requests.submit(self.ctx, requester=ALICE, draft=draft, platform="slack")
        await approvals.decide(
            self.ctx,
            approver="bob@example.com",
            request_id=view.id,
            outcome="approve",
            reason=None,
            platform="slack",
        )
        return view.id

    async def row(self, request_id: str) -> AccessRequest:
        async with self.ctx.store.reading() as session:
            row = await session.get(AccessRequest, request_id)
        assert row is not None
        return row

    async def status(self, request_id: str) -> Status:
        return Status((await self.row(request_id)).status)

    def user(self) -> dict | None:
        found = [u for n, u in self.atlas.users[PROJECT_ID].items() if n.startswith("gp-alice-")]
        return found[0] if found else None


@pytest.fixture
async def rig(tmp_path: Path, database_url: str, encryption_key: str) -> AsyncIterator[Rig]:
    async with FakeAtlas(clock=SystemClock(), pending_polls=0) as atlas:
        data = config(atlas.url, database_url)
        port = free_port()
        data["server"] = {"host": "127.0.0.1", "port": port}
        data["access_flows"][0]["durations"] = ["5s", "8s", "60s"]
        data["jobs"] = {"poll_interval": "1s"}  # the default lease (60 s) and heartbeat (5 s)
        path = tmp_path / "gatepass.yml"
        path.write_text(yaml.safe_dump(data))
        env = dict(
            os.environ,
            GATEPASS_KEY=encryption_key,
            ATLAS_PUBLIC="gpfakepublickey",
            ATLAS_PRIVATE=PRIVATE_KEY,
            PYTHONPATH=str(ROOT),
        )
        env.pop("GATEPASS_DATABASE_URL", None)
        settings = resolve_settings(parse_config(data), config_path=str(path), environ=env)
        ctx = build_context(settings, integrations={"prod-atlas": MemoryIntegration("prod-atlas")})
        yield Rig(atlas, ctx, path, env, port)
        await ctx.store.close()


async def until(condition: Callable[[], Awaitable[bool] | bool], timeout: float = 30) -> float:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if not isinstance(result, bool):
            result = await result
        if result:
            return time.time()
        await asyncio.sleep(0.05)
    raise AssertionError("condition not met in time")


def in_flight(atlas: FakeAtlas, method: str) -> Callable[[], bool]:
    return lambda: any(c.status == 0 for c in atlas.calls(method, USERS))


async def synced(rig: Rig) -> bool:
    async with rig.ctx.store.reading() as session:
        return await resources.get(session, "prod-atlas", "database", "sales") is not None


async def told_ended(rig: Rig, request_id: str, status: Status) -> bool:
    key = f"requester:{request_id}:ended:{status}"
    async with rig.ctx.store.reading() as session:
        job = (await session.execute(sa.select(Job).where(Job.dedupe_key == key))).scalar_one()
    return job.state == "done"


# --------------------------------------------------------------------------- a grant's window


@pytest.mark.parametrize("phase", ["creating the user", "waiting for APPLIED"])
async def test_killed_after_atlas_made_the_user_and_down_past_the_end(rig: Rig, phase: str) -> None:
    if phase == "creating the user":  # Atlas makes it after the delay, the caller gone or not
        rig.atlas.slow_down(2.0, method="POST", contains=USERS, count=1)
    else:
        rig.atlas.pending_polls = 10**6
    first = await rig.start()
    await until(lambda: synced(rig))
    request_id = await rig.request("analytics", 5)
    if phase == "creating the user":
        await until(in_flight(rig.atlas, "POST"))
    else:
        await until(lambda: rig.user() is not None and _recorded(rig, request_id))
    first.kill_hard()
    await until(lambda: rig.user() is not None)  # the user exists and works
    window = await rig.row(request_id)
    assert window.starts_at is not None and window.ends_at is not None
    await asyncio.sleep(max(0.0, (window.ends_at - datetime.now(UTC)).total_seconds()) + 1.0)
    assert rig.user() is not None  # past the end; Atlas's own deleteAfterDate is a minute later

    second = await rig.start()
    try:
        gone = await until(lambda: rig.user() is None, timeout=10)
        await until(lambda: _is(rig, request_id, Status.EXPIRED))
        await until(lambda: told_ended(rig, request_id, Status.EXPIRED))
    finally:
        await second.stop()
    print(f"\n[{phase}] restart ready -> user gone: {gone - second.ready_at:.2f}s")
    assert gone - second.ready_at < 2.5, "removed within a tick or two of the restart"
    ended = await rig.row(request_id)
    assert (ended.starts_at, ended.ends_at) == (window.starts_at, window.ends_at)
    assert len(rig.atlas.calls("POST", USERS)) == 1  # never made again
    assert not rig.atlas.calls("PATCH", USERS)  # and never given a fresh window


async def _recorded(rig: Rig, request_id: str) -> bool:
    async with rig.ctx.store.reading() as session:
        from core.storage.models import Grant

        return await session.get(Grant, request_id) is not None


async def _is(rig: Rig, request_id: str, status: Status) -> bool:
    return await rig.status(request_id) is status


# --------------------------------------------------------------------------- revocations


async def _revoke_deleting(rig: Rig) -> tuple[str, Status]:
    request_id = await rig.request("analytics", 5)
    await until(lambda: _is(rig, request_id, Status.ACTIVE))
    rig.atlas.slow_down(30.0, method="DELETE", contains=USERS, count=1)
    return request_id, Status.EXPIRED


async def _revoke_patching(rig: Rig) -> tuple[str, Status]:
    short = await rig.request("analytics", 8)
    long = await rig.request("sales", 60)
    await until(lambda: _is(rig, short, Status.ACTIVE))
    await until(lambda: _is(rig, long, Status.ACTIVE))
    rig.atlas.slow_down(30.0, method="PATCH", contains=USERS, count=1)
    return short, Status.EXPIRED


async def _revoke_by_an_admin(rig: Rig) -> tuple[str, Status]:
    request_id = await rig.request("analytics", 60)
    await until(lambda: _is(rig, request_id, Status.ACTIVE))
    rig.atlas.slow_down(30.0, method="DELETE", contains=USERS, count=1)
    await grants.revoke(
        rig.ctx, actor="admin", request_id=request_id, reason="drill", platform=None, as_admin=True
    )
    return request_id, Status.REVOKED


REVOCATIONS = {
    "delete": (_revoke_deleting, "DELETE", "serve"),
    "union PATCH": (_revoke_patching, "PATCH", "worker"),
    "admin revoke": (_revoke_by_an_admin, "DELETE", "serve"),
}


@pytest.mark.parametrize("case", list(REVOCATIONS))
async def test_a_revocation_in_flight_finishes_soon_after_a_restart(rig: Rig, case: str) -> None:
    begin, method, command = REVOCATIONS[case]
    first = await rig.start(command)
    await until(lambda: synced(rig))
    request_id, ended = await begin(rig)
    await until(in_flight(rig.atlas, method), timeout=90)
    first.kill_hard()
    killed = time.time()

    second = await rig.start(command)
    try:
        done = await until(lambda: _is(rig, request_id, ended), timeout=60)
    finally:
        await second.stop()
    print(
        f"\n[{case}] kill -> done {done - killed:.2f}s; launch -> done "
        f"{done - second.started_at:.2f}s; ready -> done {done - second.ready_at:.2f}s"
    )
    assert done - second.started_at < 10, "finished within a few seconds of the restart"
    roles = (rig.user() or {}).get("roles", [])
    assert {"roleName": "read", "databaseName": "analytics"} not in roles
    if case == "union PATCH":
        assert roles == [{"roleName": "read", "databaseName": "sales"}]
