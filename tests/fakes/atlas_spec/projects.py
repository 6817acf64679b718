"""The fake's projects side: organizations, projects, clusters, processes, databases and
database users, with the rules Atlas enforces on them."""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final

from tests.fakes.atlas_spec.contract import template
from tests.fakes.atlas_spec.state import AtlasState, Handled, iso, object_id
from tests.fakes.atlas_spec.wire import ApiError

SYSTEM_DATABASES: Final = ("admin", "config", "local")


def _tags(tags: Mapping[str, str] | None) -> list[dict[str, str]]:
    return [{"key": key, "value": value} for key, value in (tags or {}).items()]


def _private_endpoint(endpoint: str, srv: str, cluster_type: str) -> dict[str, Any]:
    """One ``connectionStrings.privateEndpoint[]`` entry as Atlas lists it: a sharded cluster's
    also carries the shard-optimized SRV string (its load-balanced ``-lb`` host)."""
    item: dict[str, Any] = {
        "connectionString": srv.replace("mongodb+srv://", "mongodb://"),
        "endpoints": [{"endpointId": endpoint, "providerName": "AWS", "region": "US_EAST_1"}],
        "srvConnectionString": srv,
        "type": "MONGOS" if cluster_type != "REPLICASET" else "MONGOD",
    }
    if cluster_type != "REPLICASET":
        host, dot, domain = srv.removeprefix("mongodb+srv://").partition(".")
        item["srvShardOptimizedConnectionString"] = f"mongodb+srv://{host}-lb{dot}{domain}"
    return item


class ProjectRules(AtlasState):
    # ------------------------------------------------------------------ seeding

    def add_org(self, org_id: str, name: str) -> dict[str, Any]:
        org = template("orgs_list_200.http")
        org.update(id=org_id, name=name, links=self.links(f"/orgs/{org_id}"))
        self.orgs[org_id] = org
        self.org_users.setdefault(org_id, {})
        return org

    def add_project(
        self,
        group_id: str,
        name: str,
        *,
        org_id: str | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        group = template("group_patch_tags_200.http")
        group.update(
            id=group_id,
            name=name,
            orgId=org_id or next(iter(self.orgs)),
            tags=_tags(tags),
            clusterCount=0,
            created=iso(self.now()),
            links=self.links(f"/groups/{group_id}"),
        )
        self.projects[group_id] = group
        self.clusters.setdefault(group_id, {})
        self.processes.setdefault(group_id, [])
        self.users.setdefault(group_id, {})
        return group

    def add_cluster(
        self,
        name: str,
        *,
        group_id: str | None = None,
        tags: Mapping[str, str] | None = None,
        cluster_type: str = "REPLICASET",
        shards: int = 1,
        private_endpoints: Sequence[tuple[str, str]] = (),
        databases: Iterable[str] = (),
    ) -> dict[str, Any]:
        """A cluster with its processes; ``private_endpoints`` are (endpoint id, SRV string)."""
        group = group_id or next(iter(self.projects))
        deployment, domain = f"atlas-{secrets.token_hex(3)}", f"{secrets.token_hex(3)}.mongo.fake"
        alias = name.lower()
        members = self._members(group, deployment, alias, domain, cluster_type, shards)
        listed = [
            p for p in members if cluster_type == "REPLICASET" or p["typeName"] == "SHARD_MONGOS"
        ]
        hosts = ",".join(f"{p['userAlias']}:{p['port']}" for p in listed)
        standard = f"mongodb://{hosts}/?ssl=true&authSource=admin"
        if cluster_type == "REPLICASET":
            standard += f"&replicaSet={deployment}-shard-0"
        cluster = template("cluster_get_2024-08-05_200.http")
        cluster.update(
            id=object_id(),
            name=name,
            groupId=group,
            clusterType=cluster_type,
            stateName="IDLE",
            tags=_tags(tags),
            links=self.links(f"/groups/{group}/clusters/{name}"),
            connectionStrings={
                "standard": standard,
                "standardSrv": f"mongodb+srv://{alias}.{domain}",
                "privateEndpoint": [
                    _private_endpoint(endpoint, srv, cluster_type)
                    for endpoint, srv in private_endpoints
                ],
            },
        )
        self.clusters[group][name] = cluster
        self.processes[group].extend(members)
        self.projects[group]["clusterCount"] = len(self.clusters[group])
        for process in members:
            kind = process["typeName"]
            self.databases[process["id"]] = list(
                SYSTEM_DATABASES[:2] if kind == "SHARD_MONGOS" else SYSTEM_DATABASES
            )
        for database in databases:
            self.add_database(name, database, group_id=group)
        return cluster

    def _members(
        self, group: str, deployment: str, alias: str, domain: str, cluster_type: str, shards: int
    ) -> list[dict[str, Any]]:
        """The cluster's processes in Atlas's order: a replica set's three members; or each
        shard's members, then the config servers, each followed by a mongos router."""
        if cluster_type == "REPLICASET":
            return self._replica_set_members(group, deployment, alias, domain)
        found = self._shard_members(group, deployment, alias, domain, shards)
        found.extend(self._config_and_router_members(group, deployment, alias, domain))
        return found

    def _replica_set_members(
        self, group: str, deployment: str, alias: str, domain: str
    ) -> list[dict[str, Any]]:
        return [
            self._process(
                group,
                domain,
                f"{deployment}-shard-00-0{i}",
                f"{alias}-shard-00-0{i}",
                27017,
                f"{deployment}-shard-0",
                "REPLICA_PRIMARY" if i == 0 else "REPLICA_SECONDARY",
            )
            for i in range(3)
        ]

    def _shard_members(
        self, group: str, deployment: str, alias: str, domain: str, shards: int
    ) -> list[dict[str, Any]]:
        return [
            self._process(
                group,
                domain,
                f"{deployment}-shard-{shard:02d}-0{i}",
                f"{alias}-shard-{shard:02d}-0{i}",
                27017,
                f"{deployment}-shard-{shard}",
                "SHARD_PRIMARY" if i == 0 else "SHARD_SECONDARY",
            )
            for shard in range(shards)
            for i in range(3)
        ]

    def _config_and_router_members(
        self, group: str, deployment: str, alias: str, domain: str
    ) -> list[dict[str, Any]]:
        """The three config servers, each followed by a mongos router (no replica set)."""
        found: list[dict[str, Any]] = []
        for i in range(3):
            found.append(
                self._process(
                    group,
                    domain,
                    f"{deployment}-config-00-0{i}",
                    f"{alias}-config-00-0{i}",
                    27017,
                    f"{deployment}-config-0",
                    "SHARD_CONFIG_PRIMARY" if i == 0 else "SHARD_CONFIG_SECONDARY",
                )
            )
            found.append(
                self._process(
                    group,
                    domain,
                    f"{deployment}-shard-00-0{i}",
                    f"{alias}-shard-00-0{i}",
                    27016,
                    None,
                    "SHARD_MONGOS",
                )
            )
        return found

    def _process(
        self,
        group: str,
        domain: str,
        host: str,
        alias_host: str,
        port: int,
        replica_set: str | None,
        kind: str,
    ) -> dict[str, Any]:
        """One process as ``processes`` lists it; a mongos router has no ``replicaSetName``."""
        process = template("processes_list_200.http")
        pid = f"{host}.{domain}:{port}"
        process.update(
            created=iso(self.now()),
            lastPing=iso(self.now()),
            groupId=group,
            hostname=f"{host}.{domain}",
            id=pid,
            port=port,
            replicaSetName=replica_set,
            typeName=kind,
            userAlias=f"{alias_host}.{domain}",
            links=self.links(f"/groups/{group}/processes/{pid}"),
        )
        if replica_set is None:
            del process["replicaSetName"]
        return process

    def add_database(
        self, cluster: str, database: str, *, group_id: str | None = None, shard: int | None = None
    ) -> None:
        """``database`` on every data-bearing member of ``cluster`` (or of one shard)."""
        group = group_id or next(iter(self.projects))
        deployment = self._deployment(group, cluster)
        for process in self.processes[group]:
            kind = process["typeName"]
            in_shard = shard is None or process.get("replicaSetName", "").endswith(
                f"-shard-{shard}"
            )
            if (
                process["hostname"].startswith(deployment)
                and "CONFIG" not in kind
                and kind != "SHARD_MONGOS"
                and in_shard
            ):
                self.databases[process["id"]].append(database)

    def _deployment(self, group: str, cluster: str) -> str:
        standard = self.cluster(group, cluster)["connectionStrings"]["standard"]
        alias_host = standard.removeprefix("mongodb://").split(",", 1)[0].split(":", 1)[0]
        for process in self.processes[group]:
            if process["userAlias"] == alias_host:
                return process["hostname"].split("-shard-", 1)[0]
        raise LookupError(cluster)

    # ------------------------------------------------------------------ orgs, projects, clusters

    def op_getSystemStatus(
        self, params: dict[str, str], query: dict[str, str], body: Any
    ) -> Handled:
        return 200, {
            "apiKey": {"accessList": [], "id": object_id(), "roles": []},
            "appName": "MongoDB Atlas",
            "build": "gatepass-fake",
            "throttling": False,
        }

    def op_getOrg(self, params: dict[str, str], query: dict[str, str], body: Any) -> Handled:
        return 200, self.org(params["orgId"])

    def op_getOrgGroups(self, params: dict[str, str], query: dict[str, str], body: Any) -> Handled:
        self.org(params["orgId"])
        groups = [g for g in self.projects.values() if g["orgId"] == params["orgId"]]
        if "name" in query:
            groups = [g for g in groups if g["name"] == query["name"]]
        rest = {k: v for k, v in query.items() if k != "name"}
        return 200, self.page(groups, rest, f"/orgs/{params['orgId']}/groups")

    def op_getGroup(self, params: dict[str, str], query: dict[str, str], body: Any) -> Handled:
        return 200, self.project(params["groupId"])

    def op_listGroupClusters(
        self, params: dict[str, str], query: dict[str, str], body: Any
    ) -> Handled:
        self.project(params["groupId"])
        clusters = list(self.clusters[params["groupId"]].values())
        return 200, self.page(clusters, query, f"/groups/{params['groupId']}/clusters")

    def op_getGroupCluster(
        self, params: dict[str, str], query: dict[str, str], body: Any
    ) -> Handled:
        return 200, self.cluster(params["groupId"], params["clusterName"])

    def op_getGroupClusterStatus(
        self, params: dict[str, str], query: dict[str, str], body: Any
    ) -> Handled:
        group = params["groupId"]
        self.cluster(group, params["clusterName"])
        pending = self.status_polls.get(group, 0)
        self.status_polls[group] = max(0, pending - 1)
        status = "PENDING" if pending > 0 else "APPLIED"
        return 200, {
            "changeStatus": status,
            "links": self.links(f"/groups/{group}/clusters/{params['clusterName']}/status"),
        }

    def op_listGroupProcesses(
        self, params: dict[str, str], query: dict[str, str], body: Any
    ) -> Handled:
        self.project(params["groupId"])
        return 200, self.page(
            self.processes[params["groupId"]], query, f"/groups/{params['groupId']}/processes"
        )

    def op_listGroupProcessDatabases(
        self, params: dict[str, str], query: dict[str, str], body: Any
    ) -> Handled:
        group, process = params["groupId"], params["processId"]
        self.project(group)
        if process not in self.databases:
            raise ApiError(
                404,
                "HOSTNAME_AND_PORT_NOT_FOUND",
                f"No host with hostname and port {process} exists in group {group}.",
                parameters=[process, group],
            )
        path = f"/groups/{group}/processes/{process}/databases"
        items = [
            {"databaseName": name, "links": self.links(f"{path}/{name}")}
            for name in self.databases[process]
        ]
        return 200, self.page(items, query, path)
