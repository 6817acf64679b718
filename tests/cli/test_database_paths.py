"""Where the database is: a relative SQLite path is taken from the config file's folder, so every
command finds the same database from any folder; an administrator's command never creates one."""

from __future__ import annotations

import asyncio
import json
import os
import stat
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from core.config.schema import ConfigError, parse_config
from core.config.settings import NoDatabase, resolve_settings
from core.storage import resources
from core.storage.store import Store
from tests.cli.conftest import EXAMPLE, ROOT
from tests.support.domain import RESOURCES

pytestmark = pytest.mark.slow

ADMIN_COMMANDS = [
    ["requests", "list"],
    ["requests", "show", "r-1"],
    ["requests", "revoke", "r-1", "--reason", "leaving"],
    ["audit", "export"],
    ["audit", "verify"],
    ["resources", "list"],
    ["sync"],
    [
        "approvers-for",
        "--requester",
        "alice@example.com",
        "--integration",
        "prod-atlas",
        "--resource",
        "database:analytics",
        "--permission",
        "read",
    ],
]


def clean_env() -> dict[str, str]:
    return {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "TEAMS_", "ATLAS_", "GATEPASS_"))
    } | {"PYTHONPATH": str(ROOT)}


def gatepass(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        cwd=cwd,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def files_under(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


@pytest.fixture
def layout(tmp_path: Path) -> Path:
    """tmp/conf/gatepass.yml (the example, default relative database_url), tmp/one, tmp/two."""
    data = yaml.safe_load(EXAMPLE.read_text())
    assert data["database_url"] == "sqlite+aiosqlite:///gatepass.db"
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "gatepass.yml").write_text(yaml.safe_dump(data, sort_keys=False))
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    return tmp_path


def store_resources(database: Path) -> None:
    async def run() -> None:
        store = Store.from_url(f"sqlite+aiosqlite:///{database}")
        async with store.transaction() as session:
            await resources.replace_discovered(
                session, "prod-atlas", RESOURCES, at=datetime.now(UTC)
            )
        await store.close()

    asyncio.run(run())


def test_commands_run_from_other_folders_find_the_database_beside_the_config(
    layout: Path,
) -> None:
    upgraded = gatepass("db", "upgrade", "--config", "../conf/gatepass.yml", cwd=layout / "one")
    assert upgraded.returncode == 0, upgraded.stderr
    database = layout / "conf" / "gatepass.db"
    key = layout / "conf" / "gatepass.db.key"
    assert database.is_file()
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    store_resources(database)

    listed = gatepass(
        "resources", "list", "--json", "--config", str(layout / "conf" / "gatepass.yml"), cwd=layout
    )
    assert listed.returncode == 0, listed.stderr
    names = {(row["type"], row["name"]) for row in json.loads(listed.stdout)}
    assert {(r.type, r.name) for r in RESOURCES} == names

    again = gatepass(
        "requests", "list", "--json", "--config", "../conf/gatepass.yml", cwd=layout / "two"
    )
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout) == []
    assert files_under(layout / "one") == [] and files_under(layout / "two") == []
    assert not (layout / "gatepass.db").exists()


@pytest.mark.parametrize("command", ADMIN_COMMANDS, ids=lambda c: " ".join(c[:2]))
def test_an_admin_command_without_a_database_says_how_to_create_one_and_creates_nothing(
    layout: Path, command: list[str]
) -> None:
    before = files_under(layout)
    result = gatepass(*command, "--config", "../conf/gatepass.yml", cwd=layout / "one")
    conf = layout / "conf"
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"no database at {conf / 'gatepass.db'}: create it with "
        f'"gatepass db upgrade --config {conf / "gatepass.yml"}" or start "gatepass serve"'
    ]
    assert "Traceback" not in result.stdout + result.stderr
    assert result.stdout == ""
    assert files_under(layout) == before


def settings_for(database_url: str, config_path: Path, environ: dict[str, str]) -> str:
    config = parse_config({"database_url": database_url})
    return resolve_settings(config, config_path=str(config_path), environ=environ).database_url


def test_relative_paths_in_the_file_and_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    config = tmp_path / "etc" / "gatepass.yml"
    assert settings_for("sqlite+aiosqlite:///data/gp.db", config, {}) == (
        f"sqlite+aiosqlite:///{tmp_path / 'etc' / 'data' / 'gp.db'}"
    )
    assert settings_for("sqlite+aiosqlite:////srv/gp.db?timeout=5", config, {}) == (
        "sqlite+aiosqlite:////srv/gp.db?timeout=5"
    )
    from_env = {"GATEPASS_DATABASE_URL": "sqlite+aiosqlite:///here.db"}
    assert settings_for("sqlite+aiosqlite:///ignored.db", config, from_env) == (
        f"sqlite+aiosqlite:///{tmp_path / 'here.db'}"
    )
    postgres = "postgresql+psycopg://gatepass@db:5432/gatepass"
    assert settings_for(postgres, config, {}) == postgres


def test_database_url_may_be_a_reference_to_a_file_or_a_variable(tmp_path: Path) -> None:
    secret = tmp_path / "database-url"
    secret.write_text("postgresql+psycopg://gatepass:pw@db:5432/gatepass\n")
    config = tmp_path / "gatepass.yml"
    assert settings_for(f"file:{secret}", config, {}) == (
        "postgresql+psycopg://gatepass:pw@db:5432/gatepass"
    )
    assert settings_for("env:DB_URL", config, {"DB_URL": "sqlite+aiosqlite:///gp.db"}) == (
        f"sqlite+aiosqlite:///{tmp_path / 'gp.db'}"
    )
    with pytest.raises(ConfigError) as missing:
        settings_for("env:DB_URL", config, {})
    assert str(missing.value) == f"{config}: database_url: variable DB_URL: not set"


def test_the_guard_raises_before_the_key_file_is_written(tmp_path: Path) -> None:
    config = parse_config({"database_url": "sqlite+aiosqlite:///gp.db"})
    with pytest.raises(NoDatabase) as error:
        resolve_settings(
            config,
            config_path=str(tmp_path / "gatepass.yml"),
            environ={},
            existing_database=True,
        )
    assert error.value.path == tmp_path / "gp.db"
    assert files_under(tmp_path) == []
