"""What an Atlas integration can grant on, with the tags owner routing reads.

Database kind: the project (tags, the owners' fallback), the configured cluster, and its
databases as the monitoring API sees them (the Admin API cannot list live collections).
Portal kind: the organization and its projects.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from typing import Any, Final
from urllib.parse import parse_qs, urlsplit

from core.config.schema import AtlasDatabaseIntegration, AtlasPortalIntegration
from core.domain.ports import ConnectionDetails, DiscoveredResource, IntegrationError
from core.integrations.atlas.client import AtlasClient, Version, segment

log = logging.getLogger("gatepass.atlas")

SYSTEM_DATABASES: Final = frozenset({"admin", "local", "config"})
_DEPLOYMENT = re.compile(r"^(?P<prefix>.+?)-(?:shard|config|mongos)-\d+-\d+$")
_REPLICA_SET = re.compile(r"^(?P<prefix>.+?)-(?:shard|config)-\d+$")


def tags_of(item: Mapping[str, Any]) -> dict[str, str]:
    return {str(tag["key"]): str(tag["value"]) for tag in item.get("tags") or [] if "key" in tag}


class ClusterTypeMismatch(IntegrationError):
    """The configured ``cluster_type`` is not the cluster's type in Atlas (not retryable: the
    config must change)."""

    def __init__(self, *, cluster: str, actual: str, configured: str) -> None:
        super().__init__(
            f"cluster {cluster} is {actual} in Atlas but cluster_type says {configured}"
        )
        self.actual = actual
        self.configured = configured


def check_cluster_type(config: AtlasDatabaseIntegration, cluster: Mapping[str, Any]) -> None:
    """ClusterTypeMismatch when Atlas reports another ``clusterType`` than the config's."""
    actual = cluster.get("clusterType")
    if actual and actual != config.cluster_type:
        raise ClusterTypeMismatch(
            cluster=config.cluster_name, actual=str(actual), configured=config.cluster_type
        )


def sharded(cluster_type: str) -> bool:
    """SHARDED and GEOSHARDED (global) clusters are reached through mongos routers."""
    return cluster_type != "REPLICASET"


# --------------------------------------------------------------------------- database kind


async def discover_database(
    client: AtlasClient, config: AtlasDatabaseIntegration
) -> list[DiscoveredResource]:
    """The project, the configured cluster and its databases.

    Only the configured cluster is listed: it is the only one this integration's users are
    scoped to, so access on any other could not be granted.
    """
    project_path = f"/groups/{segment(config.project_id)}"
    project = await client.get(project_path, version=Version.GROUPS)
    project_resource = DiscoveredResource(
        type="project",
        name=str(project["name"]),
        external_id=config.project_id,
        tags=tags_of(project),
    )
    found = [project_resource]
    cluster = await _configured_cluster(client, config)
    try:
        check_cluster_type(config, cluster)
    except ClusterTypeMismatch as mismatch:
        log.warning("atlas %s: %s", config.name, mismatch)
        raise
    if "cluster" in config.discovery:
        found.append(cluster_resource(cluster, parent=project_resource.key))
    if "database" in config.discovery:
        found.extend(await _databases(client, config, cluster))
    if "collection" in config.discovery:
        log.info("atlas %s: collections cannot be listed through the Admin API", config.name)
    return found


async def _configured_cluster(
    client: AtlasClient, config: AtlasDatabaseIntegration
) -> dict[str, Any]:
    path = f"/groups/{segment(config.project_id)}/clusters"
    async for cluster in client.paginate(path, version=Version.CLUSTERS):
        if cluster.get("name") == config.cluster_name:
            return cluster
    raise IntegrationError(
        f"integration {config.name}: cluster {config.cluster_name} not found in project "
        f"{config.project_id}"
    )


def cluster_resource(cluster: Mapping[str, Any], *, parent: str) -> DiscoveredResource:
    strings = cluster.get("connectionStrings") or {}
    shard_optimized = sharded(str(cluster.get("clusterType") or "REPLICASET"))
    details = {
        "cluster_type": cluster.get("clusterType"),
        "state": cluster.get("stateName"),
        "mongodb_version": cluster.get("mongoDBVersion"),
        "paused": cluster.get("paused"),
        "connection_string": strings.get("standardSrv"),
        "private_endpoints": [
            {
                "endpoint_ids": [e.get("endpointId") for e in item.get("endpoints") or []],
                "connection_string": _endpoint_string(item, sharded=shard_optimized),
            }
            for item in strings.get("privateEndpoint") or []
        ],
    }
    return DiscoveredResource(
        type="cluster",
        name=str(cluster["name"]),
        external_id=cluster.get("id"),
        parent=parent,
        tags=tags_of(cluster),
        details=details,
    )


def private_endpoint_string(
    strings: Mapping[str, Any], endpoint_id: str, *, sharded: bool = False
) -> str | None:
    """The SRV string of the private endpoint whose ``endpoints[].endpointId`` matches; for a
    sharded cluster its shard-optimized one (``srvShardOptimizedConnectionString``) first."""
    for item in strings.get("privateEndpoint") or []:
        if any(e.get("endpointId") == endpoint_id for e in item.get("endpoints") or []):
            return _endpoint_string(item, sharded=sharded)
    return None


def connection_details(
    config: AtlasDatabaseIntegration, cluster: Mapping[str, Any], *, username: str
) -> ConnectionDetails:
    """How ``username`` connects: the cluster's SRV string, or the configured private
    endpoint's (for a sharded cluster, its shard-optimized string when Atlas offers one)."""
    strings = cluster.get("connectionStrings") or {}
    connection = strings.get("standardSrv") or strings.get("standard")
    notes: list[str] = []
    endpoint = config.private_endpoint_id
    if endpoint:
        private = private_endpoint_string(strings, endpoint, sharded=sharded(config.cluster_type))
        if private:
            connection = private
        else:
            notes.append(
                f"Private endpoint {endpoint} is not attached to cluster "
                f"{config.cluster_name}; this is the public connection string."
            )
    return ConnectionDetails(
        username=username,
        connection_string=connection,
        custom_access_details=config.custom_access_details,
        notes=tuple(notes),
    )


def _endpoint_string(item: Mapping[str, Any], *, sharded: bool) -> str | None:
    keys: tuple[str, ...] = ("srvConnectionString", "connectionString")
    if sharded:
        keys = ("srvShardOptimizedConnectionString", *keys)
    found = next((item[key] for key in keys if item.get(key)), None)
    return str(found) if found else None


async def _databases(
    client: AtlasClient, config: AtlasDatabaseIntegration, cluster: Mapping[str, Any]
) -> list[DiscoveredResource]:
    """Databases of the cluster, asking one process per replica set (100 calls/min budget)."""
    group = segment(config.project_id)
    processes = [
        process
        async for process in client.paginate(
            f"/groups/{group}/processes", version=Version.PROCESSES
        )
    ]
    names: set[str] = set()
    for process in one_per_replica_set(cluster_processes(processes, cluster)):
        path = f"/groups/{group}/processes/{segment(str(process['id']))}/databases"
        async for database in client.paginate(path, version=Version.PROCESSES):
            name = database.get("databaseName")
            if name and name not in SYSTEM_DATABASES:
                names.add(str(name))
    parent = f"cluster:{config.cluster_name}"
    return [DiscoveredResource(type="database", name=name, parent=parent) for name in sorted(names)]


def cluster_processes(
    processes: list[dict[str, Any]], cluster: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """The processes that belong to ``cluster``; all of them when that cannot be told.

    The cluster's standard connection string names its hosts (``<alias>:<port>``) and, for a
    replica set, its ``replicaSet``; a matching process reveals the deployment prefix
    (``atlas-abc123``) that every member of the cluster, shards and config servers included,
    shares.
    """
    hosts, replica_set = _standard_hosts(cluster)
    prefixes: set[str] = set()
    if replica_set and (match := _REPLICA_SET.match(replica_set)):
        prefixes.add(match["prefix"])
    for process in processes:
        names = {f"{process.get(key)}:{process.get('port')}" for key in ("userAlias", "hostname")}
        if names & hosts:
            prefixes.add(_prefix(str(process.get("hostname", "")).split(".", 1)[0]))
    members = [p for p in processes if _prefix_of(p) in prefixes]
    return members or processes


def one_per_replica_set(processes: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """One data-bearing process per replica set (a shard or the replica set), primary first."""
    chosen: dict[str, dict[str, Any]] = {}
    for process in processes:
        kind = str(process.get("typeName", ""))
        replica_set = process.get("replicaSetName")
        if not replica_set or kind.startswith("SHARD_CONFIG") or kind == "SHARD_MONGOS":
            continue
        current = chosen.get(replica_set)
        if current is None or (kind.endswith("PRIMARY") and not _is_primary(current)):
            chosen[replica_set] = process
    return [chosen[name] for name in sorted(chosen)]


def _is_primary(process: Mapping[str, Any]) -> bool:
    return str(process.get("typeName", "")).endswith("PRIMARY")


def _standard_hosts(cluster: Mapping[str, Any]) -> tuple[set[str], str | None]:
    standard = (cluster.get("connectionStrings") or {}).get("standard") or ""
    if not standard:
        return set(), None
    parts = urlsplit(standard)
    hosts = {host for host in parts.netloc.rsplit("@", 1)[-1].split(",") if host}
    replica_set = parse_qs(parts.query).get("replicaSet", [None])[0]
    return hosts, replica_set


def _prefix(label: str) -> str:
    match = _DEPLOYMENT.match(label)
    return match["prefix"] if match else label


def _prefix_of(process: Mapping[str, Any]) -> str:
    return _prefix(str(process.get("hostname", "")).split(".", 1)[0])


# --------------------------------------------------------------------------- portal kind


async def discover_portal(
    client: AtlasClient, config: AtlasPortalIntegration
) -> list[DiscoveredResource]:
    """The organization (Atlas organizations have no tags) and its projects, with tags."""
    org = await client.get(f"/orgs/{segment(config.organization_id)}", version=Version.ORGS)
    organization = DiscoveredResource(
        type="organization", name=str(org["name"]), external_id=config.organization_id
    )
    found = [organization] if "organization" in config.discovery else []
    if "project" in config.discovery:
        path = f"/orgs/{segment(config.organization_id)}/groups"
        async for group in client.paginate(path, version=Version.GROUPS):
            found.append(
                DiscoveredResource(
                    type="project",
                    name=str(group["name"]),
                    external_id=str(group["id"]),
                    parent=organization.key,
                    tags=tags_of(group),
                )
            )
    return found
