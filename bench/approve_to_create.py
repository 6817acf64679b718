"""Approve → Atlas create: from the approval's commit to the first Atlas call of its grant.

    .venv/bin/python -m bench.approve_to_create [--count 40] [--latency 0.2] [--database sqlite]

One process, as ``gatepass serve`` runs by default: the use cases and the worker share a
context, and the worker is woken by the doorbell the approval rings after its commit. The Atlas
wire fake (with Atlas's token bucket and the given latency) notes when the grant's POST of the
database user arrived; approvals are made one at a time. Goal: median ≤ 50 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from datetime import timedelta

from bench.atlas_rig import INTEGRATION, database, fake_atlas, load, make_rig, percentile
from core.config.schema import parse_config
from core.config.settings import resolve_settings
from core.jobs import handlers
from core.jobs.queue import Bell, Worker
from core.runtime import build_context
from core.use_cases import admin, approvals, requests
from core.use_cases.eligibility import Draft


async def run(args: argparse.Namespace) -> dict[str, object]:
    with database(args.database) as (url, folder):
        async with fake_atlas(latency=args.latency, users=args.count) as atlas:
            rig = make_rig(atlas, url, folder, people=args.count)
            settings = resolve_settings(
                parse_config(rig.data), config_path=str(rig.path), environ=rig.env
            )
            bell = Bell()
            ctx = build_context(settings, doorbell=bell)
            await admin.sync_integration(ctx, INTEGRATION)
            worker = Worker(ctx, handlers.job_kinds(()), poll_interval=1.0, bell=bell)
            stop = asyncio.Event()
            running = asyncio.create_task(worker.run(stop))
            draft = Draft(INTEGRATION, "database", "analytics", "read", timedelta(hours=1), "b")
            delays = []
            for i in range(args.count):
                view = await requests.submit(
                    ctx, requester=f"person{i}@example.com", draft=draft, platform="slack"
                )
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
                delays.append(atlas.calls("POST", "/databaseUsers")[posts].at - committed)
                await asyncio.sleep(0.05)
            stop.set()
            await running
            for integration in ctx.integrations.values():
                await integration.aclose()  # type: ignore[attr-defined]
            await ctx.store.close()
    return {
        "approvals": len(delays),
        "median_ms": 1000 * statistics.median(delays),
        "p90_ms": 1000 * percentile(delays, 0.9),
        "max_ms": 1000 * max(delays),
        "load": load(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--count", type=int, default=40)
    parser.add_argument("--latency", type=float, default=0.0)
    args = parser.parse_args()
    figures = asyncio.run(run(args))
    print(f"approve -> Atlas create, {args.database}, Atlas latency {args.latency * 1000:.0f} ms")
    for key, value in figures.items():
        print(f"  {key}: {value:.1f}" if isinstance(value, float) else f"  {key}: {value}")


if __name__ == "__main__":
    main()
