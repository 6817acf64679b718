"""Discovery: the project, the cluster and its databases (database kind); the organization and
its projects (portal kind), with the tags owner routing reads."""

from __future__ import annotations

import pytest

from core.domain.ports import DiscoveredResource, IntegrationError
from tests.fakes.atlas import CLUSTER_NAME, ORG_ID, OTHER_PROJECT_ID, PROJECT_ID, FakeAtlas


def by_key(found: list[DiscoveredResource]) -> dict[str, DiscoveredResource]:
    return {item.key: item for item in found}


async def test_database_discovery_returns_project_cluster_and_databases_with_tags(
    database, atlas: FakeAtlas
) -> None:
    found = by_key(await database.discover())

    assert set(found) == {
        "project:Sales",
        f"cluster:{CLUSTER_NAME}",
        "database:analytics",
        "database:sales",
    }
    project = found["project:Sales"]
    assert project.external_id == PROJECT_ID and project.tags == {"owner": "dba", "env": "prod"}
    cluster = found[f"cluster:{CLUSTER_NAME}"]
    assert cluster.parent == "project:Sales"
    assert cluster.tags == {"owner": "dba-oncall"}
    srv = atlas.clusters[PROJECT_ID][CLUSTER_NAME]["connectionStrings"]["standardSrv"]
    assert cluster.details["cluster_type"] == "REPLICASET"
    assert cluster.details["connection_string"] == srv
    assert found["database:analytics"].parent == f"cluster:{CLUSTER_NAME}"


async def test_databases_are_read_from_one_process_of_the_replica_set(
    database, atlas: FakeAtlas
) -> None:
    atlas.add_cluster("Other0", databases=("secret-other",))

    found = by_key(await database.discover())

    assert "database:secret-other" not in found
    assert "database:admin" not in found and "database:local" not in found
    asked = atlas.calls("GET", "/databases")
    assert len(asked) == 1
    primary = next(p for p in atlas.processes[PROJECT_ID] if p["typeName"] == "REPLICA_PRIMARY")
    assert asked[0].path.endswith(primary["id"].replace(":", "%3A") + "/databases")


async def test_sharded_clusters_are_read_once_per_shard_and_deduplicated(
    atlas: FakeAtlas, integrations, db_config
) -> None:
    atlas.add_cluster(
        "Shard0", cluster_type="SHARDED", shards=2, databases=("events",), tags={"owner": "sre"}
    )
    atlas.add_database("Shard0", "shard-one-only", shard=1)
    database = integrations(db_config(cluster_name="Shard0", cluster_type="SHARDED"))

    found = by_key(await database.discover())

    databases = sorted(k for k in found if k.startswith("database:"))
    assert databases == ["database:events", "database:shard-one-only"]
    asked = atlas.calls("GET", "/databases")
    assert len(asked) == 2  # one per shard: no config servers, no mongos, no other cluster
    assert all("-shard-" in r.path and ("%3A27017" in r.path) for r in asked)
    assert found["cluster:Shard0"].details["cluster_type"] == "SHARDED"


async def test_discovery_honours_the_configured_kinds(
    integrations, db_config, atlas: FakeAtlas
) -> None:
    database = integrations(db_config(discovery=("cluster",)))

    found = by_key(await database.discover())

    assert set(found) == {"project:Sales", f"cluster:{CLUSTER_NAME}"}
    assert atlas.calls("GET", "/processes") == []


async def test_a_missing_cluster_is_a_clear_discovery_error(integrations, db_config) -> None:
    database = integrations(db_config(cluster_name="Gone"))

    with pytest.raises(IntegrationError, match="cluster Gone not found"):
        await database.discover()


async def test_private_endpoints_appear_in_cluster_details(
    atlas: FakeAtlas, integrations, db_config
) -> None:
    atlas.add_cluster(
        "Private0", private_endpoints=[("vpce-0aaa", "mongodb+srv://private0-pl-0.x.mongo.fake")]
    )
    database = integrations(db_config(cluster_name="Private0", discovery=("cluster",)))

    found = by_key(await database.discover())

    assert found["cluster:Private0"].details["private_endpoints"] == [
        {
            "endpoint_ids": ["vpce-0aaa"],
            "connection_string": "mongodb+srv://private0-pl-0.x.mongo.fake",
        }
    ]


async def test_portal_discovery_returns_the_organization_and_its_projects(
    portal, atlas: FakeAtlas
) -> None:
    atlas.add_project("64b0c0ffee0123456789abcf", "Marketing", tags={"owner": "growth"})

    found = by_key(await portal.discover())

    assert set(found) == {
        "organization:Gatepass-Test-Org",
        "project:Sales",
        "project:Analytics",
        "project:Marketing",
    }
    assert found["organization:Gatepass-Test-Org"].external_id == ORG_ID
    analytics = found["project:Analytics"]
    assert analytics.external_id == OTHER_PROJECT_ID
    assert analytics.parent == "organization:Gatepass-Test-Org"
    assert analytics.tags == {"owner": "data-eng"}
    assert found["project:Marketing"].tags == {"owner": "growth"}
