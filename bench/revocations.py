"""Revocation benchmark: one ``gatepass worker`` process against the Atlas wire fake, which
answers with a configurable latency and enforces Atlas's token bucket (10,000 burst, 5,000 a
minute per project: ≈ 83 database-user calls a second).

    .venv/bin/python -m bench.revocations --scenario burst  --count 5000 --latency 0.2
    .venv/bin/python -m bench.revocations --scenario spread --count 2000 --spread 120
    .venv/bin/python -m bench.revocations --database postgres ...

``--processes serve,serve,worker,worker --requests 300 --database postgres``: several
processes (each ``serve`` runs its worker) while requests are submitted and approved.

``burst``: every grant ends in the same second; the figures are the time to drain them, the
share of Atlas's rate budget used, and whether any was revoked twice (goal: 5,000 in ≤ 70 s,
i.e. ≥ 90 % of the budget). ``spread``: ends spread evenly over ``--spread`` seconds; the
figures are the lateness of each revoke (Atlas's DELETE minus the grant's end; goal p99 ≤ 2 s).
The worker's CPU per revoke and the machine's load are printed with them.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.atlas_rig import (
    Rig,
    cpu_seconds,
    database,
    fake_atlas,
    insert_grants,
    load,
    make_rig,
    print_figures,
    quiet_periodic,
)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    with database(args.database) as (url, folder):
        async with fake_atlas(latency=args.latency, users=args.count) as atlas:
            rig = make_rig(atlas, url, folder, tree=args.tree, people=args.count + args.requests)
            ctx = rig.context()
            lead = 8.0 + args.count / 1000  # the worker starts before the first end
            first = datetime.now(UTC) + timedelta(seconds=lead)
            if args.scenario == "burst":
                ends = [first] * args.count
            else:
                ends = [
                    first + timedelta(seconds=args.spread * i / args.count)
                    for i in range(args.count)
                ]
            await insert_grants(rig, ctx.store, ends)
            await quiet_periodic(ctx)
            await ctx.store.close()
            processes = [await rig.start(name, index=i) for i, name in enumerate(args.processes)]
            await asyncio.sleep(max(0.0, first.timestamp() - time.time()))
            cpu_before, began = sum(cpu_seconds(p.process.pid) for p in processes), time.time()
            deadline = began + args.spread + args.timeout
            load_done = asyncio.create_task(request_load(rig, args.count, args.requests))
            while len(rig.removals()) < args.count and time.time() < deadline:
                await asyncio.sleep(0.2)
            cpu = sum(cpu_seconds(p.process.pid) for p in processes) - cpu_before
            granted = await load_done
            await asyncio.sleep(1.0)  # a revoke running twice would show now
            figures = rig.figures(first.timestamp())
            await rig.stop()
    figures["requests_approved_meanwhile"] = granted
    figures["worker_cpu_s"] = cpu
    figures["worker_cpu_ms_per_revoke"] = 1000 * cpu / max(1, figures["revoked"])
    figures["load"] = load()
    return figures


async def request_load(rig: Rig, first: int, count: int) -> int:
    """``count`` requests submitted and approved meanwhile, by a process of the benchmarked
    tree (``bench.load_requests``)."""
    if not count:
        return 0
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.load_requests",
        str(rig.path),
        str(first),
        str(count),
        cwd=rig.folder,
        env=rig.env,
    )
    await process.wait()
    return count if process.returncode == 0 else -1


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--scenario", choices=["burst", "spread"], default="burst")
    parser.add_argument("--count", type=int, default=5000)
    parser.add_argument("--spread", type=float, default=0.0, help="seconds (spread scenario)")
    parser.add_argument("--latency", type=float, default=0.0, help="Atlas's answer time, s")
    parser.add_argument("--timeout", type=float, default=400.0)
    parser.add_argument(
        "--processes",
        type=lambda text: text.split(","),
        default=["worker"],
        help="gatepass commands to run, e.g. serve,serve,worker,worker (serve runs a worker)",
    )
    parser.add_argument(
        "--requests", type=int, default=0, help="requests submitted and approved meanwhile"
    )
    parser.add_argument("--tree", type=Path, default=None, help="run gatepass from this checkout")
    args = parser.parse_args()
    print(f"load before: {load()}")
    figures = asyncio.run(run(args))
    title = (
        f"{args.scenario}: {args.count} grants, spread {args.spread:.0f}s, "
        f"Atlas latency {args.latency * 1000:.0f} ms, {args.database}"
    )
    print_figures(title, figures)


if __name__ == "__main__":
    main()
