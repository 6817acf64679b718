"""``gatepass requests list --break-glass`` lists the uses with their reviews; the audit export
marks every break-glass event."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from core.context import Context
from core.use_cases import break_glass, requests
from core.use_cases.eligibility import Draft
from tests.break_glass.config import REASON, break_glass_config
from tests.cli.conftest import Cli
from tests.cli.test_admin_commands import seed

BREAK = Draft("prod-atlas", "database", "billing", "readWrite", timedelta(hours=1), REASON)
ORDINARY = Draft("prod-atlas", "database", "analytics", "read", timedelta(hours=1), "report")


def test_the_list_and_the_export_mark_break_glass_uses(cli: Cli) -> None:
    data: dict[str, Any] = break_glass_config()
    data["encryption_key"] = "env:GATEPASS_ENCRYPTION_KEY"
    made: list[str] = []

    async def actions(ctx: Context) -> None:
        used = await requests.submit(ctx, requester="alice@example.com", draft=BREAK, platform="x")
        await requests.submit(ctx, requester="alice@example.com", draft=ORDINARY, platform="x")
        await break_glass.review(
            ctx, reviewer="bob@example.com", request_id=used.id, outcome="flagged", platform="x"
        )
        made.append(used.id)

    seed(cli, data, actions)
    config = cli.write(data)
    result, rows = cli.json("requests", "list", "--break-glass", config=config)
    assert result.exit_code == 0, result.output
    assert [(r["id"], r["review"], r["reviewed_by"], r["reason"]) for r in rows] == [
        (made[0], "flagged", "Bob Ray", REASON)
    ]
    table = cli("requests", "list", "--break-glass", config=config).output
    assert made[0] in table and "flagged" in table
    assert len(cli.json("requests", "list", config=config)[1]) == 2
    export = cli("audit", "export", "--format", "jsonl", config=config).output
    events = [json.loads(line) for line in export.splitlines()]
    marked = [e["action"] for e in events if e["detail"].get("break_glass")]
    assert marked == [
        "request.submitted",
        break_glass.USED,
        break_glass.REVIEWED,
    ]


def test_approvers_for_says_a_flow_is_break_glass(cli: Cli) -> None:
    data: dict[str, Any] = break_glass_config()
    data["encryption_key"] = "env:GATEPASS_ENCRYPTION_KEY"
    seed(cli, data)
    config = cli.write(data)
    ask = ("--requester", "alice@example.com", "--integration", "prod-atlas")
    ask += ("--resource", "database:billing", "--permission", "readWrite")
    result, found = cli.json("approvers-for", *ask, config=config)
    assert result.exit_code == 0, result.output
    assert found["break_glass"] is True and found["approvers"] == []
    assert (
        "break-glass, approved by the requester" in cli("approvers-for", *ask, config=config).output
    )
