"""A ``cluster_type`` that is not the cluster's type in Atlas is named, in one line, by
``gatepass check-config --online`` and by ``gatepass sync`` (which then stores nothing)."""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from core.domain.ports import SystemClock
from tests.fakes.atlas import PRIVATE_KEY, FakeAtlas
from tests.system.test_atlas_cli import gatepass
from tests.system.test_atlas_through_core import config

MISMATCH = "cluster Cluster0 is REPLICASET in Atlas but cluster_type says GEOSHARDED"


@pytest.fixture
async def atlas() -> AsyncIterator[FakeAtlas]:
    async with FakeAtlas(clock=SystemClock()) as fake:
        yield fake


def setup(
    tmp_path: Path, atlas: FakeAtlas, key: str, **options: Any
) -> tuple[Path, dict[str, str]]:
    data = config(atlas.url, f"sqlite+aiosqlite:///{tmp_path / 'gp.db'}", **options)
    path = tmp_path / "gatepass.yml"
    path.write_text(yaml.safe_dump(data))
    env = dict(
        os.environ, GATEPASS_KEY=key, ATLAS_PUBLIC="gpfakepublickey", ATLAS_PRIVATE=PRIVATE_KEY
    )
    env.pop("GATEPASS_DATABASE_URL", None)
    return path, env


async def test_check_config_online_names_a_wrong_cluster_type(
    tmp_path: Path, atlas: FakeAtlas, encryption_key: str
) -> None:
    path, env = setup(tmp_path, atlas, encryption_key, cluster_type="GEOSHARDED")

    code, out, err = await gatepass("check-config", "--online", "--config", str(path), env=env)

    assert code == 1, out
    assert err.strip().splitlines() == [f"{path}: integration prod-atlas: {MISMATCH}"]


async def test_check_config_online_passes_with_the_real_cluster_type(
    tmp_path: Path, atlas: FakeAtlas, encryption_key: str
) -> None:
    path, env = setup(tmp_path, atlas, encryption_key, cluster_type="REPLICASET")

    code, _, err = await gatepass("check-config", "--online", "--config", str(path), env=env)

    assert code == 0, err


async def test_sync_names_a_wrong_cluster_type_and_stores_nothing(
    tmp_path: Path, atlas: FakeAtlas, encryption_key: str
) -> None:
    path, env = setup(tmp_path, atlas, encryption_key, cluster_type="GEOSHARDED")
    code, _, err = await gatepass("db", "upgrade", "--config", str(path), env=env)
    assert code == 0, err

    code, out, err = await gatepass("sync", "--config", str(path), env=env)

    assert code == 1
    assert f"prod-atlas: {MISMATCH}" in err.strip().splitlines()
    assert "Traceback" not in err
    code, out, err = await gatepass("resources", "list", "--json", "--config", str(path), env=env)
    assert code == 0, err
    assert json.loads(out) == []
