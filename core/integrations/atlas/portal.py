"""Atlas UI access (integration type ``mongodb-atlas-portal``): organization roles (ORG_*) and
project roles (GROUP_*) through the 2025-02-19 organization and project users endpoints.

Atlas never expires UI access, so revoking is Gatepass's job; it removes only what Gatepass
added: roles another active grant still covers stay, roles the person held before Gatepass
(remembered in ``AccountState.extra["pre_existing"]``) stay, a membership is deleted only when
Gatepass created it (an invitation), and the organization's last owner is never removed.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from core.config.schema import AtlasPortalIntegration
from core.domain import permissions
from core.domain.ports import (
    AccessGrant,
    AccountState,
    Clock,
    ConnectionDetails,
    DiscoveredResource,
    GrantResult,
    IntegrationError,
    ManagedAccess,
    RevokeResult,
)
from core.integrations.atlas.client import AtlasClient, Version, segment
from core.integrations.atlas.discovery import discover_portal
from core.integrations.atlas.errors import AtlasConflict, AtlasNotFound
from core.integrations.atlas.grants import excluding, including

log = logging.getLogger("gatepass.atlas")

ORG_OWNER: Final = "ORG_OWNER"
ORG_MEMBER: Final = "ORG_MEMBER"
MEMBER_STATUSES: Final = frozenset({"ACTIVE", "PENDING"})
INVITATION_NOTE: Final = (
    "Atlas emailed you an invitation to the organization: accept it within 30 days to use "
    "this access."
)


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


class AtlasPortalAccess:
    """Implements ``core.domain.ports.Integration`` for Atlas UI roles in one organization.

    ``AccountState.username`` is the person's Atlas username (their email);
    ``AccountState.extra`` holds ``user_id`` and ``pre_existing`` (``{"org": [...],
    "projects": {group_id: [...]}}``, the roles held before Gatepass first granted).
    """

    def __init__(
        self, config: AtlasPortalIntegration, client: AtlasClient, *, clock: Clock
    ) -> None:
        self.name = config.name
        self.config = config
        self._client = client
        self._clock = clock

    async def aclose(self) -> None:
        await self._client.aclose()

    @property
    def _org(self) -> str:
        return f"/orgs/{segment(self.config.organization_id)}"

    # ------------------------------------------------------------------ Integration

    async def check(self) -> None:
        try:
            await self._client.get(self._org, version=Version.ORGS)
        except AtlasNotFound as error:
            raise IntegrationError(
                f"integration {self.name}: Atlas organization {self.config.organization_id} "
                f"not found (or the credentials cannot see it) ({error.error_code})"
            ) from None
        # Managing membership needs an organization-level role; a project key fails here.
        await self._client.get(
            f"{self._org}/users", version=Version.USERS, params={"itemsPerPage": 1}
        )

    async def discover(self) -> list[DiscoveredResource]:
        return await discover_portal(self._client, self.config)

    async def grant(
        self, grant: AccessGrant, *, active: Sequence[AccessGrant], account: AccountState | None
    ) -> GrantResult:
        wanted = await self._roles(including(grant, active))
        user = await self._find(grant.person)
        created = account.created_by_gatepass if account is not None else False
        if user is None:
            user, pre_existing, created = await self._invite(grant.person, wanted), RoleSet(), True
        else:
            pre_existing = _pre_existing(account, user)
            await self._add_missing(user, wanted)
        state = AccountState(
            username=grant.person,
            created_by_gatepass=created,
            extra={"user_id": str(user["id"]), "pre_existing": pre_existing.to_json()},
        )
        notes = (INVITATION_NOTE,) if user.get("orgMembershipStatus") == "PENDING" else ()
        return GrantResult(account=state, connection=await self._connection(grant, notes))

    async def ready(self, grant: AccessGrant, *, account: AccountState) -> bool:
        return True  # UI roles apply at once

    async def revoke(
        self,
        grant: AccessGrant,
        *,
        remaining: Sequence[AccessGrant],
        account: AccountState | None,
    ) -> RevokeResult:
        remaining = excluding(grant, remaining)
        user = await self._find(grant.person)
        if user is None:
            return RevokeResult(account=None)
        if account is not None and account.created_by_gatepass and not remaining:
            await self._remove_membership(user)
            return RevokeResult(account=None)
        keep = await self._roles(remaining)
        # Without a remembered snapshot nothing is known to predate Gatepass: the revoke wins.
        pre_existing = (
            RoleSet.from_json(account.extra["pre_existing"])
            if account is not None and "pre_existing" in account.extra
            else RoleSet()
        )
        for kept_project, kept_roles in pre_existing.projects.items():
            keep.projects.setdefault(kept_project, set()).update(kept_roles)
        keep.org |= pre_existing.org
        project, role = await self._target(grant)
        if project is None:
            await self._remove_org_role(user, role, keep)
        else:
            await self._remove_project_role(user, project, role, keep)
        return RevokeResult(account=account)

    async def refresh(
        self, person: str, *, active: Sequence[AccessGrant], account: AccountState
    ) -> GrantResult | None:
        return None  # Atlas UI access has no expiry date to push and no password to rotate

    async def cleanup(self, person: str, *, account: AccountState) -> None:
        return None  # revoke never leaves a disabled membership behind

    async def list_managed(self) -> list[ManagedAccess]:
        """Always empty: Atlas has no label for memberships, so which ones Gatepass created is
        known only from core's stored ``AccountState.created_by_gatepass``."""
        return []

    async def remove_managed(self, access: ManagedAccess) -> None:
        """Delete the membership of ``access.username``. Core calls this only for memberships
        it recorded as created by Gatepass; the last organization owner is never removed."""
        user = await self._find(access.username)
        if user is not None:
            await self._remove_membership(user)

    # ------------------------------------------------------------------ roles

    async def _roles(self, grants: Sequence[AccessGrant]) -> RoleSet:
        roles = RoleSet()
        for grant in grants:
            roles.add(*await self._target(grant))
        return roles

    async def _target(self, grant: AccessGrant) -> tuple[str | None, str]:
        """``(None, ORG_ROLE)`` or ``(project_id, GROUP_ROLE)`` for one grant."""
        kind, role = grant.resource.type, grant.permission
        if not permissions.permission_applies(permissions.ATLAS_PORTAL, kind, role):
            raise IntegrationError(
                f"{role!r} cannot be granted on a {kind} (grant {grant.grant_id})"
            )
        if kind == "organization":
            external = grant.resource.external_id
            if external and external != self.config.organization_id:
                raise IntegrationError(
                    f"integration {self.name} manages organization "
                    f"{self.config.organization_id}, not {external}"
                )
            return None, role
        return grant.resource.external_id or await self._project_id(grant.resource.name), role

    async def _project_id(self, name: str) -> str:
        path = f"{self._org}/groups"
        async for group in self._client.paginate(
            path, version=Version.GROUPS, params={"name": name}
        ):
            if group.get("name") == name:
                return str(group["id"])
        raise IntegrationError(f"integration {self.name}: no project named {name!r}")

    async def _find(self, username: str) -> dict[str, Any] | None:
        """The person's membership (active or invited), or None."""
        page = await self._client.get(
            f"{self._org}/users", version=Version.USERS, params={"username": username}
        )
        for user in page.get("results") or []:
            same = str(user.get("username", "")).lower() == username.lower()
            if same and user.get("orgMembershipStatus") in MEMBER_STATUSES:
                member: dict[str, Any] = user
                return member
        return None

    async def _invite(self, username: str, wanted: RoleSet) -> dict[str, Any]:
        """Invite the person with every wanted role (Atlas emails them)."""
        body = {
            "username": username,
            "roles": {
                "orgRoles": sorted(wanted.org) or [ORG_MEMBER],
                "groupRoleAssignments": [
                    {"groupId": project, "groupRoles": sorted(roles)}
                    for project, roles in sorted(wanted.projects.items())
                ],
            },
        }
        try:
            invited: dict[str, Any] = await self._client.post(
                f"{self._org}/users", version=Version.USERS, body=body
            )
            return invited
        except AtlasConflict:  # they joined between our look-up and the invitation
            user = await self._find(username)
            if user is None:
                raise
            await self._add_missing(user, wanted)
            return user

    async def _add_missing(self, user: dict[str, Any], wanted: RoleSet) -> None:
        current = RoleSet.of_user(user)
        user_id = segment(str(user["id"]))
        for role in sorted(wanted.org - current.org):
            await self._client.post(
                f"{self._org}/users/{user_id}:addRole",
                version=Version.USERS,
                body={"orgRole": role},
            )
        for project, roles in sorted(wanted.projects.items()):
            held = current.projects.get(project, set())
            missing = sorted(roles - held)
            if not missing:
                continue
            group = f"/groups/{segment(project)}/users"
            if not held:  # joining the project
                body = {"username": user["username"], "roles": missing}
                await self._client.post(group, version=Version.USERS, body=body)
                continue
            for role in missing:
                await self._client.post(
                    f"{group}/{user_id}:addRole", version=Version.USERS, body={"groupRole": role}
                )

    async def _remove_org_role(self, user: dict[str, Any], role: str, keep: RoleSet) -> None:
        current = RoleSet.of_user(user)
        if role not in current.org or role in keep.org:
            return
        if role == ORG_OWNER and await self._last_owner(user):
            raise self._last_owner_error(user)
        user_id = segment(str(user["id"]))
        if current.org == {role}:  # a member keeps at least one organization role
            await self._client.post(
                f"{self._org}/users/{user_id}:addRole",
                version=Version.USERS,
                body={"orgRole": ORG_MEMBER},
            )
        await self._client.post(
            f"{self._org}/users/{user_id}:removeRole", version=Version.USERS, body={"orgRole": role}
        )

    async def _remove_project_role(
        self, user: dict[str, Any], project: str, role: str, keep: RoleSet
    ) -> None:
        held = RoleSet.of_user(user).projects.get(project, set())
        if role not in held or keep.holds(project, role):
            return
        path = f"/groups/{segment(project)}/users/{segment(str(user['id']))}"
        if held == {role}:  # its only role there: leave the project, keep the organization
            await self._delete(path)
            return
        await self._client.post(
            f"{path}:removeRole", version=Version.USERS, body={"groupRole": role}
        )

    async def _remove_membership(self, user: dict[str, Any]) -> None:
        if ORG_OWNER in RoleSet.of_user(user).org and await self._last_owner(user):
            raise self._last_owner_error(user)
        await self._delete(f"{self._org}/users/{segment(str(user['id']))}")

    async def _last_owner(self, user: dict[str, Any]) -> bool:
        """True when ``user`` is an active ORG_OWNER and no other active member is one."""
        if user.get("orgMembershipStatus") != "ACTIVE":
            return False  # an invited owner is not yet an owner
        path = f"{self._org}/users"
        params = {"orgMembershipStatus": "ACTIVE"}
        async for other in self._client.paginate(path, version=Version.USERS, params=params):
            if other.get("id") != user.get("id") and ORG_OWNER in RoleSet.of_user(other).org:
                return False
        return True

    def _last_owner_error(self, user: dict[str, Any]) -> IntegrationError:
        return IntegrationError(
            f"integration {self.name}: {user.get('username')} is the last owner of organization "
            f"{self.config.organization_id}; Gatepass never removes the last ORG_OWNER"
        )

    async def _delete(self, path: str) -> None:
        with contextlib.suppress(AtlasNotFound):  # already gone
            await self._client.delete(path, version=Version.USERS)

    async def _connection(self, grant: AccessGrant, notes: tuple[str, ...]) -> ConnectionDetails:
        project, _role = await self._target(grant)
        base = self._client.atlas_url
        if project is None:
            url = f"{base}/v2#/org/{self.config.organization_id}/projects"
        else:
            url = f"{base}/v2/{project}#/overview"
        return ConnectionDetails(
            username=grant.person,
            connection_string=url,
            custom_access_details=self.config.custom_access_details,
            notes=notes,
        )


def _pre_existing(account: AccountState | None, user: dict[str, Any]) -> RoleSet:
    """What the person held before Gatepass: remembered, or (first time) what they hold now."""
    if account is not None and "pre_existing" in account.extra:
        return RoleSet.from_json(account.extra["pre_existing"])
    if account is not None and account.created_by_gatepass:
        return RoleSet()
    return RoleSet.of_user(user)
