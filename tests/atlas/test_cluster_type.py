"""``cluster_type`` is checked against the cluster Atlas reports (check, discovery) and used
where Atlas differs: a sharded cluster's private endpoint is reached through its shard-optimized
SRV string."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from core.config.schema import AtlasDatabaseIntegration
from core.integrations.atlas.discovery import ClusterTypeMismatch
from tests.fakes.atlas import PROJECT_ID, FakeAtlas

MakeConfig = Callable[..., AtlasDatabaseIntegration]
MISMATCH = "cluster Cluster0 is REPLICASET in Atlas but cluster_type says GEOSHARDED"


async def test_check_names_the_configured_and_the_real_type(
    integrations: Callable[..., Any], db_config: MakeConfig
) -> None:
    database = integrations(db_config(cluster_type="GEOSHARDED"))

    with pytest.raises(ClusterTypeMismatch) as raised:
        await database.check()

    assert str(raised.value) == MISMATCH
    assert not raised.value.retryable


async def test_discovery_refuses_a_wrong_cluster_type(
    integrations: Callable[..., Any], db_config: MakeConfig, atlas: FakeAtlas
) -> None:
    database = integrations(db_config(cluster_type="SHARDED"))

    with pytest.raises(ClusterTypeMismatch, match="is REPLICASET in Atlas but cluster_type says"):
        await database.discover()

    assert atlas.calls("GET", "/processes") == []  # stopped before asking for databases


async def test_a_matching_sharded_type_passes_check_and_discovery(
    integrations: Callable[..., Any], db_config: MakeConfig, atlas: FakeAtlas
) -> None:
    atlas.add_cluster("Global0", cluster_type="GEOSHARDED", shards=2, databases=("events",))
    database = integrations(db_config(cluster_name="Global0", cluster_type="GEOSHARDED"))

    await database.check()
    found = {item.key for item in await database.discover()}

    assert {"cluster:Global0", "database:events"} <= found


def sharded_with_endpoint(atlas: FakeAtlas, cluster_type: str) -> dict[str, Any]:
    cluster: dict[str, Any] = atlas.add_cluster(
        "Shard0",
        cluster_type=cluster_type,
        shards=2,
        private_endpoints=[("vpce-0aaa", "mongodb+srv://shard0-pl-0.abcd.mongo.fake")],
    )
    return cluster


@pytest.mark.parametrize("cluster_type", ["SHARDED", "GEOSHARDED"])
async def test_a_sharded_cluster_gets_the_shard_optimized_private_endpoint_string(
    integrations: Callable[..., Any],
    db_config: MakeConfig,
    atlas: FakeAtlas,
    make_grant: Callable[..., Any],
    cluster_type: str,
) -> None:
    sharded_with_endpoint(atlas, cluster_type)
    database = integrations(
        db_config(cluster_name="Shard0", cluster_type=cluster_type, private_endpoint_id="vpce-0aaa")
    )
    grant = make_grant("database", "analytics", "read")

    result = await database.grant(grant, active=[grant], account=None)

    assert result.connection.connection_string == "mongodb+srv://shard0-pl-0-lb.abcd.mongo.fake"
    assert result.connection.notes == ()
    listed = atlas.clusters[PROJECT_ID]["Shard0"]["connectionStrings"]["privateEndpoint"][0]
    assert listed["srvShardOptimizedConnectionString"] == result.connection.connection_string


async def test_a_sharded_cluster_without_the_optimized_string_uses_the_srv_one(
    integrations: Callable[..., Any],
    db_config: MakeConfig,
    atlas: FakeAtlas,
    make_grant: Callable[..., Any],
) -> None:
    cluster = sharded_with_endpoint(atlas, "SHARDED")
    del cluster["connectionStrings"]["privateEndpoint"][0]["srvShardOptimizedConnectionString"]
    database = integrations(
        db_config(cluster_name="Shard0", cluster_type="SHARDED", private_endpoint_id="vpce-0aaa")
    )
    grant = make_grant("database", "analytics", "read")

    result = await database.grant(grant, active=[grant], account=None)

    assert result.connection.connection_string == "mongodb+srv://shard0-pl-0.abcd.mongo.fake"


async def test_sharded_discovery_records_the_shard_optimized_endpoint_string(
    integrations: Callable[..., Any], db_config: MakeConfig, atlas: FakeAtlas
) -> None:
    sharded_with_endpoint(atlas, "SHARDED")
    database = integrations(
        db_config(cluster_name="Shard0", cluster_type="SHARDED", discovery=("cluster",))
    )

    found = {item.key: item for item in await database.discover()}

    assert found["cluster:Shard0"].details["private_endpoints"] == [
        {
            "endpoint_ids": ["vpce-0aaa"],
            "connection_string": "mongodb+srv://shard0-pl-0-lb.abcd.mongo.fake",
        }
    ]
