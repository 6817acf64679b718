"""``gatepass directory list / show``: the config file's people and the people SCIM provisions,
with where each group, attribute and manager comes from."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from core.context import Context
from core.use_cases import group_provisioning, user_provisioning
from core.use_cases.provisioning import GroupInput, UserInput
from tests.cli.conftest import Cli
from tests.cli.test_admin_commands import seed
from tests.support.domain import BASE_CONFIG

SCIM_SOURCE = "SCIM (group memberships pushed by the identity provider)"


def _config() -> dict[str, Any]:
    data = copy.deepcopy(BASE_CONFIG)
    data["encryption_key"] = "env:GATEPASS_ENCRYPTION_KEY"
    users = [
        u
        for u in data["directory"]["users"]
        if u["email"] in ("alice@example.com", "carol@example.com")
    ]
    users[0]["attributes"]["manager"] = "zoe@example.com"
    data["directory"] = {"users": users, "scim": {"token": "env:GATEPASS_SCIM_TOKEN"}}
    return data


async def _provision(ctx: Context) -> None:
    zoe = await user_provisioning.create_user(
        ctx,
        UserInput(
            "zoe@example.com", "zoe@example.com", "Zoe Park", attributes={"department": "Data"}
        ),
    )
    yuri = await user_provisioning.create_user(
        ctx,
        UserInput(
            "yuri@example.com",
            "Yuri@Example.com",
            "Yuri Gold",
            manager_id=zoe.row.id,
            attributes={"department": "Data"},
        ),
    )
    gone = await user_provisioning.create_user(
        ctx, UserInput("gone@example.com", "gone@example.com", "Gone Away", manager_id=zoe.row.id)
    )
    await group_provisioning.create_group(
        ctx, GroupInput("dba", member_ids=(yuri.row.id, gone.row.id))
    )
    await user_provisioning.replace_user(
        ctx,
        gone.row.id,
        UserInput(
            "gone@example.com", "gone@example.com", "Gone Away", active=False, manager_id=zoe.row.id
        ),
    )


@pytest.fixture
def provisioned(cli: Cli) -> Any:
    cli.env = dict(
        cli.env,
        ATLAS_KEYS='{"public_key": "a", "private_key": "b"}',
        GATEPASS_SCIM_TOKEN="scim-token-0123456789abcdef",
    )
    data = _config()
    seed(cli, data, _provision)
    return cli.write(data)


def test_list_shows_both_sources(cli: Cli, provisioned: Any) -> None:
    result, data = cli.json("directory", "list", config=provisioned)
    assert result.exit_code == 0, result.output
    assert [(p["email"], p["source"]) for p in data] == [
        ("alice@example.com", "config file"),
        ("carol@example.com", "config file"),
        ("yuri@example.com", "SCIM"),
        ("zoe@example.com", "SCIM"),
    ]  # the deactivated person is in nobody's list
    text = cli("directory", "list", config=provisioned).output
    assert "EMAIL" in text and "yuri@example.com" in text and "zoe@example.com" in text


def test_list_one_group_across_sources(cli: Cli, provisioned: Any) -> None:
    result, data = cli.json("directory", "list", "--group", "dba", config=provisioned)
    assert result.exit_code == 0, result.output
    assert [(p["email"], [g["source"] for g in p["groups"]]) for p in data] == [
        ("carol@example.com", ["config file (directory.users[].groups)"] * 2),
        ("yuri@example.com", [SCIM_SOURCE]),
    ]


def test_show_a_scim_person_with_their_manager(cli: Cli, provisioned: Any) -> None:
    result, data = cli.json("directory", "show", "YURI@example.com", config=provisioned)
    assert result.exit_code == 0, result.output
    assert data == {
        "email": "yuri@example.com",
        "name": "Yuri Gold",
        "source": "SCIM",
        "active": True,
        "groups": [{"name": "dba", "source": SCIM_SOURCE}],
        "attributes": {
            "department": {
                "value": "Data",
                "source": "SCIM (user and enterprise extension attributes)",
            }
        },
        "manager": {
            "email": "zoe@example.com",
            "name": "Zoe Park",
            "in_directory": True,
            "source": "SCIM (enterprise extension manager.value)",
        },
    }
    text = cli("directory", "show", "yuri@example.com", config=provisioned).output
    assert "source: SCIM" in text
    assert (
        "manager: zoe@example.com (Zoe Park)  [SCIM (enterprise extension manager.value)]" in text
    )


def test_show_a_config_person_whose_manager_comes_from_scim(cli: Cli, provisioned: Any) -> None:
    result, data = cli.json("directory", "show", "alice@example.com", config=provisioned)
    assert result.exit_code == 0, result.output
    assert data["source"] == "config file"
    assert data["attributes"] == {
        "team": {"value": "analytics", "source": "config file (directory.users[].attributes)"}
    }
    assert data["manager"] == {
        "email": "zoe@example.com",
        "name": "Zoe Park",
        "in_directory": True,
        "source": "config file (directory.users[].attributes.manager)",
    }


def test_show_a_deactivated_person_and_refuse_a_stranger(cli: Cli, provisioned: Any) -> None:
    result, data = cli.json("directory", "show", "gone@example.com", config=provisioned)
    assert result.exit_code == 0, result.output
    assert data["active"] is False and data["source"] == "SCIM"
    assert data["manager"]["email"] == "zoe@example.com"
    text = cli("directory", "show", "gone@example.com", config=provisioned).output
    assert "active: no (deactivated in the identity provider)" in text
    stranger = cli("directory", "show", "mallory@example.com", config=provisioned)
    assert stranger.exit_code == 1
    assert "mallory@example.com is not in the directory" in stranger.output


def test_without_scim_the_config_file_is_the_directory(cli: Cli) -> None:
    cli.env = dict(cli.env, ATLAS_KEYS='{"public_key": "a", "private_key": "b"}')
    data = copy.deepcopy(BASE_CONFIG)
    data["encryption_key"] = "env:GATEPASS_ENCRYPTION_KEY"
    seed(cli, data)
    config = cli.write(data)
    result, found = cli.json("directory", "list", "--group", "platform", config=config)
    assert result.exit_code == 0, result.output
    assert [p["email"] for p in found] == ["carol@example.com", "erin@example.com"]
