"""`gatepass serve` stopped while grants are active and started again: a grant that ended while
it was down is revoked at once, and one that ends later is revoked on time."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from core.config.schema import parse_config
from core.config.settings import resolve_settings
from core.domain.lifecycle import Status
from core.domain.ports import SystemClock
from core.runtime import build_context
from core.storage.request_views import load_view
from core.use_cases import approvals, requests
from core.use_cases.eligibility import Draft
from tests.cli.test_serve import free_port, wait_for_health
from tests.fakes.atlas import PRIVATE_KEY, PROJECT_ID, FakeAtlas
from tests.support.memory_integration import MemoryIntegration
from tests.system.test_atlas_through_core import config

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def start_serve(path: Path, port: int, env: dict[str, str]) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "serve", "--config", str(path)],
        cwd=path.parent,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    wait_for_health(f"http://127.0.0.1:{port}/healthz", process)
    return process


def stop(process: subprocess.Popen[str]) -> str:
    process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output
    return output


async def until(condition, timeout: float = 20.0) -> float:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await condition():
            return time.time()
        await asyncio.sleep(0.05)
    raise AssertionError("condition not met in time")


async def test_grants_are_revoked_on_time_across_a_restart(
    tmp_path: Path, sqlite_url: str, encryption_key: str
) -> None:
    async with FakeAtlas(clock=SystemClock(), pending_polls=0) as atlas:
        data = config(atlas.url, sqlite_url)
        port = free_port()
        data["server"] = {"host": "127.0.0.1", "port": port}
        data["access_flows"][0]["durations"] = ["6s", "12s"]
        data["jobs"] = {"poll_interval": "1s", "lease": "10s"}
        data["directory"]["users"].append(
            {"email": "dave@example.com", "name": "Dave Kim", "groups": ["data-eng"]}
        )
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
        # The test's own view of the same database: it asks and decides, serve grants.
        ctx = build_context(settings, integrations={"prod-atlas": MemoryIntegration("prod-atlas")})

        async def status(request_id: str) -> Status:
            async with ctx.store.reading() as session:
                return (await load_view(session, ctx.directory, request_id)).status

        first = start_serve(path, port, env)
        try:
            await until(lambda: _synced(ctx))
            short = await _approved(ctx, "alice@example.com", "analytics", timedelta(seconds=6))
            long = await _approved(ctx, "dave@example.com", "sales", timedelta(seconds=12))
            await until(lambda: _both(status, short, long, Status.ACTIVE))
        finally:
            stop(first)
        async with ctx.store.reading() as session:
            short_end = (await load_view(session, ctx.directory, short)).ends_at
            long_end = (await load_view(session, ctx.directory, long)).ends_at
        users = set(atlas.users[PROJECT_ID])
        assert any(u.startswith("gp-alice-") for u in users) and any(
            u.startswith("gp-dave-") for u in users
        )

        await asyncio.sleep(max(0.0, (short_end - datetime.now(UTC)).total_seconds()) + 1.0)
        assert await status(short) is Status.ACTIVE  # nobody was there to revoke it
        second = start_serve(path, port, env)
        try:
            restarted = time.time()
            revoked_short = await until(lambda: _is(status, short, Status.EXPIRED))
            revoked_long = await until(lambda: _is(status, long, Status.EXPIRED), timeout=30)
        finally:
            stop(second)
        assert revoked_short - restarted < 5, "the overdue revocation ran at start"
        # Due from its end, or from when the restarted serve was working (the overdue one done)
        # when it started after that end: a start can take longer than the grant on a loaded
        # machine, and then the later revocation is an overdue one too.
        due = max(long_end.timestamp(), revoked_short)
        assert revoked_long - due < 3, "the later revocation ran on time"
        assert not any(u.startswith(("gp-alice-", "gp-dave-")) for u in atlas.users[PROJECT_ID])
        await ctx.store.close()


async def _synced(ctx) -> bool:
    from core.storage import resources

    async with ctx.store.reading() as session:
        return await resources.get(session, "prod-atlas", "database", "sales") is not None


async def _approved(ctx, requester: str, database: str, duration: timedelta) -> str:
    draft = Draft("prod-atlas", "database", database, "read", duration, "restart drill")
    view = await requests.submit(ctx, requester=requester, draft=draft, platform="slack")
    await approvals.decide(
        ctx,
        approver="bob@example.com",
        request_id=view.id,
        outcome="approve",
        reason=None,
        platform="slack",
    )
    return view.id


async def _both(status, a: str, b: str, wanted: Status) -> bool:
    return await status(a) is wanted and await status(b) is wanted


async def _is(status, request_id: str, wanted: Status) -> bool:
    return await status(request_id) is wanted
