"""`gatepass worker` stopped by SIGTERM while it is talking to Slack: it finishes the notice jobs
in hand, then the Home-tab refreshes those notices started, and only then exits (cleanly)."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
import yaml

from core.config.schema import parse_config
from core.config.settings import resolve_settings
from core.runtime import build_context
from core.storage import resources
from core.use_cases import requests
from core.use_cases.eligibility import Draft
from tests.fakes.slack import FakeSlack
from tests.slack.harness import SIGNING_SECRET
from tests.support.domain import RESOURCES
from tests.support.memory_integration import MemoryIntegration
from tests.system.test_atlas_through_core import config

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow
SLOW = 1.5  # seconds Slack takes to answer a message and a Home tab


async def until(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


def worker_config(tmp_path: Path, slack: FakeSlack, database_url: str) -> Path:
    data = config("http://127.0.0.1:9", database_url)  # Atlas is left out: no secret
    data["slack"] = {
        "bot_token": "env:SLACK_BOT_TOKEN",
        "signing_secret": "env:SLACK_SIGNING_SECRET",
        "api_url": slack.api_url,
    }
    data["jobs"] = {"poll_interval": "1s"}
    path = tmp_path / "gatepass.yml"
    path.write_text(yaml.safe_dump(data))
    return path


def worker_env(slack: FakeSlack, encryption_key: str) -> dict[str, str]:
    mine = ("SLACK_", "ATLAS_", "GATEPASS_")
    return {k: v for k, v in os.environ.items() if not k.startswith(mine)} | {
        "GATEPASS_KEY": encryption_key,
        "SLACK_BOT_TOKEN": slack.bot_token,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "PYTHONPATH": str(ROOT),
    }


async def submit_request(path: Path, env: dict[str, str]) -> None:
    """Alice asks, through a context of her own on the same database; Carol approves."""
    data = yaml.safe_load(path.read_text())
    settings = resolve_settings(parse_config(data), config_path=str(path), environ=env)
    ctx = build_context(settings, integrations={"prod-atlas": MemoryIntegration("prod-atlas")})
    try:
        async with ctx.store.transaction() as session:
            await resources.replace_discovered(session, "prod-atlas", RESOURCES, at=ctx.clock.now())
        draft = Draft("prod-atlas", "database", "analytics", "read", timedelta(hours=1), "report")
        view = await requests.submit(
            ctx, requester="alice@example.com", draft=draft, platform="slack"
        )
        assert [a.email for a in view.approvers] == ["carol@example.com"]
    finally:
        await ctx.store.close()


async def test_sigterm_drains_jobs_and_home_refreshes_in_flight(
    tmp_path: Path, sqlite_url: str, encryption_key: str
) -> None:
    async with FakeSlack() as slack:
        slack.add_user("U0ALICE", email="alice@example.com", real_name="Alice Doe")
        slack.add_user("U0CAROL", email="carol@example.com", real_name="Carol Lin")
        slack.slow_down("chat.postMessage", SLOW)
        slack.slow_down("views.publish", SLOW)
        path = worker_config(tmp_path, slack, sqlite_url)
        env = worker_env(slack, encryption_key)
        worker = await asyncio.create_subprocess_exec(
            sys.executable,
            *("-m", "bot.cli", "worker", "--config", str(path)),
            cwd=tmp_path,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        try:
            await submit_request(path, env)
            await until(lambda: any(m == "chat.postMessage" for m, _ in slack.arrived))
            worker.send_signal(signal.SIGTERM)
            output, _ = await asyncio.wait_for(worker.communicate(), timeout=30)
        finally:
            if worker.returncode is None:
                worker.kill()
    text = output.decode()
    assert worker.returncode == 0, text
    posted = {call["channel"] for call in slack.calls_to("chat.postMessage")}
    assert posted == {"U0CAROL", "U0ALICE"}, text  # the ask and the receipt: jobs in hand
    published = {call["user_id"] for call in slack.calls_to("views.publish")}
    assert published == {"U0CAROL", "U0ALICE"}, text  # the refreshes they started, too
    assert slack.abandoned == [], text  # and the worker waited for every answer
    assert "finishing" in text and "job(s) in hand" in text
    assert "slack: letting" in text and "in flight finish" in text
