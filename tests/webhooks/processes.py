"""A config file and environment for ``gatepass`` processes that send webhooks to a receiver on
loopback, and a context of the test's own on the same database (it asks and reads)."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml

from core.config.schema import parse_config
from core.config.settings import resolve_settings
from core.context import Context
from core.runtime import build_context
from core.storage import resources
from core.use_cases import requests
from core.use_cases.eligibility import Draft
from tests.support.domain import RESOURCES
from tests.support.gatepass_process import ROOT
from tests.support.memory_integration import MemoryIntegration
from tests.system.test_atlas_through_core import config
from tests.webhooks.conftest import SECRET, webhook


@dataclass
class Setup:
    path: Path
    env: dict[str, str]
    ctx: Context

    async def cli(self, *args: str) -> tuple[int, str, str]:
        """``gatepass <args> --config <path>`` in a process of its own."""
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            *("-m", "bot.cli", *args, "--config", str(self.path)),
            cwd=self.path.parent,
            env=self.env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(process.communicate(), timeout=60)
        assert process.returncode is not None
        return process.returncode, out.decode(), err.decode()

    async def submit(self) -> str:
        draft = Draft("prod-atlas", "database", "analytics", "read", timedelta(hours=1), "drill")
        view = await requests.submit(
            self.ctx, requester="alice@example.com", draft=draft, platform="slack"
        )
        return view.id


@asynccontextmanager
async def setup(
    tmp_path: Path, database_url: str, encryption_key: str, url: str, **changes: Any
) -> AsyncIterator[Setup]:
    data = config("http://127.0.0.1:9", database_url)  # Atlas is left out: no secret
    data["jobs"] = {"poll_interval": "1s"}  # the default lease (60 s) and heartbeat (5 s)
    data["webhooks"] = [webhook(url, **changes)]
    path = tmp_path / "gatepass.yml"
    path.write_text(yaml.safe_dump(data))
    mine = ("SLACK_", "ATLAS_", "GATEPASS_", "SIEM_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(mine)} | {
        "GATEPASS_KEY": encryption_key,
        "SIEM_WEBHOOK_SECRET": SECRET,
        "PYTHONPATH": str(ROOT),
    }
    settings = resolve_settings(parse_config(data), config_path=str(path), environ=env)
    ctx = build_context(settings, integrations={"prod-atlas": MemoryIntegration("prod-atlas")})
    async with ctx.store.transaction() as session:
        await resources.replace_discovered(session, "prod-atlas", RESOURCES, at=ctx.clock.now())
    try:
        yield Setup(path, env, ctx)
    finally:
        await ctx.store.close()
