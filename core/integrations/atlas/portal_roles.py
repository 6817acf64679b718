"""The roles of one Atlas UI member: organization roles and project roles by project id."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from core.config.schema import AtlasPortalIntegration
from core.domain import permissions
from core.domain.ports import AccessGrant, AccountState, IntegrationError
from core.integrations.atlas.client import AtlasClient, Version, segment


@dataclass
class RoleSet:
    """Organization roles and project roles (by project id) of one person."""

    org: set[str] = field(default_factory=set)
    projects: dict[str, set[str]] = field(default_factory=dict)

    @classmethod
    def of_user(cls, user: dict[str, Any]) -> RoleSet:
        roles = user.get("roles") or {}
        projects: dict[str, set[str]] = {}
        for item in roles.get("groupRoleAssignments") or []:
            projects.setdefault(str(item["groupId"]), set()).update(item.get("groupRoles") or [])
        return cls(org=set(roles.get("orgRoles") or []), projects=projects)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RoleSet:
        projects = {gid: set(roles) for gid, roles in (data.get("projects") or {}).items()}
        return cls(org=set(data.get("org") or []), projects=projects)

    def to_json(self) -> dict[str, Any]:
        return {
            "org": sorted(self.org),
            "projects": {gid: sorted(roles) for gid, roles in sorted(self.projects.items())},
        }

    def add(self, project: str | None, role: str) -> None:
        if project is None:
            self.org.add(role)
        else:
            self.projects.setdefault(project, set()).add(role)

    def holds(self, project: str | None, role: str) -> bool:
        return role in (self.org if project is None else self.projects.get(project, set()))


def pre_existing(account: AccountState | None, user: dict[str, Any]) -> RoleSet:
    """What the person held before Gatepass: remembered, or (first time) what they hold now."""
    if account is not None and "pre_existing" in account.extra:
        return RoleSet.from_json(account.extra["pre_existing"])
    if account is not None and account.created_by_gatepass:
        return RoleSet()
    return RoleSet.of_user(user)


async def roles_of(
    client: AtlasClient, config: AtlasPortalIntegration, grants: Sequence[AccessGrant]
) -> RoleSet:
    """The union of the roles ``grants`` give."""
    roles = RoleSet()
    for grant in grants:
        roles.add(*await target_of(client, config, grant))
    return roles


async def target_of(
    client: AtlasClient, config: AtlasPortalIntegration, grant: AccessGrant
) -> tuple[str | None, str]:
    """``(None, ORG_ROLE)`` or ``(project_id, GROUP_ROLE)`` for one grant."""
    kind, role = grant.resource.type, grant.permission
    if not permissions.permission_applies(permissions.ATLAS_PORTAL, kind, role):
        raise IntegrationError(f"{role!r} cannot be granted on a {kind} (grant {grant.grant_id})")
    if kind == "organization":
        external = grant.resource.external_id
        if external and external != config.organization_id:
            raise IntegrationError(
                f"integration {config.name} manages organization "
                f"{config.organization_id}, not {external}"
            )
        return None, role
    if grant.resource.external_id:
        return grant.resource.external_id, role
    return await _project_id(client, config, grant.resource.name), role


async def _project_id(client: AtlasClient, config: AtlasPortalIntegration, name: str) -> str:
    path = f"/orgs/{segment(config.organization_id)}/groups"
    async for group in client.paginate(path, version=Version.GROUPS, params={"name": name}):
        if group.get("name") == name:
            return str(group["id"])
    raise IntegrationError(f"integration {config.name}: no project named {name!r}")
