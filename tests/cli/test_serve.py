"""`gatepass serve` on a fresh machine with no credentials: it starts, stays up, names every
secret it is missing at start and on /healthz, and stops cleanly on SIGTERM. A platform whose
module cannot be imported stops it at start, in one line."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import yaml

from tests.cli.conftest import EXAMPLE, ROOT

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.loads(response.read())


def wait_for_health(url: str, process: subprocess.Popen[str]) -> dict:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(
                f"serve exited early:\n{process.stdout.read() if process.stdout else ''}"
            )
        try:
            return get_json(url)
        except OSError:
            time.sleep(0.1)
    raise AssertionError("serve did not answer /healthz")


def test_serve_without_credentials_stays_up_and_names_what_is_missing(tmp_path: Path) -> None:
    config = yaml.safe_load(EXAMPLE.read_text())
    port = free_port()
    config["server"] = {"host": "127.0.0.1", "port": port}
    config["database_url"] = f"sqlite+aiosqlite:///{tmp_path / 'gp.db'}"
    path = tmp_path / "gatepass.yml"
    path.write_text(yaml.safe_dump(config))
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "TEAMS_", "ATLAS_", "GATEPASS_"))
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "serve", "--config", str(path)],
        cwd=tmp_path,
        env=env | {"PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        health = wait_for_health(f"http://127.0.0.1:{port}/healthz", process)
        assert health["status"] == "ok" and health["database"] == "ok"
        assert "SLACK_BOT_TOKEN" in health["platforms"]["slack"]
        assert "TEAMS_APP_ID" in health["platforms"]["teams"]
        assert "/run/secrets/atlas-prod.json" in health["integrations"]["prod-atlas"]
        assert "ATLAS_ORG_PUBLIC_KEY" in health["integrations"]["atlas-ui"]
        assert health["encryption_key"] == "ready"
        assert health["worker"] == "running"
        key_file = tmp_path / "gp.db.key"
        assert key_file.exists() and oct(key_file.stat().st_mode & 0o777) == "0o600"
        time.sleep(0.5)
        assert process.poll() is None
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=20)
    assert process.returncode == 0, output
    assert "SLACK_BOT_TOKEN" in output and "ATLAS_ORG_PUBLIC_KEY" in output


def test_worker_command_runs_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    config = yaml.safe_load(EXAMPLE.read_text())
    config["database_url"] = f"sqlite+aiosqlite:///{tmp_path / 'gp.db'}"
    path = tmp_path / "gatepass.yml"
    path.write_text(yaml.safe_dump(config))
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "TEAMS_", "ATLAS_", "GATEPASS_"))
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "worker", "--config", str(path)],
        cwd=tmp_path,
        env=env | {"PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 30
    while not (tmp_path / "gp.db").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(1.5)
    assert process.poll() is None
    process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=20)
    assert process.returncode == 0, output
    assert "started" in output and "stopped" in output


def test_serve_with_a_platform_that_cannot_be_imported_fails_naming_it(tmp_path: Path) -> None:
    """A chat SDK missing from the install: serve refuses to start, in one line that names the
    platform's module and the cause (never a silent skip, never "ready")."""
    shadow = tmp_path / "shadow" / "slack_bolt"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text(
        "raise ModuleNotFoundError(\"No module named 'slack_bolt'\", name='slack_bolt')\n"
    )
    config = yaml.safe_load(EXAMPLE.read_text())
    config["server"] = {"host": "127.0.0.1", "port": free_port()}
    config["database_url"] = f"sqlite+aiosqlite:///{tmp_path / 'gp.db'}"
    path = tmp_path / "gatepass.yml"
    path.write_text(yaml.safe_dump(config))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "TEAMS_"))}
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "serve", "--config", str(path)],
        cwd=tmp_path,
        env=env | {"PYTHONPATH": f"{tmp_path / 'shadow'}{os.pathsep}{ROOT}"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1] == (
        "gatepass cannot start: the slack edge (bot.slack.install) could not be imported: "
        "ModuleNotFoundError: No module named 'slack_bolt'"
    )
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "gp.db").exists()  # it stopped before touching anything


async def test_build_fails_when_a_platform_module_cannot_be_imported(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from bot.app import build
    from core.config.schema import parse_config
    from core.config.settings import resolve_settings

    monkeypatch.setitem(sys.modules, "bot.teams.install", None)  # as if it failed to import
    data = yaml.safe_load(EXAMPLE.read_text())
    data["database_url"] = f"sqlite+aiosqlite:///{tmp_path / 'gp.db'}"
    settings = resolve_settings(parse_config(data), config_path="t", environ={})
    with pytest.raises(SystemExit) as stopped:
        await build(settings, migrate=False)
    assert str(stopped.value) == (
        "gatepass cannot start: the teams edge (bot.teams.install) could not be imported: "
        "ModuleNotFoundError: import of bot.teams.install halted; None in sys.modules"
    )
