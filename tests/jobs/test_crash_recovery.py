"""A worker killed with SIGKILL in the middle of a job: the next worker takes the job over when
its lease runs out, and every step still happens exactly once."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from core.domain.lifecycle import Status
from core.domain.ports import SystemClock
from core.storage.models import Job
from core.storage.request_views import load_view
from core.use_cases import approvals, requests
from core.use_cases.eligibility import Draft
from tests.support.domain import Domain, make_domain
from tests.support.file_integration import FileIntegration

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def start_worker(url: str, folder: Path, key: str, slow: float) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.support.worker_process", url, str(folder), key, str(slow)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "worker ready"
    return process


async def wait_until(condition: Callable[[], object], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not met in time")


def kill_hard(process: subprocess.Popen[str]) -> None:
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=10)


async def approved_request(domain: Domain) -> str:
    # Longer than the takeover (the killed worker's 5 s heartbeat timeout and a process start):
    # the window runs from the first worker's tentative start, so a shorter grant would end as
    # the second worker takes it over, and never be seen active.
    draft = Draft("prod-atlas", "database", "analytics", "read", timedelta(seconds=12), "incident")
    view = await requests.submit(
        domain.ctx, requester="alice@example.com", draft=draft, platform="slack"
    )
    await approvals.decide(
        domain.ctx,
        approver="bob@example.com",
        request_id=view.id,
        outcome="approve",
        reason=None,
        platform="slack",
    )
    return view.id


async def test_killed_worker_grant_and_revoke_still_happen_once(
    database_url: str, encryption_key: str, tmp_path: Path
) -> None:
    url = database_url  # worker processes share it: a SQLite file, or PostgreSQL
    domain = await make_domain(url, encryption_key, clock=SystemClock())
    files = FileIntegration("prod-atlas", tmp_path)
    request_id = await approved_request(domain)

    async def current() -> Status:
        async with domain.ctx.store.reading() as session:
            return (await load_view(session, domain.ctx.directory, request_id)).status

    first = start_worker(url, tmp_path, encryption_key, slow=30)
    await wait_until(lambda: any(e == "grant-start" for _, e, _ in files.journal()))
    kill_hard(first)
    assert await current() is Status.GRANTING

    second = start_worker(url, tmp_path, encryption_key, slow=1.5)
    try:
        # The takeover waits out the killed worker's heartbeat (5 s) and the retry's backoff.
        try:
            await wait_until(lambda: _is(current, Status.ACTIVE), timeout=30)
        except AssertionError:
            raise AssertionError(await _jobs_of(domain, request_id)) from None
        await wait_until(
            lambda: any(e == "revoke-start" for _, e, _ in files.journal()), timeout=20
        )
        kill_hard(second)
    finally:
        if second.poll() is None:
            second.kill()
    assert await current() is Status.ACTIVE

    third = start_worker(url, tmp_path, encryption_key, slow=0)
    try:
        await wait_until(lambda: _is(current, Status.EXPIRED))
    finally:
        third.send_signal(signal.SIGTERM)
        third.wait(timeout=10)

    journal = [e for _, e, subject in files.journal() if subject == request_id]
    assert journal.count("grant-done") == 1
    assert journal.count("revoke-done") == 1
    assert files.accounts() == {}
    await assert_each_step_ran_once(domain, request_id)
    await domain.ctx.store.close()


async def _jobs_of(domain: Domain, request_id: str) -> str:
    async with domain.ctx.store.reading() as session:
        query = "SELECT kind, state, attempts, locked_by, run_at, last_error FROM jobs"
        rows = (await session.execute(sa.text(query))).all()
        accounts = (await session.execute(sa.text("SELECT * FROM integration_accounts"))).all()
        workers = (await session.execute(sa.text("SELECT * FROM workers"))).all()
    return f"jobs={rows!r} accounts={accounts!r} workers={workers!r}"


async def assert_each_step_ran_once(domain: Domain, request_id: str) -> None:
    async with domain.ctx.store.reading() as session:
        jobs = (
            (
                await session.execute(
                    sa.select(Job).where(Job.payload["request_id"].as_string() == request_id)
                )
            )
            .scalars()
            .all()
        )
    by_kind = {job.kind: job for job in jobs}
    assert by_kind["grant"].state == "done" and by_kind["grant"].attempts == 2
    assert by_kind["expire"].state == "done" and by_kind["expire"].attempts == 2
    assert sum(1 for job in jobs if job.kind == "expire") == 1
    ready = [j for j in jobs if j.dedupe_key == f"requester:{request_id}:ready:granted"]
    assert len(ready) == 1 and ready[0].state == "done"


async def _is(current: Callable[[], object], status: Status) -> bool:
    return await current() is status  # type: ignore[misc]
