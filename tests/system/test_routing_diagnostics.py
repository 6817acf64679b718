"""``gatepass approvers-for`` against the Atlas fake: before a sync it says to run
``gatepass sync`` first; after it, an owner tag that matches nobody in the directory is told
apart from no owner tag at all, in the reason the integration owners are given."""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import yaml

from core.domain.ports import SystemClock
from tests.fakes.atlas import CLUSTER_NAME, PRIVATE_KEY, PROJECT_ID, FakeAtlas
from tests.system.test_atlas_cli import gatepass
from tests.system.test_atlas_through_core import config


@pytest.fixture
async def atlas() -> AsyncIterator[FakeAtlas]:
    async with FakeAtlas(clock=SystemClock()) as fake:
        yield fake


def setup(tmp_path: Path, atlas: FakeAtlas, key: str) -> tuple[Path, dict[str, str]]:
    data = config(atlas.url, f"sqlite+aiosqlite:///{tmp_path / 'gp.db'}")
    path = tmp_path / "gatepass.yml"
    path.write_text(yaml.safe_dump(data))
    env = dict(
        os.environ, GATEPASS_KEY=key, ATLAS_PUBLIC="gpfakepublickey", ATLAS_PRIVATE=PRIVATE_KEY
    )
    env.pop("GATEPASS_DATABASE_URL", None)
    return path, env


async def approvers_for(path: Path, env: dict[str, str], resource: str) -> tuple[int, str, str]:
    return await gatepass(
        "approvers-for",
        "--requester",
        "alice@example.com",
        "--integration",
        "prod-atlas",
        "--resource",
        resource,
        "--permission",
        "read",
        "--json",
        "--config",
        str(path),
        env=env,
    )


def set_owner_tag(atlas: FakeAtlas, value: str | None) -> None:
    """The cluster's owner tag (the project's is taken away, so the cluster's alone counts)."""
    cluster = atlas.clusters[PROJECT_ID][CLUSTER_NAME]
    cluster["tags"] = [] if value is None else [{"key": "owner", "value": value}]
    project = atlas.projects[PROJECT_ID]
    project["tags"] = [t for t in project["tags"] if t["key"] != "owner"]


async def test_before_a_sync_approvers_for_says_to_sync_first(
    tmp_path: Path, atlas: FakeAtlas, encryption_key: str
) -> None:
    path, env = setup(tmp_path, atlas, encryption_key)
    code, _, err = await gatepass("db", "upgrade", "--config", str(path), env=env)
    assert code == 0, err

    code, out, err = await approvers_for(path, env, "database:analytics")

    assert code == 1, out
    assert "prod-atlas has no discovered resources yet" in out + err
    assert "run `gatepass sync` first" in out + err
    assert "Traceback" not in err

    code, _, err = await gatepass("sync", "--config", str(path), env=env)
    assert code == 0, err
    code, out, err = await approvers_for(path, env, "database:not-there")
    assert code == 1
    assert "database not-there is not among the resources discovered in prod-atlas" in out + err
    assert "run `gatepass sync` first if it is new" in out + err


async def test_an_owner_tag_matching_nobody_is_told_apart_from_no_owner_tag(
    tmp_path: Path, atlas: FakeAtlas, encryption_key: str
) -> None:
    path, env = setup(tmp_path, atlas, encryption_key)
    code, _, err = await gatepass("db", "upgrade", "--config", str(path), env=env)
    assert code == 0, err

    set_owner_tag(atlas, "team-gone")
    code, _, err = await gatepass("sync", "--config", str(path), env=env)
    assert code == 0, err
    code, out, err = await approvers_for(path, env, "database:analytics")
    assert code == 0, err
    assert [(a["email"], a["reason"]) for a in json.loads(out)["approvers"]] == [
        (
            "carol@example.com",
            "integration owner of prod-atlas (owner tag owner=team-gone on cluster Cluster0 "
            "matches nobody in the directory; falling back to the integration owners)",
        )
    ]

    set_owner_tag(atlas, None)
    code, _, err = await gatepass("sync", "--config", str(path), env=env)
    assert code == 0, err
    code, out, err = await approvers_for(path, env, "database:analytics")
    assert code == 0, err
    assert [a["reason"] for a in json.loads(out)["approvers"]] == [
        "integration owner of prod-atlas (no owner tag owner on database analytics or its "
        "parents; falling back to the integration owners)"
    ]
