"""`gatepass check-config --online` reaches the database, Slack (auth.test), Teams (a token
and the OpenID metadata) with the configured credentials and names each that fails; with all
of them working it passes."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml

from tests.cli.conftest import ROOT
from tests.fakes.slack import FakeSlack
from tests.fakes.teams import APP_ID, APP_PASSWORD, FakeOpenIdServer, FakeTokenEndpoint

pytestmark = pytest.mark.slow


async def check_online(config: Path, env: dict[str, str]) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "check-config",
        "--online",
        "--config",
        str(config),
        cwd=config.parent,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    return process.returncode or 0, out.decode(), err.decode()


def write(tmp_path: Path, database_url: str, slack: FakeSlack, openid: FakeOpenIdServer,
          tokens: FakeTokenEndpoint) -> Path:  # fmt: skip
    data = {
        "database_url": database_url,
        "encryption_key": "env:GATEPASS_ENCRYPTION_KEY",
        "slack": {
            "bot_token": "env:SLACK_BOT_TOKEN",
            "signing_secret": "env:SLACK_SIGNING_SECRET",
            "api_url": slack.api_url,
        },
        "teams": {
            "app_id": "env:TEAMS_APP_ID",
            "app_password": "env:TEAMS_APP_PASSWORD",
            "token_url": tokens.token_url(),
            "openid_metadata_url": openid.metadata_url,
        },
    }
    path = tmp_path / "gatepass.yml"
    path.write_text(yaml.safe_dump(data))
    return path


async def test_online_names_each_service_that_fails(
    tmp_path: Path, sqlite_url: str, encryption_key: str
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "TEAMS_"))}
    env |= {
        "PYTHONPATH": str(ROOT),
        "GATEPASS_ENCRYPTION_KEY": encryption_key,
        "SLACK_SIGNING_SECRET": "s3cr3t-signing",
        "TEAMS_APP_ID": APP_ID,
    }
    env.pop("GATEPASS_DATABASE_URL", None)
    async with FakeSlack() as slack:
        with FakeOpenIdServer() as openid, FakeTokenEndpoint() as tokens:
            good = write(tmp_path, sqlite_url, slack, openid, tokens)
            working = env | {"SLACK_BOT_TOKEN": slack.bot_token, "TEAMS_APP_PASSWORD": APP_PASSWORD}
            code, out, err = await check_online(good, working)
            assert code == 0, (out, err)
            assert f"{good}: OK" in out

            bad = write(tmp_path, "postgresql+psycopg://gp@127.0.0.1:1/gp", slack, openid, tokens)
            openid.failing = True
            refused = env | {"SLACK_BOT_TOKEN": "xoxb-wrong", "TEAMS_APP_PASSWORD": "wrong"}
            code, out, err = await check_online(bad, refused)
    assert code == 1 and "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 4, err
    assert lines[0].startswith(f"{bad}: database: unreachable: connection failed: ")
    assert lines[1] == f"{bad}: slack: auth.test refused the bot token (invalid_auth)"
    assert lines[2].startswith(f"{bad}: teams token: ") and "HTTP 401" in lines[2]
    assert lines[3].startswith(f"{bad}: teams signing keys: signing keys unavailable: ")
    assert "xoxb-wrong" not in err


def server_limits(url: str) -> tuple[int, int]:
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        most = connection.execute(sa.text("SHOW max_connections")).scalar_one()
        reserved = connection.execute(sa.text("SHOW superuser_reserved_connections")).scalar_one()
    engine.dispose()
    return int(most), int(reserved)


@pytest.mark.postgres
async def test_online_names_a_pool_the_server_cannot_admit(
    tmp_path: Path, postgres_url: str, encryption_key: str
) -> None:
    data = {
        "database_url": postgres_url,
        "encryption_key": "env:GATEPASS_ENCRYPTION_KEY",
        "database_pool": {"size": 400, "overflow": 0},
    }
    path = tmp_path / "gatepass.yml"
    path.write_text(yaml.safe_dump(data))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "TEAMS_"))}
    env |= {"PYTHONPATH": str(ROOT), "GATEPASS_ENCRYPTION_KEY": encryption_key}
    env.pop("GATEPASS_DATABASE_URL", None)
    most, reserved = server_limits(postgres_url)
    code, out, err = await check_online(path, env)
    assert code == 1 and "Traceback" not in err, (out, err)
    assert err.strip().splitlines() == [
        f"{path}: database connections: PostgreSQL admits 0 gatepass process(es) at their "
        f"busiest: max_connections {most}, {reserved} reserved; each process opens up to 401 "
        "(database_pool size 400 + overflow 0 + 1 listener): lower database_pool or raise "
        "PostgreSQL's max_connections"
    ]
    data["database_pool"] = {"size": 10, "overflow": 10}
    path.write_text(yaml.safe_dump(data))
    code, out, err = await check_online(path, env)
    assert code == 0, (out, err)
