"""Teams Action.Execute latency: the full Gatepass app against a bare botbuilder bot.

    .venv/bin/python -m bench.teams_invoke [--invokes 200] [--rounds 3]

Both run on this machine in this run, behind the same ``TeamsEndpoint`` plumbing (real JWT
validation against the fake OpenID server's keys, botbuilder's CloudAdapter), served by aiohttp
on 127.0.0.1. Each round sends ``--invokes`` ``adaptiveCard/action`` invokes at once, each with
its own freshly minted valid token, and times each from the first byte sent to the invoke
response read:

- ``approve``: Approve on as many pending requests, by one approver. Gatepass checks each by
  reading, answers with the card, then decides it (a database transaction, SQLite) and
  replaces the card through the Bot Connector fake; the next round waits for those.
- ``refresh``: the approval card's user-specific refresh on those requests (reads only).

The bare bot's ``on_adaptive_card_invoke`` answers every invoke with a fixed card.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import sqlalchemy as sa
from aiohttp import web
from botbuilder.core import ActivityHandler, TurnContext
from botbuilder.schema import AdaptiveCardInvokeResponse, AdaptiveCardInvokeValue
from cryptography.fernet import Fernet

from bot.teams.endpoint import TeamsEndpoint, card_response
from bot.teams.install import install
from bot.teams.late import ANSWER_WITHIN
from core.storage import migrations
from core.use_cases import requests
from core.use_cases.eligibility import Draft
from tests.fakes.teams import (
    APP_ID,
    APP_PASSWORD,
    FakeBotConnector,
    FakeOpenIdServer,
    FakeTokenEndpoint,
)
from tests.fakes.teams_channel import FakeTeamsChannel
from tests.support.clock import ManualClock
from tests.support.memory_integration import MemoryIntegration
from tests.teams.harness import ALICE, BOB, MEMBERS, TeamsHarness, start_gatepass, teams_settings

DRAFT = Draft("prod-atlas", "database", "analytics", "read", timedelta(hours=1), "bench")
Invoke = tuple[dict[str, Any], str]  # (activity, token)


class BareBot(ActivityHandler):
    async def on_adaptive_card_invoke(
        self, turn_context: TurnContext, invoke_value: AdaptiveCardInvokeValue
    ) -> AdaptiveCardInvokeResponse:
        return card_response(
            {
                "type": "AdaptiveCard",
                "version": "1.5",
                "body": [{"type": "TextBlock", "text": "done"}],
            }
        )


def percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


async def fire(session: aiohttp.ClientSession, url: str, invokes: Sequence[Invoke]) -> list[float]:
    """Send every invoke at once; the latency of each in milliseconds."""

    async def one(activity: dict[str, Any], token: str) -> float:
        headers = {"Authorization": f"Bearer {token}"}
        started = time.perf_counter()
        async with session.post(url, json=activity, headers=headers) as response:
            body = await response.json()
        elapsed = (time.perf_counter() - started) * 1000
        assert response.status == 200 and body["statusCode"] == 200, (response.status, body)
        return elapsed

    return list(await asyncio.gather(*(one(a, t) for a, t in invokes)))


def invokes(channel: FakeTeamsChannel, verb: str, request_ids: Sequence[str]) -> list[Invoke]:
    """The invokes with their tokens, minted before the clock starts."""
    return [
        (channel.card_action(verb=verb, data={"request": rid}, user=BOB), channel.token())
        for rid in request_ids
    ]


async def pending_requests(teams: TeamsHarness, count: int) -> list[str]:
    made = [
        (
            await requests.submit(
                teams.ctx, requester="alice@example.com", draft=DRAFT, platform="teams"
            )
        ).id
        for _ in range(count)
    ]
    await teams.run_jobs()  # the approval cards, so each decision has copies to update later
    return made


async def bare_bot(
    openid: FakeOpenIdServer, tokens: FakeTokenEndpoint
) -> tuple[web.AppRunner, str]:
    endpoint = TeamsEndpoint.authenticated(
        app_id=APP_ID,
        app_password=APP_PASSWORD,
        token_url=tokens.token_url(),
        openid_metadata_url=openid.metadata_url,
        bot=BareBot(),
    )
    app = web.Application()
    endpoint.add_routes(app)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}/api/messages"


def report(name: str, latencies: Sequence[float]) -> dict[str, float]:
    figures = {
        "p50": percentile(latencies, 0.50),
        "p99": percentile(latencies, 0.99),
        "max": max(latencies),
        "mean": statistics.fmean(latencies),
    }
    print(
        f"{name:<18} n={len(latencies):<5} p50={figures['p50']:7.1f} ms  "
        f"p99={figures['p99']:7.1f} ms  max={figures['max']:7.1f} ms"
    )
    return figures


def ratio(name: str, full: dict[str, float], bare: dict[str, float]) -> None:
    p50, p99 = full["p50"] / bare["p50"], full["p99"] / bare["p99"]
    print(f"ratio {name:<12} p50 x{p50:.2f}  p99 x{p99:.2f}")


async def main(count: int, rounds: int) -> None:
    folder = Path(tempfile.mkdtemp(prefix="gatepass-teams-bench-"))
    url = f"sqlite+aiosqlite:///{folder / 'bench.db'}"
    await migrations.upgrade_async(url)
    with FakeOpenIdServer() as openid, FakeTokenEndpoint() as tokens:
        async with FakeBotConnector(tokens=tokens) as connector:
            for member in MEMBERS:
                connector.add_member(member)
            settings = teams_settings(
                database_url=url,
                encryption_key=Fernet.generate_key().decode(),
                openid=openid,
                tokens=tokens,
            )
            clock, atlas = ManualClock(), MemoryIntegration("prod-atlas")
            gatepass, runner, base_url = await start_gatepass(
                settings, clock=clock, atlas=atlas, platforms=[install]
            )
            channel = FakeTeamsChannel(openid=openid, connector=connector)
            teams = TeamsHarness(gatepass, clock, atlas, connector, channel, base_url)
            teams.late.within = ANSWER_WITHIN  # as in production, not as in the tests
            bare_runner, bare_url = await bare_bot(openid, tokens)
            results: dict[str, list[float]] = {"bare": [], "approve": [], "refresh": []}
            try:
                for member in (ALICE, BOB):
                    await teams.install(member)
                async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
                    warm = await pending_requests(teams, 5)  # keys, token, first renders
                    await fire(http, teams.url, invokes(channel, "approval.refresh", warm))
                    await fire(http, bare_url, invokes(channel, "approval.refresh", warm))
                    for _ in range(rounds):
                        request_ids = await pending_requests(teams, count)
                        results["bare"] += await fire(
                            http, bare_url, invokes(channel, "approval.approve", request_ids)
                        )
                        results["refresh"] += await fire(
                            http, teams.url, invokes(channel, "approval.refresh", request_ids)
                        )
                        results["approve"] += await fire(
                            http, teams.url, invokes(channel, "approval.approve", request_ids)
                        )
                        await teams.settle()  # the decisions recorded after their answers
                async with gatepass.ctx.store.reading() as session:
                    decided = (
                        await session.execute(sa.text("SELECT COUNT(*) FROM decisions"))
                    ).scalar_one()
            finally:
                await bare_runner.cleanup()
                await runner.cleanup()
    print(f"{count} concurrent Action.Execute invokes x {rounds} rounds, valid tokens, one machine")
    bare = report("bare botbuilder", results["bare"])
    refresh = report("gatepass refresh", results["refresh"])
    approve = report("gatepass approve", results["approve"])
    ratio("refresh", refresh, bare)
    ratio("approve", approve, bare)
    print(f"decisions recorded: {decided} of {count * rounds}")


def _arguments() -> Any:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--invokes", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    return parser.parse_args()


if __name__ == "__main__":
    arguments = _arguments()
    asyncio.run(main(arguments.invokes, arguments.rounds))
