"""``teams.dev_mode`` accepts unauthenticated Teams activities, so only a loopback address may
serve it: refused when the file says otherwise (``check-config`` too), and when ``serve --host``
would bind elsewhere — before anything listens."""

from __future__ import annotations

import socket
from typing import Any

import pytest

from core.config.network import is_loopback_host
from tests.cli.conftest import Cli, example_data

REFUSAL = "teams.dev_mode turns off Bot Framework authentication"


def _dev_mode(host: str) -> dict[str, Any]:
    data = example_data()
    data["server"] = {"host": host, "port": 3978}
    data["teams"] = {**data["teams"], "dev_mode": True}
    return data


def test_check_config_refuses_dev_mode_on_a_public_host(cli: Cli) -> None:
    path = cli.write(_dev_mode("0.0.0.0"))
    result = cli("check-config", config=path)
    assert result.exit_code == 1
    assert REFUSAL in result.output and "'0.0.0.0'" in result.output
    assert "Traceback" not in result.output


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "10.1.2.3", "gatepass.example.com"])
def test_serve_host_override_cannot_expose_dev_mode(cli: Cli, host: str) -> None:
    path = cli.write(_dev_mode("127.0.0.1"))
    port = _free_port()
    result = cli("serve", "--host", host, "--port", str(port), config=path)
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and f"{path}: --host: {REFUSAL}" in lines[0], result.output
    with socket.socket() as probe:  # nothing was bound
        assert probe.connect_ex(("127.0.0.1", port)) != 0


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("[::1]", True), ("localhost.", True), ("0.0.0.0", False), (None, False)],
)
def test_one_loopback_rule(host: str | None, loopback: bool) -> None:
    assert is_loopback_host(host) is loopback
