"""`gatepass check-config`: the example passes; each kind of mistake is named by its key."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest

from tests.cli.conftest import EXAMPLE, ROOT, Cli, example_data


def with_secret_file(data: dict[str, Any], cli: Cli) -> dict[str, Any]:
    data["integrations"][0]["secret"] = f"file:{cli.env['ATLAS_PROD_FILE']}"
    data["encryption_key"] = "env:GATEPASS_ENCRYPTION_KEY"
    return data


def test_example_file_is_valid_as_shipped(cli: Cli) -> None:
    result = cli("check-config", "--schema-only", config=EXAMPLE)
    assert result.exit_code == 0, result.output
    assert "valid" in result.output


def test_example_with_its_secrets_set_passes(cli: Cli) -> None:
    result = cli("check-config", config=cli.write(with_secret_file(example_data(), cli)))
    assert result.exit_code == 0, result.output
    assert "OK" in result.output


def test_missing_secrets_are_each_named(cli: Cli) -> None:
    env = dict(cli.env)
    del env["SLACK_BOT_TOKEN"]
    cli.env = env
    data = example_data()
    data["encryption_key"] = "env:GATEPASS_ENCRYPTION_KEY"
    result = cli("check-config", config=cli.write(data))
    assert result.exit_code == 1
    assert "slack: variable SLACK_BOT_TOKEN not set" in result.output
    assert (
        "integration prod-atlas: file /run/secrets/atlas-prod.json does not exist" in result.output
    )
    assert "xoxb-test" not in result.output and "s3cr3t" not in result.output


def _broken(change: str) -> dict[str, Any]:
    data = example_data()
    atlas, flow = data["integrations"][0], data["access_flows"][0]
    if change == "unknown key":
        atlas["custom_acess_details"] = "typo"
    elif change == "resource_owner without owners":
        del atlas["integration_owners"]
    elif change == "401 characters":
        atlas["custom_access_details"] = "x" * 401
    elif change == "unknown integration":
        flow["integration"] = "prod-atlsa"
    elif change == "bad permission":
        flow["permissions"] = ["read", "GROUP_OWNER"]
    elif change == "malformed duration":
        flow["durations"] = ["15m", "1 hour"]
    elif change == "bad secret reference":
        data["integrations"][1]["secret"]["public_key"] = "AKIA1234PLAINTEXT"
    elif change == "unknown top-level key":
        data["aproval_flows"] = []
    return data


CASES = [
    ("unknown key", "integrations[0] (prod-atlas).custom_acess_details: unknown key"),
    (
        "resource_owner without owners",
        "integrations[0] (prod-atlas): resource_owner requires integration_owners",
    ),
    (
        "401 characters",
        "integrations[0] (prod-atlas).custom_access_details: is 401 characters long; at most 400",
    ),
    (
        "unknown integration",
        "access_flows[0] (analytics-read).integration: no integration named 'prod-atlsa'",
    ),
    (
        "bad permission",
        "access_flows[0] (analytics-read).permissions: "
        "'GROUP_OWNER' is not a permission of mongodb-atlas",
    ),
    (
        "malformed duration",
        "access_flows[0] (analytics-read).durations: '1 hour' is not a duration",
    ),
    (
        "bad secret reference",
        "integrations[1] (atlas-ui).secret.public_key: is not a secret reference",
    ),
    ("unknown top-level key", "aproval_flows: unknown key"),
]


@pytest.mark.parametrize(("change", "expected"), CASES, ids=[c for c, _ in CASES])
def test_each_mistake_is_named_with_its_key(cli: Cli, change: str, expected: str) -> None:
    path = cli.write(_broken(change))
    result = cli("check-config", config=path)
    assert result.exit_code == 1
    assert f"{path}: {expected}" in result.output, result.output
    assert "AKIA1234PLAINTEXT" not in result.output


def test_bad_yaml_names_the_line(cli: Cli) -> None:
    path = cli.tmp_path / "broken.yml"
    path.write_text("server:\n  host: [unclosed\n")
    result = cli("check-config", config=path)
    assert result.exit_code == 1
    assert f"{path}: line" in result.output


def test_console_script_runs(tmp_path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "bot.cli",
            "check-config",
            "--schema-only",
            "--config",
            str(EXAMPLE),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_check_config_fails_when_the_scim_token_is_not_set(cli: Cli) -> None:
    data = with_secret_file(example_data(), cli)
    data.setdefault("directory", {})["scim"] = {"token": "env:GATEPASS_SCIM_TOKEN"}
    config = cli.write(data)
    result = cli("check-config", config=config)
    assert result.exit_code == 1
    assert "GATEPASS_SCIM_TOKEN" in result.output
    cli.env = dict(cli.env, GATEPASS_SCIM_TOKEN="scim-token-0123456789abcdef")
    assert cli("check-config", config=config).exit_code == 0
