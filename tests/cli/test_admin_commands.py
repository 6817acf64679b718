"""approvers-for, requests and audit commands against a real database file."""

from __future__ import annotations

import asyncio
import copy
import sqlite3
from datetime import timedelta
from typing import Any

import pytest

from core.config.schema import parse_config
from core.config.settings import resolve_settings
from core.context import Context
from core.runtime import build_context
from core.storage import migrations, resources
from core.use_cases import approvals, requests
from core.use_cases.eligibility import Draft
from tests.cli.conftest import Cli
from tests.support.domain import BASE_CONFIG, RESOURCES
from tests.support.memory_integration import MemoryIntegration


def cli_config(**integration_changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(BASE_CONFIG)
    data["encryption_key"] = "env:GATEPASS_ENCRYPTION_KEY"
    data["integrations"][0].update(integration_changes)
    data["access_flows"][0]["requestors"].append(
        {"attribute": "user", "value": "carol@example.com"}
    )
    return data


def seed(cli: Cli, data: dict[str, Any], actions: Any = None) -> None:
    async def run() -> None:
        env = dict(cli.env, ATLAS_KEYS='{"public_key": "a", "private_key": "b"}')
        settings = resolve_settings(parse_config(data), config_path="test", environ=env)
        await migrations.upgrade_async(settings.database_url)
        ctx = build_context(settings, integrations={"prod-atlas": MemoryIntegration("prod-atlas")})
        async with ctx.store.transaction() as session:
            await resources.replace_discovered(session, "prod-atlas", RESOURCES, at=ctx.clock.now())
        if actions:
            await actions(ctx)
        await ctx.store.close()

    asyncio.run(run())


@pytest.fixture
def configured(cli: Cli) -> Any:
    cli.env = dict(cli.env, ATLAS_KEYS='{"public_key": "a", "private_key": "b"}')
    data = cli_config()
    seed(cli, data)
    return cli.write(data)


def approvers(
    cli: Cli, config: Any, requester: str, resource: str, permission: str = "read"
) -> tuple[Any, Any]:
    return cli.json(
        "approvers-for",
        "--requester",
        requester,
        "--integration",
        "prod-atlas",
        "--resource",
        resource,
        "--permission",
        permission,
        config=config,
    )


def test_owner_tag_resolves_through_the_cluster(cli: Cli, configured: Any) -> None:
    result, data = approvers(cli, configured, "alice@example.com", "database:analytics")
    assert result.exit_code == 0, result.output
    assert data["approvers"] == [
        {
            "email": "bob@example.com",
            "name": "Bob Ray",
            "reason": "owner of cluster Cluster0 via tag owner=dba",
        },
        {
            "email": "carol@example.com",
            "name": "Carol Lin",
            "reason": "owner of cluster Cluster0 via tag owner=dba",
        },
    ]
    text = cli(
        "approvers-for",
        "--requester",
        "alice@example.com",
        "--integration",
        "prod-atlas",
        "--resource",
        "database:analytics",
        "--permission",
        "read",
        config=configured,
    )
    assert "owner of cluster Cluster0 via tag owner=dba" in text.output


def test_the_resources_own_tag_wins(cli: Cli, configured: Any) -> None:
    _result, data = approvers(cli, configured, "alice@example.com", "database:sales")
    assert [a["reason"] for a in data["approvers"]] == [
        "owner of database sales via tag owner=sales-owners"
    ]


NO_TAG = (
    "no owner tag team-owner on database analytics or its parents; "
    "falling back to the integration owners"
)


def test_no_tag_anywhere_falls_back_to_integration_owners(cli: Cli) -> None:
    data = cli_config(resource_owner={"tag_key": "team-owner", "attribute": "group"})
    seed(cli, data)
    result, out = approvers(cli, cli.write(data), "alice@example.com", "database:analytics")
    assert result.exit_code == 0
    assert {(a["email"], a["reason"]) for a in out["approvers"]} == {
        (email, f"integration owner of prod-atlas ({NO_TAG})")
        for email in ("bob@example.com", "carol@example.com")
    }


def test_requester_who_is_the_only_owner_is_removed_and_fallback_used(
    cli: Cli, configured: Any
) -> None:
    result, out = approvers(cli, configured, "dave@example.com", "database:sales")
    assert result.exit_code == 0
    assert [(a["email"], a["reason"]) for a in out["approvers"]] == [
        (
            "bob@example.com",
            "integration owner of prod-atlas (the only resource owner is the requester)",
        ),
        (
            "carol@example.com",
            "integration owner of prod-atlas (the only resource owner is the requester)",
        ),
    ]


def test_nobody_left_exits_1_with_the_reason(cli: Cli) -> None:
    data = cli_config(integration_owners=[{"attribute": "user", "value": "dave@example.com"}])
    seed(cli, data)
    result, out = approvers(cli, cli.write(data), "dave@example.com", "database:sales")
    assert result.exit_code == 1
    assert out["approvers"] == []
    assert "Nobody can approve this request" in result.output


def test_requests_list_show_and_revoke(cli: Cli) -> None:
    data = cli_config()
    ids: list[str] = []

    async def actions(ctx: Context) -> None:
        draft = Draft(
            "prod-atlas", "database", "analytics", "read", timedelta(hours=1), "quarterly report"
        )
        view = await requests.submit(
            ctx, requester="alice@example.com", draft=draft, platform="slack"
        )
        await approvals.decide(
            ctx,
            approver="bob@example.com",
            request_id=view.id,
            outcome="approve",
            reason=None,
            platform="teams",
        )
        ids.append(view.id)

    seed(cli, data, actions)
    config = cli.write(data)
    result, rows = cli.json("requests", "list", config=config)
    assert result.exit_code == 0 and rows[0]["id"] == ids[0] and rows[0]["status"] == "approved"
    assert ids[0] in cli("requests", "list", "--status", "approved", config=config).output
    result, shown = cli.json("requests", "show", ids[0], config=config)
    assert (
        shown["decisions"][0]["approver"] == "bob@example.com"
        and shown["decisions"][0]["platform"] == "teams"
    )
    missing = cli("requests", "show", "RNOPE", config=config)
    assert missing.exit_code == 1 and "There is no request RNOPE" in missing.output
    assert cli("requests", "revoke", ids[0], "--reason", " ", config=config).exit_code == 1
    revoked = cli("requests", "revoke", ids[0], "--reason", "incident over", config=config)
    assert revoked.exit_code == 0, revoked.output


def test_audit_verify_passes_then_fails_after_an_edit(cli: Cli) -> None:
    data = cli_config()

    async def actions(ctx: Context) -> None:
        draft = Draft(
            "prod-atlas", "database", "analytics", "read", timedelta(hours=1), "quarterly report"
        )
        for _ in range(3):
            await requests.submit(ctx, requester="alice@example.com", draft=draft, platform="slack")

    seed(cli, data, actions)
    config = cli.write(data)
    ok = cli("audit", "verify", config=config)
    assert ok.exit_code == 0 and "3 events verified" in ok.output
    export = cli("audit", "export", "--format", "jsonl", config=config)
    assert export.output.count("request.submitted") == 3
    csv_export = cli("audit", "export", "--format", "csv", config=config)
    assert csv_export.output.splitlines()[0].startswith("seq,at,actor,action")
    database = cli.env["GATEPASS_DATABASE_URL"].removeprefix("sqlite+aiosqlite:///")
    with sqlite3.connect(database) as connection:
        connection.execute("UPDATE audit_events SET actor = 'mallory@example.com' WHERE seq = 2")
    bad = cli("audit", "verify", config=config)
    assert bad.exit_code == 1
    assert "event 2 was altered" in bad.output
    with sqlite3.connect(database) as connection:
        connection.execute("UPDATE audit_events SET actor = 'alice@example.com' WHERE seq = 2")
        connection.execute("DELETE FROM audit_events WHERE seq = 3")
    gone = cli("audit", "verify", config=config)
    assert gone.exit_code == 1 and "removed" in gone.output


def test_approvers_for_names_the_manager_and_why(cli: Cli) -> None:
    from tests.support.managers import manager_changes

    cli.env = dict(cli.env, ATLAS_KEYS='{"public_key": "a", "private_key": "b"}')
    data = cli_config()
    changes = manager_changes()
    data["directory"] = changes["directory"]
    data["access_flows"][0]["approvers"] = "manager"
    seed(cli, data)
    config = cli.write(data)
    result, found = approvers(cli, config, "alice@example.com", "database:analytics")
    assert result.exit_code == 0, result.output
    assert found["approvers"] == [
        {"email": "dave@example.com", "name": "Dave Kim", "reason": "manager of Alice Doe"}
    ]
    # Carol has no manager: the integration owners, saying so.
    result, found = approvers(cli, config, "carol@example.com", "database:analytics")
    assert [a["reason"] for a in found["approvers"]] == [
        "integration owner of prod-atlas (the requester has no manager)"
    ]
    text = cli(
        "approvers-for",
        "--requester",
        "alice@example.com",
        "--integration",
        "prod-atlas",
        "--resource",
        "database:analytics",
        "--permission",
        "read",
        config=config,
    )
    assert "manager of Alice Doe" in text.output
