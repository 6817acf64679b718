"""Atlas UI access (integration type ``mongodb-atlas-portal``): organization roles (ORG_*) and
project roles (GROUP_*) through the 2025-02-19 organization and project users endpoints.

Atlas never expires UI access, so revoking is Gatepass's job; it removes only what Gatepass
added: roles another active grant still covers stay, roles the person held before Gatepass
(remembered in ``AccountState.extra["pre_existing"]``) stay, a membership is deleted only when
Gatepass created it (an invitation), and the organization's last owner is never removed.

Which memberships Gatepass created is written down before the call that creates them
(``portal_record``), so that the reconciler removes those no grant covers and only reports the
others. An invited person's grant is not ready until they accept: its window runs from the
invitation (the roles exist in Atlas from then on, usable the moment they accept), and the
invitation is withdrawn at the grant's end like any other access.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Sequence
from typing import Any, Final

from core.config.schema import AtlasPortalIntegration
from core.domain.memberships import ORGANIZATION, MembershipLedger
from core.domain.ports import (
    AccessGrant,
    AccessMissing,
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
from core.integrations.atlas.errors import AtlasBadRequest, AtlasConflict, AtlasNotFound
from core.integrations.atlas.grants import excluding, including
from core.integrations.atlas.portal_record import (
    ACTIVE,
    PENDING,
    PortalRecord,
    created_here,
    joined_projects,
    managed_access,
    status,
)
from core.integrations.atlas.portal_roles import RoleSet, pre_existing, roles_of, target_of

log = logging.getLogger("gatepass.atlas")

ORG_OWNER: Final = "ORG_OWNER"
ORG_MEMBER: Final = "ORG_MEMBER"
MEMBER_STATUSES: Final = frozenset({ACTIVE, PENDING})
# Atlas's own email says its invitation is valid 30 days; Gatepass withdraws it at the grant's
# end, which every message about the grant names.
INVITATION_NOTE: Final = (
    "Atlas emailed you an invitation to the organization: accept it before this access ends. "
    "The invitation is withdrawn then, whatever Atlas's email says."
)


class AtlasPortalAccess:
    """Implements ``core.domain.ports.Integration`` for Atlas UI roles in one organization.

    ``AccountState.username`` is the person's Atlas username (their email);
    ``AccountState.extra`` holds ``user_id`` and ``pre_existing`` (``{"org": [...],
    "projects": {group_id: [...]}}``, the roles held before Gatepass first granted).
    """

    def __init__(
        self,
        config: AtlasPortalIntegration,
        client: AtlasClient,
        *,
        clock: Clock,
        ledger: MembershipLedger | None = None,
    ) -> None:
        self.name = config.name
        self.config = config
        self._client = client
        self._clock = clock
        self._record = PortalRecord(config.name, ledger, clock)

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
        person = grant.person
        wanted = await self._roles(including(grant, active))
        user = await self._find(person)
        records = await self._record.of(person)
        created = (account is not None and account.created_by_gatepass) or created_here(
            records, user
        )
        if user is None:
            user, created = await self._invite(person, wanted)
            held_before = RoleSet() if created else RoleSet.of_user(user)  # joined meanwhile
        else:
            if not created:
                await self._record.touched(person, user, records)
            remembered = account is not None and "pre_existing" in account.extra
            held_before = pre_existing(account, user) if remembered or not created else RoleSet()
            await self._add_missing(user, wanted)
        state = AccountState(
            username=person,
            created_by_gatepass=created,
            extra={"user_id": str(user["id"]), "pre_existing": held_before.to_json()},
        )
        invited = status(user) == PENDING
        notes = (INVITATION_NOTE,) if invited else ()
        return GrantResult(
            account=state,
            connection=await self._connection(grant, notes),
            ready=not invited,
            invited=invited,
        )

    async def ready(self, grant: AccessGrant, *, account: AccountState) -> bool:
        """UI roles apply at once; an invited person's only once they accept. AccessMissing
        when the membership is gone (so that core invites them again within the window)."""
        user = await self._find_any(grant.person)
        if user is None:
            raise AccessMissing(
                f"integration {self.name}: {grant.person} is no longer in organization "
                f"{self.config.organization_id}"
            )
        if status(user) != ACTIVE:
            return False  # invited (an expired or declined invitation waits for the end)
        await self._record.seen(grant.person, user)
        return True

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
            await self._record.forget(grant.person)
            return RevokeResult(account=None)
        created = (account is not None and account.created_by_gatepass) or created_here(
            await self._record.of(grant.person), user
        )
        if created and not remaining:
            await self._remove_membership(user)
            await self._record.forget(grant.person)
            return RevokeResult(account=None)
        keep = await self._roles(remaining)
        # Without a remembered snapshot nothing is known to predate Gatepass: the revoke wins.
        held_before = (
            RoleSet.from_json(account.extra["pre_existing"])
            if account is not None and "pre_existing" in account.extra
            else RoleSet()
        )
        for kept_project, kept_roles in held_before.projects.items():
            keep.projects.setdefault(kept_project, set()).update(kept_roles)
        keep.org |= held_before.org
        project, role = await self._target(grant)
        if project is None:
            await self._remove_org_role(user, role, keep)
        else:
            await self._remove_project_role(user, project, role, keep)
        if not remaining:  # nothing of Gatepass's is left on a membership it did not create
            await self._record.forget(grant.person)
        return RevokeResult(account=account)

    async def refresh(
        self, person: str, *, active: Sequence[AccessGrant], account: AccountState
    ) -> GrantResult | None:
        return None  # Atlas UI access has no expiry date to push and no password to rotate

    async def cleanup(self, person: str, *, account: AccountState) -> None:
        return None  # revoke never leaves a disabled membership behind

    async def list_managed(self) -> list[ManagedAccess]:
        """Every membership Gatepass's record names: those it created (an invitation, or a
        project it joined the person to), which the reconciler may remove, and those it only
        added roles to or that were replaced since (``created=False``: reported, never
        removed). Records of memberships gone from Atlas are dropped."""
        found: list[ManagedAccess] = []
        for person, records in (await self._record.everybody()).items():
            user = await self._find_any(person)
            if user is None:
                await self._record.forget(person)
                continue
            found.append(managed_access(person, records, user))
        return found

    async def remove_managed(self, access: ManagedAccess) -> None:
        """Delete what Gatepass created for ``access.username``: the whole membership when it
        sent the invitation, else the project memberships it made. Refuses anything else."""
        person = access.username.lower()
        user = await self._find_any(person)
        if user is None:
            await self._record.forget(person)
            return
        records = await self._record.of(person)
        if not self._record.kept or created_here(records, user):
            await self._remove_membership(user)
            await self._record.forget(person)
            return
        joined = joined_projects(records, user)
        org = records.get(ORGANIZATION)
        if (org is not None and org.created) or not joined:
            raise IntegrationError(
                f"integration {self.name}: refusing to remove the membership of {person} in "
                f"organization {self.config.organization_id}: Gatepass did not create it"
            )
        for project in joined:
            await self._delete(f"/groups/{segment(project)}/users/{segment(str(user['id']))}")
        await self._record.forget(person)

    # ------------------------------------------------------------------ roles

    async def _roles(self, grants: Sequence[AccessGrant]) -> RoleSet:
        return await roles_of(self._client, self.config, grants)

    async def _target(self, grant: AccessGrant) -> tuple[str | None, str]:
        return await target_of(self._client, self.config, grant)

    async def _find(self, username: str) -> dict[str, Any] | None:
        """The person's membership (active or invited), or None."""
        user = await self._find_any(username)
        return user if user is not None and status(user) in MEMBER_STATUSES else None

    async def _find_any(self, username: str) -> dict[str, Any] | None:
        """The person's record in the organization, whatever its status (Atlas keeps expired
        and declined invitations), a membership first; None when there is none."""
        page = await self._client.get(
            f"{self._org}/users", version=Version.USERS, params={"username": username}
        )
        same = [
            user
            for user in page.get("results") or []
            if str(user.get("username", "")).lower() == username.lower()
        ]
        same.sort(key=lambda user: status(user) not in MEMBER_STATUSES)
        return same[0] if same else None

    async def _invite(self, username: str, wanted: RoleSet) -> tuple[dict[str, Any], bool]:
        """Invite the person with every wanted role (Atlas emails them), recorded before the
        call; ``(membership, created)``."""
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
        await self._record.write(username, ORGANIZATION, created=True)
        try:
            invited: dict[str, Any] = await self._client.post(
                f"{self._org}/users", version=Version.USERS, body=body
            )
        except AtlasConflict:  # they joined between our look-up and the invitation
            user = await self._find(username)
            if user is None:
                raise
            await self._record.write(username, ORGANIZATION, created=False, user=user)
            await self._add_missing(user, wanted)
            return user, False
        except AtlasBadRequest:  # refused: nothing was created
            await self._record.forget(username, ORGANIZATION)
            raise
        await self._record.write(username, ORGANIZATION, created=True, user=invited)
        return invited, True

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
            if not held:  # joining the project: Gatepass creates that membership
                person = str(user["username"]).lower()
                await self._record.write(person, project, created=True, user=user)
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
            await self._record.forget(str(user["username"]).lower(), project)
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
