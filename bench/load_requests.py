"""Requests submitted and approved, ten at a time (the load of ``bench.revocations``):

    python -m bench.load_requests <config> <first person> <count>

Each is a state change with its audit event, and a grant for the workers.
"""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import timedelta
from pathlib import Path

import yaml

from core.config.schema import parse_config
from core.config.settings import resolve_settings
from core.domain.request_form import Draft
from core.runtime import build_context
from core.use_cases import admin, approvals, requests

INTEGRATION = "bench-atlas"


async def load(path: str, data: dict[str, object], first: int, count: int) -> None:
    settings = resolve_settings(parse_config(data), config_path=path, environ=dict(os.environ))
    ctx = build_context(settings)
    await admin.sync_integration(ctx, INTEGRATION)
    draft = Draft(INTEGRATION, "database", "sales", "read", timedelta(hours=1), "load")

    async def one(index: int) -> None:
        view = await requests.submit(
            ctx, requester=f"person{first + index}@example.com", draft=draft, platform="slack"
        )
        await approvals.decide(
            ctx,
            approver="bob@example.com",
            request_id=view.id,
            outcome="approve",
            reason=None,
            platform="slack",
        )

    for start in range(0, count, 10):
        await asyncio.gather(*(one(i) for i in range(start, min(count, start + 10))))
    for integration in ctx.integrations.values():
        close = getattr(integration, "aclose", None)
        if close is not None:
            await close()
    await ctx.store.close()


if __name__ == "__main__":
    config = sys.argv[1]
    asyncio.run(load(config, yaml.safe_load(Path(config).read_text()), *map(int, sys.argv[2:4])))
