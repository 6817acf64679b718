"""The Slack side of ``bench.revocations --through slack``: the fake Slack Web API every
``gatepass`` process talks to, the people it knows, and the load process playing them.

The fake runs in the benchmark's process (with the fake Atlas and ``bench.slack_watch``). The
driver prints that process's CPU share (``bench_process_cpu_share``): near 1.0 it would be
saturated, its answers late, and the ack figures polluted by it rather than by Gatepass.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from bench.atlas_rig import INTEGRATION, Rig, percentile
from bench.slack_watch import SIGNING_SECRET, SlackWatch, add_people
from tests.fakes.slack import FakeSlack

SLACK_GIVES_UP_MS = 3000.0  # Slack shows the person an error when the ack takes longer


@asynccontextmanager
async def slack_side(rig: Rig, args: argparse.Namespace) -> AsyncIterator[SlackWatch | None]:
    """With ``--through slack``: the fake Slack and its watch, and every process's config
    pointing at it. Otherwise nothing."""
    if args.through != "slack":
        yield None
        return
    if "serve" not in args.processes:
        raise SystemExit("--through slack needs a serve process to send Slack's requests to")
    async with FakeSlack() as slack:
        add_people(slack, 0, args.count + args.requests)  # the ends' owners: their DMs
        rig.use_slack(slack.api_url, bot_token=slack.bot_token, signing_secret=SIGNING_SECRET)
        watch = await SlackWatch(slack).start()
        try:
            yield watch
            errors = Counter(
                f"{c.method} {c.response.get('error')}" for c in slack.calls if not c.ok
            )
            print(f"Slack Web API calls: {len(slack.calls)}, failed: {dict(errors)}")
        finally:
            await watch.close()


async def discover(rig: Rig) -> None:
    """``gatepass sync``: the fake Atlas's databases, so that the request modal offers them."""
    command = [sys.executable, "-m", "bot.cli", "sync", "--integration", INTEGRATION]
    await asyncio.to_thread(
        subprocess.run,
        [*command, "--config", str(rig.path)],
        cwd=rig.folder,
        env=rig.env,
        check=True,
        capture_output=True,
    )


async def slack_load(rig: Rig, watch: SlackWatch, args: argparse.Namespace) -> dict[str, Any]:
    """``bench.slack_load`` in a process of its own; its figures, summed up."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.slack_load",
        watch.url,
        ",".join(rig.serve_urls),
        str(args.count),
        str(args.requests),
        str(args.concurrency),
        cwd=rig.folder,
        env=rig.env,
        stdout=asyncio.subprocess.PIPE,
    )
    out, _ = await process.communicate()
    if process.returncode != 0:
        return {"slack_load_failed": process.returncode}
    return summary(json.loads(out.decode().strip().splitlines()[-1]))


def summary(result: dict[str, Any]) -> dict[str, Any]:
    """Ack latency p50/p99/max by kind of interaction, and how many took over 3 s."""
    figures: dict[str, Any] = {}
    every: list[float] = []
    for kind, latencies in sorted(result["latencies_ms"].items()):
        every += latencies
        figures[f"ack_{kind}_ms"] = (
            f"n={len(latencies)} p50={percentile(latencies, 0.5):.0f} "
            f"p99={percentile(latencies, 0.99):.0f} max={max(latencies):.0f}"
        )
    figures["ack_all_ms"] = (
        f"n={len(every)} p50={percentile(every, 0.5):.0f} "
        f"p99={percentile(every, 0.99):.0f} max={max(every, default=float('nan')):.0f}"
    )
    figures["acks_over_3s"] = sum(1 for ms in every if ms > SLACK_GIVES_UP_MS)
    figures["approved"] = result["approved"]
    figures["people_failed"] = result["failures"]
    figures["slack_load_cpu_s"] = result["cpu_s"]
    figures["slack_load_wall_s"] = result["wall_s"]
    return figures
