"""An Atlas project role that Atlas does not know is refused when the config loads, in one line
naming the flow, the role and the nearest known one, by ``check-config`` with and without
``--online`` (which never gets as far as Atlas with a file that does not load)."""

from __future__ import annotations

from typing import Any

import pytest

from core.config.schema import ConfigError, parse_config
from core.domain import permissions
from tests.cli.conftest import Cli, example_data


def with_project_roles(cli: Cli, *roles: str) -> dict[str, Any]:
    data = example_data()
    data["integrations"][0]["secret"] = f"file:{cli.env['ATLAS_PROD_FILE']}"
    data["encryption_key"] = "env:GATEPASS_ENCRYPTION_KEY"
    flow = next(f for f in data["access_flows"] if f["integration"] == "atlas-ui")
    flow["permissions"] = list(roles)
    return data


EXPECTED = (
    "access_flows[1] (atlas-ui-read).permissions: 'GROUP_REED_ONLY' is not a permission of "
    "mongodb-atlas-portal (did you mean 'GROUP_READ_ONLY'? valid: "
)


@pytest.mark.parametrize("online", [False, True], ids=["offline", "online"])
def test_an_unknown_project_role_is_named_in_one_line(cli: Cli, online: bool) -> None:
    path = cli.write(with_project_roles(cli, "GROUP_READ_ONLY", "GROUP_REED_ONLY"))

    result = cli("check-config", *(["--online"] if online else []), config=path)

    assert result.exit_code == 1
    (line,) = [line for line in result.output.splitlines() if "GROUP_REED_ONLY" in line]
    assert line.startswith(f"{path}: {EXPECTED}"), result.output
    assert "GROUP_STREAM_PROCESSING_OWNER" in line  # the valid roles, on the same line


def test_every_project_role_atlas_documents_loads(cli: Cli) -> None:
    path = cli.write(with_project_roles(cli, *permissions.GROUP_ROLES))

    result = cli("check-config", config=path)

    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("role", ["GROUP_ADMIN", "GROUP_", "group_read_only", "GROUP_OWNERS"])
def test_roles_that_merely_look_like_project_roles_are_refused(role: str) -> None:
    data = example_data()
    data["access_flows"][1]["permissions"] = [role]

    with pytest.raises(ConfigError) as raised:
        parse_config(data)

    (problem,) = raised.value.problems
    assert f"{role!r} is not a permission of mongodb-atlas-portal" in problem
    assert "\n" not in problem
