from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from bot.cli import app

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "gatepass.example.yml"


class Cli:
    def __init__(self, tmp_path: Path, env: dict[str, str]) -> None:
        self.tmp_path = tmp_path
        self.env = env
        self.runner = CliRunner()

    def write(self, data: dict[str, Any], name: str = "gatepass.yml") -> Path:
        path = self.tmp_path / name
        path.write_text(yaml.safe_dump(data, sort_keys=False))
        return path

    def __call__(self, *args: str, config: Path | None = None) -> Any:
        argv = list(args) + (["--config", str(config)] if config else [])
        return self.runner.invoke(app, argv, env=self.env, catch_exceptions=False)

    def json(self, *args: str, config: Path | None = None) -> Any:
        result = self(*args, "--json", config=config)
        return result, json.loads(result.stdout) if result.stdout.strip() else None


def example_data() -> dict[str, Any]:
    return yaml.safe_load(EXAMPLE.read_text())


@pytest.fixture
def secrets_env(tmp_path: Path, encryption_key: str) -> dict[str, str]:
    atlas_file = tmp_path / "atlas-prod.json"
    atlas_file.write_text(
        json.dumps(
            {"public_key": "abcdefgh", "private_key": "00000000-1111-2222-3333-444444444444"}
        )
    )
    return {
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_SIGNING_SECRET": "s3cr3t",
        "TEAMS_APP_ID": "00000000-0000-0000-0000-000000000001",
        "TEAMS_APP_PASSWORD": "pw",
        "ATLAS_ORG_PUBLIC_KEY": "pub",
        "ATLAS_ORG_PRIVATE_KEY": "priv",
        "GATEPASS_ENCRYPTION_KEY": encryption_key,
        "ATLAS_PROD_FILE": str(atlas_file),
        "GATEPASS_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}",
    }


@pytest.fixture
def cli(tmp_path: Path, secrets_env: dict[str, str]) -> Cli:
    return Cli(tmp_path, secrets_env)
