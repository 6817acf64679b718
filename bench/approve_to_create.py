"""Approve → Atlas create: from the approval's commit to the first Atlas call of its grant.

    .venv/bin/python -m bench.approve_to_create [--count 40] [--latency 0.2] [--database sqlite]
        [--processes one|worker]

``--processes one`` (the default), as ``gatepass serve`` runs by default: the use cases and the
worker share a context, and the worker is woken by the doorbell the approval rings after its
commit. ``--processes worker``: the approvals are made in this process and the jobs run in a
separate ``gatepass worker`` process, woken on PostgreSQL by the ``NOTIFY`` the doorbell sends
(``core.storage.wakeups``); on SQLite it finds the grant at its next poll (1 s). The Atlas wire
fake (with Atlas's token bucket and the given latency) notes when the grant's POST of the
database user arrived; approvals are made one at a time. Goal: median ≤ 50 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import time
from collections.abc import AsyncIterator
from datetime import timedelta

from bench.atlas_rig import INTEGRATION, Rig, database, fake_atlas, load, make_rig, percentile
from core.config.schema import parse_config
from core.config.settings import resolve_settings
from core.context import Context
from core.domain.ports import Doorbell, NoDoorbell
from core.jobs import handlers
from core.jobs.queue import Bell, Worker
from core.runtime import build_context
from core.storage.wakeups import Wakeups
from core.use_cases import admin, approvals, requests
from core.use_cases.eligibility import Draft
from tests.fakes.atlas import FakeAtlas


@contextlib.asynccontextmanager
async def jobs_running(rig: Rig, processes: str) -> AsyncIterator[Context]:
    """The approvals' context, with the worker in this process or in a ``gatepass worker``."""
    settings = resolve_settings(parse_config(rig.data), config_path=str(rig.path), environ=rig.env)
    bell = Bell()
    wakeups = Wakeups.for_database(settings.database_url)
    local: Doorbell = bell if processes == "one" else NoDoorbell()
    ctx = build_context(
        settings, doorbell=wakeups.doorbell(local) if wakeups is not None else local
    )
    await admin.sync_integration(ctx, INTEGRATION)
    stop = asyncio.Event()
    running = None
    if processes == "one":
        worker = Worker(ctx, handlers.job_kinds(()), poll_interval=1.0, bell=bell)
        running = asyncio.create_task(worker.run(stop))
    else:
        await rig.start("worker")
    try:
        yield ctx
    finally:
        stop.set()
        if running is not None:
            await running
        await rig.stop()
        if wakeups is not None:
            await wakeups.aclose()
        for integration in ctx.integrations.values():
            await integration.aclose()  # type: ignore[attr-defined]
        await ctx.store.close()


async def approve_one(ctx: Context, atlas: FakeAtlas, person: str) -> float:
    """Submit and approve one request; seconds from the approval's commit to the POST."""
    draft = Draft(INTEGRATION, "database", "analytics", "read", timedelta(hours=1), "b")
    view = await requests.submit(ctx, requester=person, draft=draft, platform="slack")
    posts = len(atlas.calls("POST", "/databaseUsers"))
    await approvals.decide(
        ctx,
        approver="bob@example.com",
        request_id=view.id,
        outcome="approve",
        reason=None,
        platform="slack",
    )
    committed = time.time()
    while len(atlas.calls("POST", "/databaseUsers")) <= posts:
        await asyncio.sleep(0.001)
    return atlas.calls("POST", "/databaseUsers")[posts].at - committed


async def run(args: argparse.Namespace) -> dict[str, object]:
    with database(args.database) as (url, folder):
        async with fake_atlas(latency=args.latency, users=args.count) as atlas:
            rig = make_rig(atlas, url, folder, people=args.count)
            async with jobs_running(rig, args.processes) as ctx:
                delays = []
                for i in range(args.count):
                    delays.append(await approve_one(ctx, atlas, f"person{i}@example.com"))
                    await asyncio.sleep(0.05)
                figures_load = load()
    return {
        "approvals": len(delays),
        "median_ms": 1000 * statistics.median(delays),
        "p90_ms": 1000 * percentile(delays, 0.9),
        "max_ms": 1000 * max(delays),
        "load": figures_load,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--processes", choices=["one", "worker"], default="one")
    parser.add_argument("--count", type=int, default=40)
    parser.add_argument("--latency", type=float, default=0.0)
    args = parser.parse_args()
    figures = asyncio.run(run(args))
    print(
        f"approve -> Atlas create, {args.database}, processes: {args.processes}, "
        f"Atlas latency {args.latency * 1000:.0f} ms"
    )
    for key, value in figures.items():
        print(f"  {key}: {value:.1f}" if isinstance(value, float) else f"  {key}: {value}")


if __name__ == "__main__":
    main()
