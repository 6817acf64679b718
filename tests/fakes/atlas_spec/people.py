"""The fake's people side: organization and project users (2025-02-19 endpoints), invitations,
role changes, and Atlas's rules (at least one role, never the last organization owner)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any, Final

from tests.fakes.atlas_spec.contract import recorded, template
from tests.fakes.atlas_spec.state import AtlasState, Handled, iso, object_id, parse_iso
from tests.fakes.atlas_spec.wire import ApiError

MEMBERS: Final = ("ACTIVE", "PENDING")
# The project roles Atlas accepts (the enum of project roles in its OpenAPI specification);
# request bodies take free strings, and Atlas refuses any other with INVALID_ENUM_VALUE.
PROJECT_ROLES: Final = frozenset(
    {
        "GROUP_BACKUP_MANAGER",
        "GROUP_CLUSTER_MANAGER",
        "GROUP_DATA_ACCESS_ADMIN",
        "GROUP_DATA_ACCESS_READ_ONLY",
        "GROUP_DATA_ACCESS_READ_WRITE",
        "GROUP_DATABASE_ACCESS_ADMIN",
        "GROUP_OBSERVABILITY_VIEWER",
        "GROUP_OWNER",
        "GROUP_READ_ONLY",
        "GROUP_SEARCH_INDEX_EDITOR",
        "GROUP_STREAM_PROCESSING_OWNER",
    }
)
INVITATION_DAYS: Final = 30
ONE_ROLE: Final = (
    "The request content produced the validation error: a user must have at least one role."
)
USERS_FIXTURE: Final = "org_users_list_2025-02-19_200.http"
GROUP_VIEW_KEYS: Final = frozenset(template("group_users_list_2025-02-19_200.http")) | {
    "invitationCreatedAt",
    "invitationExpiresAt",
    "inviterUsername",
}


def _pending_template() -> dict[str, Any]:
    results = recorded(USERS_FIXTURE).body["results"]
    index = next(i for i, user in enumerate(results) if user["orgMembershipStatus"] == "PENDING")
    return template(USERS_FIXTURE, index)


def _assignment(user: Mapping[str, Any], group_id: str) -> list[str] | None:
    for item in user["roles"]["groupRoleAssignments"]:
        if item["groupId"] == group_id:
            return item["groupRoles"]
    return None


class PeopleRules(AtlasState):
    # ------------------------------------------------------------------ seeding

    def add_org_user(
        self,
        username: str,
        *,
        org_id: str | None = None,
        org_roles: Sequence[str] = ("ORG_MEMBER",),
        project_roles: Mapping[str, Sequence[str]] | None = None,
        status: str = "ACTIVE",
    ) -> dict[str, Any]:
        """A member (or, with ``status="PENDING"``, an invited person) of an organization."""
        org = org_id or next(iter(self.orgs))
        user = self._member(username, status, org_roles, project_roles or {})
        self.org_users[org][user["id"]] = user
        return user

    def org_user(self, username: str, org_id: str | None = None) -> dict[str, Any] | None:
        """The membership of ``username``, for assertions."""
        return self._by_username(org_id or next(iter(self.orgs)), username)

    def accept_invitation(self, username: str, org_id: str | None = None) -> dict[str, Any]:
        """The invited person accepts: the membership turns ACTIVE with the invited roles, and,
        as in Atlas, is then known by the person's own user id, not the invitation's."""
        org = org_id or next(iter(self.orgs))
        self._expire_invitations(org)
        user = self._by_username(org, username)
        assert user is not None and user["orgMembershipStatus"] == "PENDING", username
        del self.org_users[org][user["id"]]
        active = template(USERS_FIXTURE)
        now = self.now()
        active.update(createdAt=iso(now), lastAuth=iso(now), firstName="Test", lastName="User")
        active.update(
            id=object_id(),
            username=user["username"],
            orgMembershipStatus="ACTIVE",
            teamIds=user["teamIds"],
            roles=user["roles"],
        )
        self.org_users[org][active["id"]] = active
        return active

    def reject_invitation(self, username: str, org_id: str | None = None) -> None:
        """The invited person declines: Atlas keeps the record as INVITATION_REJECTED."""
        org = org_id or next(iter(self.orgs))
        user = self._by_username(org, username)
        assert user is not None and user["orgMembershipStatus"] == "PENDING", username
        user["orgMembershipStatus"] = "INVITATION_REJECTED"

    def _expire_invitations(self, org: str) -> None:
        """Invitations older than 30 days turn INVITATION_EXPIRED (Atlas keeps the record)."""
        now = self.now()
        for user in self.org_users.get(org, {}).values():
            expires = user.get("invitationExpiresAt")
            pending = user["orgMembershipStatus"] == "PENDING"
            if pending and expires and parse_iso(expires) <= now:
                user["orgMembershipStatus"] = "INVITATION_EXPIRED"

    def _member(
        self,
        username: str,
        status: str,
        org_roles: Sequence[str],
        project_roles: Mapping[str, Sequence[str]],
    ) -> dict[str, Any]:
        now = self.now()
        if status == "ACTIVE":
            user = template(USERS_FIXTURE)
            user.update(createdAt=iso(now), lastAuth=iso(now), firstName="Test", lastName="User")
        else:
            user = _pending_template()
            user.update(
                invitationCreatedAt=iso(now),
                invitationExpiresAt=iso(now + timedelta(days=INVITATION_DAYS)),
                inviterUsername="gatepass-api@example.com",
            )
        user.update(
            id=object_id(),
            username=username,
            orgMembershipStatus=status,
            teamIds=[],
            roles={
                "orgRoles": list(org_roles),
                "groupRoleAssignments": [
                    {"groupId": group, "groupRoles": list(roles)}
                    for group, roles in project_roles.items()
                ],
            },
        )
        return user

    # ------------------------------------------------------------------ look-ups

    def _by_username(self, org: str, username: str) -> dict[str, Any] | None:
        self._expire_invitations(org)
        for user in self.org_users[org].values():
            if (
                user["username"].lower() == username.lower()
                and user["orgMembershipStatus"] in MEMBERS
            ):
                return user
        return None

    def _org_user(self, org: str, user_id: str) -> dict[str, Any]:
        self.org(org)
        self._expire_invitations(org)
        user = self.org_users[org].get(user_id)
        if user is None:
            raise ApiError(
                404, "USER_NOT_FOUND", f"No user with ID {user_id} exists.", parameters=[user_id]
            )
        return user

    def _group_member(self, group: str, user_id: str) -> tuple[dict[str, Any], list[str]]:
        org = self.project(group)["orgId"]
        user = self._org_user(org, user_id)
        roles = _assignment(user, group)
        if roles is None:
            raise ApiError(
                404,
                "USER_NOT_IN_GROUP",
                f"User {user_id} is not in group {group}.",
                parameters=[user_id, group],
            )
        return user, roles

    def _group_view(self, user: Mapping[str, Any], group: str) -> dict[str, Any]:
        view = {key: value for key, value in user.items() if key in GROUP_VIEW_KEYS}
        view["roles"] = list(_assignment(user, group) or [])
        return view

    def _is_last_owner(self, org: str, user: Mapping[str, Any]) -> bool:
        if user["orgMembershipStatus"] != "ACTIVE" or "ORG_OWNER" not in user["roles"]["orgRoles"]:
            return False
        owners = [
            u
            for u in self.org_users[org].values()
            if u["orgMembershipStatus"] == "ACTIVE" and "ORG_OWNER" in u["roles"]["orgRoles"]
        ]
        return len(owners) == 1

    @staticmethod
    def _group_roles(group: str, roles: Sequence[str]) -> None:
        for role in roles:
            if not role.startswith("GROUP_"):
                raise ApiError(
                    400,
                    "INVALID_ROLE_FOR_GROUP",
                    f"Role {role} is invalid for group {group}.",
                    parameters=[role, group],
                )
            if role not in PROJECT_ROLES:
                raise ApiError(
                    400,
                    "INVALID_ENUM_VALUE",
                    f"An invalid enumeration value {role} was specified.",
                    parameters=[role],
                )

    # ------------------------------------------------------------------ organization users

    def op_listOrgUsers(self, params: dict[str, str], query: dict[str, str], body: Any) -> Handled:
        org = params["orgId"]
        self.org(org)
        self._expire_invitations(org)
        users = list(self.org_users[org].values())
        if "username" in query:
            users = [u for u in users if u["username"].lower() == query["username"].lower()]
        if "orgMembershipStatus" in query:
            users = [u for u in users if u["orgMembershipStatus"] == query["orgMembershipStatus"]]
        rest = {k: v for k, v in query.items() if k not in ("username", "orgMembershipStatus")}
        return 200, self.page(users, rest, f"/orgs/{org}/users")

    def op_createOrgUser(self, params: dict[str, str], query: dict[str, str], body: Any) -> Handled:
        org, username = params["orgId"], body["username"]
        self.org(org)
        if self._by_username(org, username) is not None:
            raise ApiError(
                409,
                "USER_ALREADY_EXISTS",
                f"A user with username {username} already exists.",
                parameters=[username],
            )
        assignments = {
            a["groupId"]: a.get("groupRoles", [])
            for a in body["roles"].get("groupRoleAssignments", [])
        }
        for group, roles in assignments.items():
            if self.project(group)["orgId"] != org:
                raise ApiError(
                    404, "GROUP_NOT_FOUND", f"No group with ID {group} exists.", parameters=[group]
                )
            self._group_roles(group, roles)
        stale = [
            i for i, u in self.org_users[org].items() if u["username"].lower() == username.lower()
        ]
        for user_id in stale:  # an expired or rejected invitation is replaced
            del self.org_users[org][user_id]
        user = self.add_org_user(
            username,
            org_id=org,
            org_roles=body["roles"]["orgRoles"],
            project_roles=assignments,
            status="PENDING",
        )
        self.invitations.append(username)
        return 201, user

    def op_getOrgUser(self, params: dict[str, str], query: dict[str, str], body: Any) -> Handled:
        return 200, self._org_user(params["orgId"], params["userId"])

    def op_removeOrgUser(self, params: dict[str, str], query: dict[str, str], body: Any) -> Handled:
        org = params["orgId"]
        user = self._org_user(org, params["userId"])
        if self._is_last_owner(org, user):
            raise ApiError(
                403,
                "CANNOT_DELETE_LAST_ADMIN",
                "An organization or project needs to have at least one owner. You cannot demote or "
                "remove the last owner.",
            )
        del self.org_users[org][user["id"]]
        return 204, None

    def op_addOrgUserRole(
        self, params: dict[str, str], query: dict[str, str], body: Any
    ) -> Handled:
        user = self._org_user(params["orgId"], params["userId"])
        if body["orgRole"] not in user["roles"]["orgRoles"]:
            user["roles"]["orgRoles"].append(body["orgRole"])
        return 200, user

    def op_removeOrgUserRole(
        self, params: dict[str, str], query: dict[str, str], body: Any
    ) -> Handled:
        org, role = params["orgId"], body["orgRole"]
        user = self._org_user(org, params["userId"])
        roles = user["roles"]["orgRoles"]
        if role not in roles:
            return 200, user
        if role == "ORG_OWNER" and self._is_last_owner(org, user):
            raise ApiError(
                403,
                "CANNOT_DEMOTE_LAST_ORG_OWNER",
                "Cannot demote the last owner of the organization.",
            )
        if roles == [role]:
            raise ApiError(
                400,
                "VALIDATION_ERROR",
                ONE_ROLE,
            )
        roles.remove(role)
        return 200, user

    # ------------------------------------------------------------------ project users

    def op_listGroupUsers(
        self, params: dict[str, str], query: dict[str, str], body: Any
    ) -> Handled:
        group = params["groupId"]
        org = self.project(group)["orgId"]
        members = [
            self._group_view(u, group)
            for u in self.org_users[org].values()
            if _assignment(u, group) is not None
        ]
        return 200, self.page(members, query, f"/groups/{group}/users")

    def op_addGroupUsers(self, params: dict[str, str], query: dict[str, str], body: Any) -> Handled:
        group, username, roles = params["groupId"], body["username"], list(body["roles"])
        org = self.project(group)["orgId"]
        self._group_roles(group, roles)
        user = self._by_username(org, username)
        if user is None:  # not in the organization: Atlas invites them to both
            user = self.add_org_user(
                username, org_id=org, project_roles={group: roles}, status="PENDING"
            )
            self.invitations.append(username)
        elif _assignment(user, group) is not None:
            raise ApiError(
                409,
                "USER_ALREADY_EXISTS",
                f"A user with username {username} already exists.",
                parameters=[username],
            )
        else:
            user["roles"]["groupRoleAssignments"].append({"groupId": group, "groupRoles": roles})
        return 201, self._group_view(user, group)

    def op_getGroupUser(self, params: dict[str, str], query: dict[str, str], body: Any) -> Handled:
        user, _roles = self._group_member(params["groupId"], params["userId"])
        return 200, self._group_view(user, params["groupId"])

    def op_removeGroupUser(
        self, params: dict[str, str], query: dict[str, str], body: Any
    ) -> Handled:
        group = params["groupId"]
        user, _roles = self._group_member(group, params["userId"])
        user["roles"]["groupRoleAssignments"] = [
            a for a in user["roles"]["groupRoleAssignments"] if a["groupId"] != group
        ]
        return 204, None

    def op_addGroupUserRole(
        self, params: dict[str, str], query: dict[str, str], body: Any
    ) -> Handled:
        group, role = params["groupId"], body["groupRole"]
        user, roles = self._group_member(group, params["userId"])
        self._group_roles(group, [role])
        if role not in roles:
            roles.append(role)
        return 200, self._group_view(user, group)

    def op_removeGroupUserRole(
        self, params: dict[str, str], query: dict[str, str], body: Any
    ) -> Handled:
        group, role = params["groupId"], body["groupRole"]
        user, roles = self._group_member(group, params["userId"])
        if role in roles and roles == [role]:
            raise ApiError(
                400,
                "VALIDATION_ERROR",
                ONE_ROLE,
            )
        if role in roles:
            roles.remove(role)
        return 200, self._group_view(user, group)
