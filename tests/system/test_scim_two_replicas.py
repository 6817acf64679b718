"""Two running `gatepass serve` replicas on one PostgreSQL database: what the identity provider
provisions through replica A is what replica B answers over SCIM, and who would approve follows
a group's membership change made through A, with nothing restarted."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
import pytest
import yaml

from core.domain.ports import SystemClock
from core.storage import resources
from core.storage.store import Store
from tests.cli.test_serve import free_port
from tests.scim.harness import AUTH, GROUP, PATCH, TOKEN, okta_user, scim_config
from tests.support.domain import RESOURCES

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.postgres, pytest.mark.slow]
T = TypeVar("T")
SERVE = [sys.executable, "-m", "bot.cli", "serve"]
APPROVERS_FOR = [sys.executable, "-m", "bot.cli", "approvers-for"]
ASK = ["--integration", "prod-atlas", "--resource", "database:analytics", "--permission", "read"]


@dataclass
class Replica:
    process: subprocess.Popen[bytes]
    base: str  # http://127.0.0.1:<port>
    log: Path


def start(path: Path, env: dict[str, str], name: str) -> Replica:
    port = free_port()
    log = path.parent / f"{name}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                *SERVE,
                "--config",
                str(path),
                "--no-worker",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            cwd=path.parent,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    return Replica(process, f"http://127.0.0.1:{port}", log)


def stop(replica: Replica) -> None:
    if replica.process.poll() is None:
        replica.process.send_signal(signal.SIGTERM)
        try:
            replica.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            replica.process.kill()
            replica.process.wait(timeout=10)


@contextmanager
def replicas(path: Path, env: dict[str, str]) -> Iterator[tuple[Replica, Replica]]:
    started: list[Replica] = []
    try:
        started.append(start(path, env, "a"))
        started.append(start(path, env, "b"))
        yield started[0], started[1]
    finally:
        for replica in started:
            stop(replica)


async def eventually(probe: Callable[[], Awaitable[T | None]], what: str, timeout: float = 20) -> T:
    """Poll ``probe`` until it answers something other than None, for at most ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = await probe()
        if found is not None:
            return found
        await asyncio.sleep(0.1)
    raise AssertionError(f"not within {timeout}s: {what}")


async def healthy(http: aiohttp.ClientSession, replica: Replica) -> None:
    async def probe() -> bool | None:
        assert replica.process.poll() is None, replica.log.read_text()
        try:
            async with http.get(f"{replica.base}/healthz") as response:
                return True if response.status == 200 else None
        except aiohttp.ClientConnectionError:
            return None

    await eventually(probe, f"{replica.base}/healthz", timeout=40)


async def scim(
    http: aiohttp.ClientSession, replica: Replica, method: str, path: str, body: Any = None
) -> tuple[int, Any]:
    url = f"{replica.base}/scim/v2{path}"
    async with http.request(method, url, json=body, headers=AUTH) as response:
        text = await response.text()
        return response.status, (json.loads(text) if text else None)


async def provision(http: aiohttp.ClientSession, a: Replica, email: str, name: str) -> str:
    status, user = await scim(http, a, "POST", "/Users", okta_user(email, name, external_id=email))
    assert status == 201, user
    return str(user["id"])


async def group(http: aiohttp.ClientSession, a: Replica, name: str, members: list[str]) -> str:
    body = {"schemas": [GROUP], "displayName": name, "members": [{"value": m} for m in members]}
    status, created = await scim(http, a, "POST", "/Groups", body)
    assert status == 201, created
    return str(created["id"])


async def members_on(http: aiohttp.ClientSession, b: Replica, group_id: str) -> set[str]:
    status, found = await scim(http, b, "GET", f"/Groups/{group_id}")
    assert status == 200, found
    return {m["value"] for m in found.get("members") or []}


async def user_on(http: aiohttp.ClientSession, b: Replica, email: str) -> dict[str, Any] | None:
    status, found = await scim(http, b, "GET", f'/Users?filter=userName eq "{email}"')
    assert status == 200, found
    return found["Resources"][0] if found["totalResults"] == 1 else None


def approvers(path: Path, env: dict[str, str], requester: str) -> list[str]:
    """``gatepass approvers-for`` against the same database: the approvers' emails."""
    done = subprocess.run(
        [*APPROVERS_FOR, "--requester", requester, *ASK, "--config", str(path), "--json"],
        check=False,
        cwd=path.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return sorted(a["email"] for a in json.loads(done.stdout)["approvers"])


async def seed(database_url: str) -> None:
    """What an Atlas sync would have found: Cluster0 is owned by group dba (no worker runs)."""
    store = Store.from_url(database_url)
    async with store.transaction() as session:
        await resources.replace_discovered(session, "prod-atlas", RESOURCES, at=SystemClock().now())
    await store.close()


def setup(tmp_path: Path, database_url: str, key: str) -> tuple[Path, dict[str, str]]:
    path = tmp_path / "gatepass.yml"
    path.write_text(yaml.safe_dump(scim_config(database_url)))
    env = dict(os.environ, KEY=key, GATEPASS_SCIM_TOKEN=TOKEN, PYTHONPATH=str(ROOT))
    env.pop("GATEPASS_DATABASE_URL", None)
    return path, env


@dataclass
class People:
    alice: str
    bob: str
    erin: str
    dba: str


async def provision_on(http: aiohttp.ClientSession, a: Replica) -> People:
    """Alice in data-eng (the requesters), Bob in dba (Cluster0's owners), Erin in no group."""
    alice = await provision(http, a, "alice@example.com", "Alice Doe")
    bob = await provision(http, a, "bob@example.com", "Bob Ray")
    erin = await provision(http, a, "erin@example.com", "Erin Fox")
    await group(http, a, "data-eng", [alice])
    return People(alice, bob, erin, await group(http, a, "dba", [bob]))


async def move_dba_to_erin(http: aiohttp.ClientSession, a: Replica, people: People) -> None:
    change = {
        "schemas": [PATCH],
        "Operations": [
            {"op": "add", "path": "members", "value": [{"value": people.erin}]},
            {"op": "remove", "path": f'members[value eq "{people.bob}"]'},
        ],
    }
    status, body = await scim(http, a, "PATCH", f"/Groups/{people.dba}", change)
    assert status in (200, 204), body


@asynccontextmanager
async def running(
    tmp_path: Path, database_url: str, key: str
) -> AsyncIterator[tuple[Path, dict[str, str], aiohttp.ClientSession, Replica, Replica]]:
    path, env = setup(tmp_path, database_url, key)
    await seed(database_url)
    with replicas(path, env) as (a, b):
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http:
            await healthy(http, a)
            await healthy(http, b)
            yield path, env, http, a, b
        assert a.process.poll() is None and b.process.poll() is None, "a replica stopped"


async def test_replica_b_answers_what_replica_a_provisioned_and_changed(
    tmp_path: Path, postgres_url: str, encryption_key: str
) -> None:
    async with running(tmp_path, postgres_url, encryption_key) as (_, _, http, a, b):
        people = await provision_on(http, a)
        seen = await eventually(lambda: user_on(http, b, "erin@example.com"), "Erin on B")
        assert seen["id"] == people.erin and seen["active"] is True
        assert await members_on(http, b, people.dba) == {people.bob}
        bob = await user_on(http, b, "bob@example.com")
        assert bob is not None and [g["display"] for g in bob["groups"]] == ["dba"]

        await move_dba_to_erin(http, a, people)

        async def moved() -> bool | None:
            return True if await members_on(http, b, people.dba) == {people.erin} else None

        await eventually(moved, "dba's new members on B")
        bob = await user_on(http, b, "bob@example.com")
        assert bob is not None and not bob.get("groups")
        erin = await user_on(http, b, "erin@example.com")
        assert erin is not None and [g["display"] for g in erin["groups"]] == ["dba"]


async def test_approvers_for_follows_a_group_change_made_through_a_replica(
    tmp_path: Path, postgres_url: str, encryption_key: str
) -> None:
    async with running(tmp_path, postgres_url, encryption_key) as (path, env, http, a, b):
        people = await provision_on(http, a)
        await eventually(lambda: user_on(http, b, "erin@example.com"), "Erin on B")
        # Carol is in dba in the config file; Bob in dba from SCIM.
        assert approvers(path, env, "alice@example.com") == [
            "bob@example.com",
            "carol@example.com",
        ]
        await move_dba_to_erin(http, a, people)
        assert approvers(path, env, "alice@example.com") == [
            "carol@example.com",
            "erin@example.com",
        ]
