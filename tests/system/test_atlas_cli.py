"""`gatepass sync`, `resources list` and `check-config --online` as real commands against the
Atlas fake."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from core.domain.ports import SystemClock
from tests.fakes.atlas import PRIVATE_KEY, PROJECT_ID, FakeAtlas
from tests.system.test_atlas_through_core import config

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
async def atlas() -> AsyncIterator[FakeAtlas]:
    async with FakeAtlas(clock=SystemClock()) as fake:
        yield fake


async def gatepass(*args: str, env: dict[str, str]) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        *args,
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    return process.returncode or 0, out.decode(), err.decode()


def setup(
    tmp_path: Path, atlas: FakeAtlas, key: str, private_key: str = PRIVATE_KEY
) -> tuple[Path, dict[str, str]]:
    data: dict[str, Any] = config(atlas.url, f"sqlite+aiosqlite:///{tmp_path / 'gp.db'}")
    data["integrations"].append(
        {
            "name": "atlas-ui",
            "type": "mongodb-atlas-portal",
            "organization_id": "5f00c0ffee0123456789abcd",
            "atlas_url": atlas.url,
            "secret": {"public_key": "env:ATLAS_PUBLIC", "private_key": "env:ATLAS_PRIVATE"},
            "integration_owners": [{"attribute": "user", "value": "carol@example.com"}],
        }
    )
    path = tmp_path / "gatepass.yml"
    path.write_text(yaml.safe_dump(data))
    env = dict(
        os.environ, GATEPASS_KEY=key, ATLAS_PUBLIC="gpfakepublickey", ATLAS_PRIVATE=private_key
    )
    env.pop("GATEPASS_DATABASE_URL", None)
    return path, env


async def test_sync_stores_clusters_databases_and_projects_with_tags(
    tmp_path: Path, atlas: FakeAtlas, encryption_key: str
) -> None:
    path, env = setup(tmp_path, atlas, encryption_key)
    code, _, err = await gatepass("db", "upgrade", "--config", str(path), env=env)
    assert code == 0, err
    code, out, err = await gatepass("sync", "--json", "--config", str(path), env=env)
    assert code == 0, err
    counts = {row["integration"]: row["resources"] for row in json.loads(out)}
    assert counts["prod-atlas"] >= 4 and counts["atlas-ui"] >= 3
    code, out, err = await gatepass("resources", "list", "--json", "--config", str(path), env=env)
    assert code == 0, err
    stored = {(r["integration"], r["type"], r["name"]): r for r in json.loads(out)}
    cluster = stored[("prod-atlas", "cluster", "Cluster0")]
    assert "owner=dba-oncall" in cluster["tags"]
    assert stored[("prod-atlas", "database", "analytics")]["parent"] == "cluster:Cluster0"
    assert ("prod-atlas", "database", "admin") not in stored
    project = stored[("atlas-ui", "project", "Sales")]
    assert project["id"] == PROJECT_ID and "owner=dba" in project["tags"]
    assert ("atlas-ui", "organization", "Gatepass-Test-Org") in stored
    code, out, _ = await gatepass("resources", "list", "--config", str(path), env=env)
    assert "Cluster0" in out and "TAGS" in out


async def test_check_config_online_names_the_integration_atlas_rejects(
    tmp_path: Path, atlas: FakeAtlas, encryption_key: str
) -> None:
    path, env = setup(tmp_path, atlas, encryption_key)
    code, out, err = await gatepass("check-config", "--online", "--config", str(path), env=env)
    assert code == 0, err
    path, env = setup(tmp_path, atlas, encryption_key, private_key="wrong-private-key")
    code, out, err = await gatepass("check-config", "--online", "--config", str(path), env=env)
    assert code == 1
    assert "integration prod-atlas:" in err and "rejected the API key" in err
    assert "integration atlas-ui:" in err
    assert "wrong-private-key" not in out + err
