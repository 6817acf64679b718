"""Revocation benchmark: one ``gatepass worker`` process against the Atlas wire fake, which
answers with a configurable latency and enforces Atlas's token bucket (10,000 burst, 5,000 a
minute per project: ≈ 83 database-user calls a second).

    .venv/bin/python -m bench.revocations --scenario burst  --count 5000 --latency 0.2
    .venv/bin/python -m bench.revocations --scenario spread --count 2000 --spread 120
    .venv/bin/python -m bench.revocations --database postgres ...

``--processes serve,serve,worker,worker --requests 300 --database postgres``: several
processes (each ``serve`` runs its worker) while requests are submitted and approved by a
process calling the use cases (``bench.load_requests``). With ``--through slack`` the requests
go through Slack instead: every process's Slack Web API is a fake in this process
(``bench.slack_rig``), and ``bench.slack_load`` plays ``--concurrency`` people at a time, each
opening the request modal, filling it, submitting it, and the approver's Approve click, as
signed HTTP requests sent round-robin to the ``serve`` processes. The figures add the ack
latencies by kind of interaction, the acks over 3 s (goal 0), the grants that reached Atlas,
each process's CPU, the PostgreSQL backends' CPU, and this process's CPU share and event-loop
lag (the fakes answer from it: were it saturated, the figures would be the fakes'). The full
run, on a quiet machine (goals: revoke lateness max ≤ 3 s, no ack over 3 s); the ends are
spread over about as long as the 1,000 people take, so that revokes run during all of it:

    .venv/bin/python -m bench.revocations --database postgres --scenario spread \
        --count 3000 --spread 300 --processes serve,serve,worker,worker \
        --through slack --requests 1000 --concurrency 20 --timeout 400

``burst``: every grant ends in the same second; the figures are the time to drain them, the
share of Atlas's rate budget used, and whether any was revoked twice (goal: 5,000 in ≤ 70 s,
i.e. ≥ 90 % of the budget). ``spread``: ends spread evenly over ``--spread`` seconds; the
figures are the lateness of each revoke (Atlas's DELETE minus the grant's end; goal p99 ≤ 2 s).
The worker's CPU per revoke and the machine's load are printed with them.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

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
from bench.loop_lag import LoopLag
from bench.postgres_cpu import PostgresCpu
from bench.slack_rig import discover, slack_load, slack_side
from bench.slack_watch import SlackWatch
from tests.support.gatepass_process import GatepassProcess


async def run(args: argparse.Namespace) -> dict[str, Any]:
    async with contextlib.AsyncExitStack() as stack:
        url, folder = stack.enter_context(database(args.database))
        atlas = await stack.enter_async_context(fake_atlas(latency=args.latency, users=args.count))
        rig = make_rig(atlas, url, folder, tree=args.tree, people=args.count + args.requests)
        watch = await stack.enter_async_context(slack_side(rig, args))
        ctx = rig.context()
        await quiet_periodic(ctx)
        if args.through == "slack":  # the modal offers discovered resources only
            await discover(rig)
        processes = [await rig.start(name, index=i) for i, name in enumerate(args.processes)]
        first = await insert_ends(rig, ctx, args)
        await ctx.store.close()
        await asyncio.sleep(max(0.0, first.timestamp() - time.time()))
        postgres = PostgresCpu(make_url(url).database or "")
        figures = await measure(rig, processes, postgres, watch, args)
        figures.update(rig.figures(first.timestamp()))
        await rig.stop()
        if args.logs:
            keep_logs(processes, args.logs)
    figures["load"] = load()
    return figures


async def measure(
    rig: Rig,
    processes: list[GatepassProcess],
    postgres: PostgresCpu,
    watch: SlackWatch | None,
    args: argparse.Namespace,
) -> dict[str, Any]:
    """From the first end: the load meanwhile, until every grant ended was revoked and every
    request approved reached Atlas; the CPU each process spent in that time."""
    cpu_before, began = [cpu_seconds(p.process.pid) for p in processes], time.time()
    own_before, lag = cpu_seconds(os.getpid()), LoopLag()
    postgres.start()
    lag.start()
    deadline = began + args.spread + args.timeout
    if watch is None:
        load_done = asyncio.create_task(request_load(rig, args.count, args.requests))
    else:
        load_done = asyncio.create_task(slack_load(rig, watch, args))
    while len(rig.removals()) < args.count and time.time() < deadline:
        await asyncio.sleep(0.2)
    figures = await load_done
    approved = figures.get("approved", figures.get("requests_approved_meanwhile", 0))
    while rig.granted() < approved and time.time() < deadline:
        await asyncio.sleep(0.2)
    await asyncio.sleep(1.0)  # a revoke running twice would show now
    cpu = [cpu_seconds(p.process.pid) - b for p, b in zip(processes, cpu_before, strict=True)]
    wall = time.time() - began
    figures["granted"] = rig.granted()
    figures.update(postgres.stop())
    figures.update(lag.stop())
    figures["bench_process_cpu_share"] = (cpu_seconds(os.getpid()) - own_before) / wall
    figures["measured_s"] = wall
    names = [f"{p.command}#{i}" for i, p in enumerate(processes)]
    figures["process_cpu_s"] = {n: round(s, 2) for n, s in zip(names, cpu, strict=True)}
    figures["worker_cpu_s"] = sum(cpu)
    figures["worker_cpu_ms_per_revoke"] = 1000 * sum(cpu) / max(1, args.count)
    return figures


async def insert_ends(rig: Rig, ctx: Any, args: argparse.Namespace) -> datetime:
    """The grants ending (``--scenario``), inserted once the processes run; the first end."""
    lead = 3.0 + args.count / 500  # the inserts are done before the first end
    first = datetime.now(UTC) + timedelta(seconds=lead)
    if args.scenario == "burst":
        ends = [first] * args.count
    else:
        ends = [first + timedelta(seconds=args.spread * i / args.count) for i in range(args.count)]
    await insert_grants(rig, ctx.store, ends)
    return first


def keep_logs(processes: list[GatepassProcess], folder: Path) -> None:
    """Each process's output in ``folder`` (the run's own folder is deleted at the end)."""
    folder.mkdir(parents=True, exist_ok=True)
    for index, process in enumerate(processes):
        (folder / f"{process.command}-{index}.log").write_text(process.output)
    print(f"process logs kept in {folder}")


async def request_load(rig: Rig, first: int, count: int) -> dict[str, Any]:
    """``count`` requests submitted and approved meanwhile, by a process of the benchmarked
    tree (``bench.load_requests``)."""
    if not count:
        return {"requests_approved_meanwhile": 0}
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
    return {"requests_approved_meanwhile": count if process.returncode == 0 else -1}


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
    parser.add_argument(
        "--through",
        choices=["core", "slack"],
        default="core",
        help="core: the load calls the use cases; slack: signed Slack requests to each serve",
    )
    parser.add_argument("--concurrency", type=int, default=20, help="people at a time (slack)")
    parser.add_argument("--logs", type=Path, default=None, help="keep each process's output here")
    parser.add_argument("--tree", type=Path, default=None, help="run gatepass from this checkout")
    args = parser.parse_args()
    print(f"load before: {load()}")
    figures = asyncio.run(run(args))
    title = (
        f"{args.scenario}: {args.count} grants, spread {args.spread:.0f}s, "
        f"Atlas latency {args.latency * 1000:.0f} ms, {args.database}, "
        f"{args.requests} requests through {args.through} by {','.join(args.processes)}"
    )
    print_figures(title, figures)


if __name__ == "__main__":
    main()
