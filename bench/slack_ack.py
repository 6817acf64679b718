"""Slack ack latency: the full Gatepass app against a bare bolt app that only acks.

    .venv/bin/python -m bench.slack_ack [--clicks 200] [--rounds 3]

Both run on this machine in this run, served by aiohttp on 127.0.0.1, with the fake Slack Web
API (in the servers' process). Each round (a fresh database) sends ``--clicks`` signed
``block_actions`` at once from a separate load process (Approve clicks on as many pending
requests, by one approver) and times each from the request sent to the response read. The
full app acks and then decides each request (a database transaction) and updates the clicked
message, all in the same process: its post-ack work competes with the next acks,
which is what the figure shows. The bare app's listener only calls ``ack()``.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from cryptography.fernet import Fernet
from slack_bolt.async_app import AsyncAck

from bot.slack import ids
from bot.slack.client import build_bolt_app, mount
from core.storage import migrations
from core.use_cases import requests
from core.use_cases.eligibility import Draft
from tests.fakes.slack import FakeSlack, SlackRequest, block_actions
from tests.slack.harness import PEOPLE, SIGNING_SECRET, Harness, buttons, start_harness

APPROVER = "U0BOB"
BACKLOG = 1024  # both servers: 200 connections at once must not overflow the listen queue
SETTLE = 120.0  # seconds the decisions that follow a burst may take before the next one
DRAFT = Draft("prod-atlas", "database", "analytics", "read", timedelta(hours=1), "bench")


def percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


class _Load:
    """The load process's own event loop and connection pool, kept across rounds so that the
    measured clicks reuse warm keep-alive connections, as Slack's do."""

    loop: asyncio.AbstractEventLoop | None = None
    session: aiohttp.ClientSession | None = None

    @classmethod
    def send_all(
        cls, url: str, signed: list[tuple[bytes, dict[str, str]]], strict: bool
    ) -> list[float]:
        if cls.loop is None:
            cls.loop = asyncio.new_event_loop()
        return cls.loop.run_until_complete(cls._send_all(url, signed, strict))

    @classmethod
    async def _send_all(
        cls, url: str, signed: list[tuple[bytes, dict[str, str]]], strict: bool
    ) -> list[float]:
        if cls.session is None:
            cls.session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
        session = cls.session

        async def one(body: bytes, headers: dict[str, str]) -> float:
            started = time.perf_counter()
            async with session.post(url, data=body, headers=headers) as response:
                await response.read()
                if strict and response.status != 200:
                    raise RuntimeError(f"HTTP {response.status}")
            return (time.perf_counter() - started) * 1000

        return list(await asyncio.gather(*(one(b, h) for b, h in signed)))


def _send_all(url: str, signed: list[tuple[bytes, dict[str, str]]], strict: bool) -> list[float]:
    return _Load.send_all(url, signed, strict)


async def fire(
    load: ProcessPoolExecutor, url: str, clicks: Sequence[SlackRequest], *, strict: bool = True
) -> list[float]:
    """Sign the clicks now and send them all at once from the load process (its own CPU and
    event loop, so the client's work is not counted against the servers)."""
    signed = [(c.body, c.headers(secret=SIGNING_SECRET)) for c in clicks]
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(load, _send_all, url, signed, strict)


def clicks_for(harness: Harness, request_ids: Sequence[str]) -> list[SlackRequest]:
    channel = harness.slack.dm_channel(APPROVER)
    ts_of = {buttons(m).get(ids.APPROVE): m["ts"] for m in harness.dm(APPROVER)}
    return [
        block_actions(
            action_id=ids.APPROVE,
            value=request_id,
            user_id=APPROVER,
            user_name="bob",
            channel_id=channel,
            message_ts=ts_of.get(request_id, "1.0"),
        )
        for request_id in request_ids
    ]


async def pending_requests(harness: Harness, count: int) -> list[str]:
    made = [
        (
            await requests.submit(
                harness.ctx, requester="alice@example.com", draft=DRAFT, platform="slack"
            )
        ).id
        for _ in range(count)
    ]
    await harness.run_jobs()  # the approval DMs, so each click updates a real message
    return made


async def bare_app(slack: FakeSlack) -> tuple[web.AppRunner, str]:
    app = build_bolt_app(
        bot_token=slack.bot_token, signing_secret=SIGNING_SECRET, api_url=slack.api_url
    )

    @app.action(ids.APPROVE)
    async def approve(ack: AsyncAck) -> None:
        await ack()

    web_app = web.Application()
    mount(app, web_app)
    runner = web.AppRunner(web_app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0, backlog=BACKLOG).start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}/slack/events"


def report(name: str, latencies: Sequence[float]) -> dict[str, float]:
    figures = {
        "p50": percentile(latencies, 0.50),
        "p99": percentile(latencies, 0.99),
        "max": max(latencies),
        "mean": statistics.fmean(latencies),
    }
    print(
        f"{name:<10} n={len(latencies):<5} p50={figures['p50']:7.1f} ms  "
        f"p99={figures['p99']:7.1f} ms  max={figures['max']:7.1f} ms"
    )
    return figures


async def one_round(
    slack: FakeSlack,
    load: ProcessPoolExecutor,
    bare_url: str,
    clicks: int,
    folder: Path,
    *,
    bare_first: bool,
    per_round: bool,
) -> tuple[list[float], list[float], int]:
    """A fresh database with ``clicks`` pending requests; the bare app's figures, then the full
    app's, for the same clicks."""
    url = f"sqlite+aiosqlite:///{folder / f'bench-{time.monotonic_ns()}.db'}"
    await migrations.upgrade_async(url)
    harness = await start_harness(slack, url, Fernet.generate_key().decode(), backlog=BACKLOG)
    try:
        warm = await pending_requests(harness, 5)  # bolt's auth.test, the approver's identity
        request_ids = await pending_requests(harness, clicks)
        for url in (harness.url, bare_url):  # warm both servers, open the connections
            warming = [c for _ in range(clicks // len(warm)) for c in clicks_for(harness, warm)]
            await fire(load, url, warming, strict=False)
        await harness.settle(within=SETTLE)
        clicked = clicks_for(harness, request_ids)
        if bare_first:
            bare = await fire(load, bare_url, clicked)
            full = await fire(load, harness.url, clicked)
        else:
            full = await fire(load, harness.url, clicked)
            await harness.settle(
                within=SETTLE
            )  # the decisions run on in this process: let them finish
            bare = await fire(load, bare_url, clicked)
        await harness.settle(within=SETTLE)
        decided = await harness.count("decisions") - len(warm)
        if per_round:
            print("round:", "bare first" if bare_first else "gatepass first")
            report(" bare", bare)
            report(" full", full)
    finally:
        await harness.close()
    return bare, full, decided


async def main(clicks: int, rounds: int, *, per_round: bool = False) -> None:
    folder = Path(tempfile.mkdtemp(prefix="gatepass-slack-bench-"))
    full: list[float] = []
    bare: list[float] = []
    decided = 0
    async with FakeSlack() as slack:
        for user_id, (email, name) in PEOPLE.items():
            slack.add_user(user_id, email=email, real_name=name)
        runner, bare_url = await bare_app(slack)
        try:
            with ProcessPoolExecutor(max_workers=1) as load:
                for number in range(rounds):  # who goes first alternates
                    round_bare, round_full, round_decided = await one_round(
                        slack,
                        load,
                        bare_url,
                        clicks,
                        folder,
                        bare_first=number % 2 == 0,
                        per_round=per_round,
                    )
                    bare += round_bare
                    full += round_full
                    decided += round_decided
        finally:
            await runner.cleanup()
    print(f"{clicks} concurrent signed Approve clicks x {rounds} rounds, same machine, same run")
    bare_figures = report("bare bolt", bare)
    full_figures = report("gatepass", full)
    print(
        f"ratio      p50 x{full_figures['p50'] / bare_figures['p50']:.2f}  "
        f"p99 x{full_figures['p99'] / bare_figures['p99']:.2f}  "
        f"(requests approved after the acks: {decided} of {clicks * rounds})"
    )


def _arguments() -> Any:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--clicks", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--per-round", action="store_true", help="print each round's figures")
    return parser.parse_args()


if __name__ == "__main__":
    arguments = _arguments()
    asyncio.run(main(arguments.clicks, arguments.rounds, per_round=arguments.per_round))
