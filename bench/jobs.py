"""Job queue benchmark: how late revocations run, how fast, and whether any runs twice.

    .venv/bin/python -m bench.jobs --database sqlite
    .venv/bin/python -m bench.jobs --database postgres [--workers 2]

1. ``--grants`` active grants (default 10,000) whose expiries are spread over ``--spread``
   seconds, then ``--burst`` more (default 5,000) expiring in the same second. The real worker
   revokes them through an instant in-memory integration; the figures are the lateness of each
   revoke call (call time minus the grant's end), throughput, and duplicate revokes.
   It also counts, per revoke, the SQL statements, the transactions and the CPU the whole
   process spent (the notices each end queues included). With ``--chat slack`` the notices
   talk to the fake Slack Web API (its own process, on loopback; ``bench.chat_rig``): each
   grant has a receipt and an owner's approval copy posted, and the figures include the
   notices' work and the Slack calls per revoke (use fewer grants: e.g. 500 and 500).
2. The cost of one claim with 1,000 and with ``--claim-rows`` (default 1,000,000) jobs queued
   for later, as a ratio (the due-job index should keep it flat).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from cryptography.fernet import Fernet

from bench import chat_rig
from bench.job_counts import Counts, jobs_retried, stored_counts
from core.config.schema import parse_config
from core.config.secrets import SecretValue
from core.context import Context
from core.domain.directory import ConfigDirectory
from core.domain.ports import AccessGrant, AccountState, RevokeResult, SystemClock
from core.jobs.handlers import job_kinds
from core.jobs.queue import Bell, Worker
from core.storage import migrations
from core.storage.models import AccessRequest, Grant, Job
from core.storage.store import Store
from core.storage.vault import Vault

CONFIG = {
    "integrations": [
        {
            "name": "bench",
            "type": "mongodb-atlas",
            "project_id": "64b0c0ffee0123456789abcd",
            "cluster_name": "Cluster0",
            "secret": "env:UNUSED",
            "integration_owners": [{"attribute": "group", "value": "dba"}],
        }
    ],
}


class RevokeClock:
    """An instant integration that notes when each grant's revoke was called."""

    name = "bench"

    def __init__(self) -> None:
        self.calls: list[tuple[str, float]] = []

    async def revoke(
        self, grant: AccessGrant, *, remaining: Sequence[AccessGrant], account: AccountState | None
    ) -> RevokeResult:
        self.calls.append((grant.grant_id, time.time()))
        return RevokeResult(account=None)

    def __getattr__(self, name: str) -> Any:
        raise AttributeError(name)


def database_url(kind: str, folder: Path) -> tuple[str, Any]:
    if kind == "sqlite":
        return f"sqlite+aiosqlite:///{folder / 'bench.db'}", None
    from tests.support import databases

    url = databases.create_database()
    return url, lambda: databases.drop_database(url)


def context(
    url: str, integration: RevokeClock, *, store: Store | None = None, people: int = 0
) -> Context:
    """One replica's context; its worker listens to its doorbell (``people``: a directory)."""
    config = parse_config({**CONFIG, "directory": chat_rig.directory(people)} if people else CONFIG)
    return Context(
        config=config,
        directory=ConfigDirectory(config.directory),
        store=store or Store.from_url(url),
        clock=SystemClock(),
        vault=Vault(SecretValue(Fernet.generate_key().decode())),
        integrations={"bench": integration},  # type: ignore[dict-item]
        doorbell=Bell(),
    )


def grant_rows(
    index: int, ends_at: datetime, now: datetime
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    request_id = f"B{index:09d}"
    person = f"person{index}@example.com"
    request = {
        "id": request_id,
        "flow": "bench",
        "integration": "bench",
        "resource_type": "database",
        "resource_name": "analytics",
        "resource_external_id": None,
        "permission": "read",
        "duration_seconds": 3600,
        "justification": "bench",
        "requester": person,
        "platform": "slack",
        "status": "active",
        "approvals_required": 1,
        "created_at": now,
        "starts_at": now,
        "ends_at": ends_at,
    }
    grant = {
        "request_id": request_id,
        "integration": "bench",
        "person": person,
        "username": f"gp-{index}",
        "connection": {},
        "ready": True,
    }
    job = {
        "kind": "expire",
        "payload": {"request_id": request_id},
        "dedupe_key": f"expire:{request_id}",
        "state": "queued",
        "run_at": ends_at,
        "attempts": 0,
        "max_attempts": 8,
        "created_at": now,
    }
    return request, grant, job


async def insert_grants(store: Store, ends: list[datetime]) -> None:
    now = datetime.now(UTC)
    for start in range(0, len(ends), 2000):
        rows = [grant_rows(start + i, end, now) for i, end in enumerate(ends[start : start + 2000])]
        async with store.transaction() as session:
            await session.execute(sa.insert(AccessRequest), [r for r, _, _ in rows])
            await session.execute(sa.insert(Grant), [g for _, g, _ in rows])
            await session.execute(sa.insert(Job), [j for _, _, j in rows])


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def revoke_run(
    url: str, *, grants: int, burst: int, spread: float, workers: int, chat: str = "none"
) -> dict[str, Any]:
    integration = RevokeClock()
    total = grants + burst
    people = total if chat == "slack" else 0
    ctx = context(url, integration, people=people)
    lead = 3.0 + total / 20000 + (total / 200 if people else 0)  # time to insert and seed
    t0 = datetime.now(UTC) + timedelta(seconds=lead)
    ends = [t0 + timedelta(seconds=spread * i / max(1, grants)) for i in range(grants)]
    burst_at = t0 + timedelta(seconds=spread + 2)
    ends += [burst_at] * burst
    await insert_grants(ctx.store, ends)
    pools = [ctx] + [context(url, integration, people=people) for _ in range(workers - 1)]
    slack = await chat_rig.SlackRig(people).start() if people else None
    if slack is not None:
        await slack.seed(ctx.store, [f"B{i:09d}" for i in range(total)])
    before = await slack.calls() if slack is not None else {}
    counts = Counts()
    for c in pools:
        counts.watch(c.store)
    runners = [
        Worker(c, job_kinds([slack.notifier(c)] if slack else ()), poll_interval=0.05)
        for c in pools
    ]
    stop = asyncio.Event()
    tasks = [asyncio.create_task(r.run(stop)) for r in runners]
    cpu = time.process_time()
    await until_done(ctx.store, integration, total)
    if slack is not None:
        await slack.drain()
    stop.set()
    await asyncio.gather(*tasks)
    cpu = time.process_time() - cpu
    figures = lateness_figures(integration, ends, burst_at)
    revoked = max(1, int(figures["revoked"]))
    figures["expired_in_db"], figures["jobs_still_queued_at_the_end"] = await stored_counts(
        ctx.store
    )
    figures["statements_per_revoke"] = counts.statements / revoked
    figures["transactions_per_revoke"] = counts.transactions / revoked
    figures["cpu_ms_per_revoke"] = 1000 * cpu / revoked
    for table, count in counts.by_table.most_common(8):
        figures[f"statements_on_{table}_per_revoke"] = count / revoked
    if slack is not None:
        after = await slack.calls()
        for method in sorted(after):
            figures[f"slack_{method}_per_revoke"] = (
                after[method] - before.get(method, 0)
            ) / revoked
        figures["slack_calls_per_revoke"] = (
            sum(after.values()) - sum(before.values()) - after["repeated chat.update"]
        ) / revoked
        figures["jobs_run_more_than_once"] = await jobs_retried(ctx.store)
        await slack.close()
    figures["load"] = os.getloadavg()
    for c in pools:
        await c.store.close()
    return figures


async def until_done(store: Store, integration: RevokeClock, total: int) -> None:
    """Every grant revoked and every job it queued run (half an hour at most)."""
    started = time.time()
    while len({g for g, _ in integration.calls}) < total and time.time() - started < 1800:
        await asyncio.sleep(0.2)
    await asyncio.sleep(1.0)  # the notices the last ends queued
    while (await stored_counts(store))[1] and time.time() - started < 1800:
        await asyncio.sleep(0.2)


def lateness_figures(
    integration: RevokeClock, ends: list[datetime], burst_at: datetime
) -> dict[str, Any]:
    end_of = dict(zip((f"B{i:09d}" for i in range(len(ends))), ends, strict=True))
    lateness = [called - end_of[g].timestamp() for g, called in integration.calls]
    burst_calls = [called for g, called in integration.calls if end_of[g] == burst_at]
    counts_by_grant = Counter(g for g, _ in integration.calls)
    return {
        "revoked": len(counts_by_grant),
        "duplicates": sum(c - 1 for c in counts_by_grant.values()),
        "lateness_p50_s": statistics.median(lateness),
        "lateness_p99_s": percentile(lateness, 0.99),
        "burst_lateness_p50_s": statistics.median([c - burst_at.timestamp() for c in burst_calls]),
        "burst_lateness_p99_s": percentile([c - burst_at.timestamp() for c in burst_calls], 0.99),
        "burst_throughput_per_s": len(burst_calls)
        / max(1e-9, max(burst_calls) - burst_at.timestamp()),
    }


async def claim_cost(url: str, queued: int, *, samples: int = 200) -> float:
    """Median seconds of one claim (a due job exists) with ``queued`` jobs waiting for later."""
    store = Store.from_url(url)
    async with store.transaction() as session:
        await session.execute(sa.delete(Job))
    far = datetime.now(UTC) + timedelta(days=30)
    now = datetime.now(UTC)
    for start in range(0, queued, 20000):
        rows = [
            {
                "kind": "later",
                "payload": {},
                "dedupe_key": f"later:{i}",
                "state": "queued",
                "run_at": far + timedelta(seconds=i),
                "attempts": 0,
                "max_attempts": 8,
                "created_at": now,
            }
            for i in range(start, min(queued, start + 20000))
        ]
        async with store.transaction() as session:
            await session.execute(sa.insert(Job), rows)
    if store.engine.dialect.name == "postgresql":
        async with store.engine.connect() as connection:
            await connection.execute(sa.text("COMMIT"))
            await connection.execute(sa.text("ANALYZE jobs"))
    ctx = context(url, RevokeClock(), store=store)
    worker = Worker(ctx, {}, batch=1)
    timings = []
    for i in range(samples):
        async with store.transaction() as session:
            session.add(
                Job(
                    kind="due",
                    payload={},
                    dedupe_key=f"due:{queued}:{i}",
                    run_at=now - timedelta(seconds=1),
                    created_at=now,
                )
            )
        began = time.perf_counter()
        claimed = await worker.claim(1)
        timings.append(time.perf_counter() - began)
        assert claimed and claimed[0].kind == "due"
        async with store.transaction() as session:
            await session.execute(
                sa.update(Job).where(Job.id == claimed[0].id).values(state="done")
            )
    await store.close()
    return statistics.median(timings)


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--grants", type=int, default=10_000)
    parser.add_argument("--burst", type=int, default=5_000)
    parser.add_argument(
        "--spread", type=float, default=20.0, help="seconds over which the first grants expire"
    )
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--claim-rows", type=int, default=1_000_000)
    parser.add_argument(
        "--chat", choices=["none", "slack"], default="none", help="the platform notices go to"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url, drop = database_url(args.database, Path(folder))
        try:
            await migrations.upgrade_async(url)
            print(f"database: {args.database}, workers: {args.workers}, chat: {args.chat}")
            figures = await revoke_run(
                url,
                grants=args.grants,
                burst=args.burst,
                spread=args.spread,
                workers=args.workers,
                chat=args.chat,
            )
            for key, value in figures.items():
                print(f"  {key}: {value:.3f}" if isinstance(value, float) else f"  {key}: {value}")
            small = await claim_cost(url, 1_000)
            large = await claim_cost(url, args.claim_rows)
            print(f"  claim_at_1k_ms: {small * 1000:.3f}")
            print(f"  claim_at_{args.claim_rows // 1000}k_ms: {large * 1000:.3f}")
            print(f"  claim_cost_ratio: {large / small:.2f}")
        finally:
            if drop:
                drop()


if __name__ == "__main__":
    asyncio.run(main())
