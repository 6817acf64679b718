"""The fake's database users: create, read, update, delete, with the rules Atlas enforces
(role databases, one-week ``deleteAfterDate``, scopes naming a real cluster, 100 per project),
and Atlas's own expiry of temporary users."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any, Final

from tests.fakes.atlas_spec.contract import template
from tests.fakes.atlas_spec.state import AtlasState, Handled, parse_iso
from tests.fakes.atlas_spec.wire import ApiError

ADMIN_ONLY_ROLES: Final = frozenset(
    {
        "atlasAdmin",
        "readAnyDatabase",
        "readWriteAnyDatabase",
        "dbAdminAnyDatabase",
        "clusterMonitor",
        "backup",
        "enableSharding",
    }
)
DATABASE_ROLES: Final = frozenset({"read", "readWrite", "dbAdmin"})
COLLECTION_ROLES: Final = frozenset({"read", "readWrite"})
MAX_TEMPORARY: Final = timedelta(days=7)
COMMON_PASSWORDS: Final = frozenset({"password", "changeme123", "12345678", "qwertyuiop"})


class DatabaseUserRules(AtlasState):
    # ------------------------------------------------------------------ seeding and expiry

    def add_db_user(
        self,
        username: str,
        *,
        group_id: str | None = None,
        roles: Sequence[Mapping[str, str]] = (),
        labels: Sequence[Mapping[str, str]] = (),
        delete_after: str | None = None,
    ) -> dict[str, Any]:
        """A database user that exists before the test (created outside Gatepass)."""
        group = group_id or next(iter(self.projects))
        user = self._user_document(
            group,
            {
                "username": username,
                "roles": list(roles) or [{"roleName": "readAnyDatabase", "databaseName": "admin"}],
                "labels": list(labels),
                **({"deleteAfterDate": delete_after} if delete_after else {}),
            },
        )
        self.users[group][username] = user
        return user

    def expire_users(self) -> None:
        """Atlas deletes temporary users once their ``deleteAfterDate`` has passed."""
        now = self.now()
        for group, users in self.users.items():
            for username in [
                u
                for u, user in users.items()
                if "deleteAfterDate" in user and parse_iso(user["deleteAfterDate"]) <= now
            ]:
                del users[username]
                self.passwords.pop((group, username), None)
                self.changed(group)

    # ------------------------------------------------------------------ database users

    def op_listGroupDatabaseUsers(
        self, params: dict[str, str], query: dict[str, str], body: Any
    ) -> Handled:
        self.project(params["groupId"])
        users = list(self.users[params["groupId"]].values())
        return 200, self.page(users, query, f"/groups/{params['groupId']}/databaseUsers")

    def op_createGroupDatabaseUser(
        self, params: dict[str, str], query: dict[str, str], body: Any
    ) -> Handled:
        group = params["groupId"]
        self.project(group)
        if body.get("groupId") != group:
            raise ApiError(
                400,
                "GROUP_MISMATCH",
                f"The specified group ID {body.get('groupId')} does not match the URL.",
                parameters=[body.get("groupId")],
            )
        username = body["username"]
        if username in self.users[group]:
            raise ApiError(
                409,
                "USER_ALREADY_EXISTS",
                f"A user with username {username} already exists.",
                parameters=[username],
            )
        if len(self.users[group]) >= self.max_users_per_project:
            raise ApiError(
                403,
                "GROUP_USERS_LIMIT_EXCEEDED",
                f"Groups can contain at most {self.max_users_per_project} database users.",
                parameters=[self.max_users_per_project],
            )
        self._check_user(group, body, creating=True)
        user = self._user_document(group, body)
        self.users[group][username] = user
        self.passwords[(group, username)] = body["password"]
        self.changed(group)
        return 201, user

    def op_getGroupDatabaseUser(
        self, params: dict[str, str], query: dict[str, str], body: Any
    ) -> Handled:
        return 200, self._existing_user(params)

    def op_updateGroupDatabaseUser(
        self, params: dict[str, str], query: dict[str, str], body: Any
    ) -> Handled:
        user = self._existing_user(params)
        group = params["groupId"]
        if body.get("username", user["username"]) != user["username"]:
            raise ApiError(
                409,
                "DATABASE_USERNAME_CANNOT_BE_CHANGED",
                "Cannot modify the username of an existing database user.",
            )
        if body.get("databaseName", user["databaseName"]) != user["databaseName"]:
            raise ApiError(
                409,
                "DATABASE_NAME_CANNOT_BE_CHANGED",
                "Cannot modify the authentication database of an existing database user.",
            )
        if "deleteAfterDate" in body and "deleteAfterDate" not in user:
            raise ApiError(
                400,
                "PERMANENT_ENTITY_CANNOT_BE_MADE_TEMPORARY",
                "A permanent entity cannot be made temporary.",
            )
        self._check_user(group, body, creating=False)
        for key in ("roles", "scopes", "labels", "deleteAfterDate"):
            if key in body:
                user[key] = body[key]
        if "password" in body:
            self.passwords[(group, user["username"])] = body["password"]
        self.changed(group)
        return 200, user

    def op_deleteGroupDatabaseUser(
        self, params: dict[str, str], query: dict[str, str], body: Any
    ) -> Handled:
        user = self._existing_user(params)
        del self.users[params["groupId"]][user["username"]]
        self.passwords.pop((params["groupId"], user["username"]), None)
        self.changed(params["groupId"])
        return 204, None

    def _existing_user(self, params: dict[str, str]) -> dict[str, Any]:
        self.project(params["groupId"])
        user = self.users[params["groupId"]].get(params["username"])
        if user is None or user["databaseName"] != params["databaseName"]:
            raise ApiError(
                404,
                "USERNAME_NOT_FOUND",
                f"No user with username {params['username']} exists.",
                parameters=[params["username"]],
            )
        return user

    def _user_document(self, group: str, body: Mapping[str, Any]) -> dict[str, Any]:
        user = template("dbuser_get_200.http")
        user.pop("deleteAfterDate", None)
        user.update(
            {
                k: v
                for k, v in body.items()
                if k in ("username", "databaseName", "roles", "scopes", "labels", "deleteAfterDate")
            }
        )
        user.setdefault("scopes", [])
        user.setdefault("labels", [])
        user["groupId"] = group
        user["links"] = self.links(
            f"/groups/{group}/databaseUsers/{user['databaseName']}/{user['username']}"
        )
        return user

    def _check_user(self, group: str, body: Mapping[str, Any], *, creating: bool) -> None:
        if "roles" in body:
            self._check_roles(body["roles"])
        for scope in body.get("scopes") or []:
            if scope["type"] == "CLUSTER" and scope["name"] not in self.clusters[group]:
                raise ApiError(
                    400,
                    "INVALID_ATTRIBUTE",
                    f"Invalid attribute scopes specified: no cluster named {scope['name']} "
                    f"exists in group {group}.",
                    parameters=["scopes"],
                )
        if body.get("deleteAfterDate"):
            when, now = parse_iso(body["deleteAfterDate"]), self.now()
            if when <= now:
                raise ApiError(
                    400,
                    "EXPIRATION_DATE_IN_PAST",
                    "The specified expiration date must be in the future.",
                )
            if when > now + MAX_TEMPORARY:
                raise ApiError(
                    400,
                    "EXPIRATION_DATE_EXCEEDS_MAX",
                    "The specified expiration date can be at most 7 days in the future.",
                    parameters=[7],
                )
        password = body.get("password")
        if creating and password is None:
            raise ApiError(
                400,
                "MISSING_ATTRIBUTE",
                "The required attribute password was not specified.",
                parameters=["password"],
            )
        if password is not None and password.lower() in COMMON_PASSWORDS:
            raise ApiError(
                400,
                "COMMON_PASSWORD",
                "The password provided is too weak, as it can be found in most commonly used "
                "password lists.",
            )

    def _check_roles(self, roles: Sequence[Mapping[str, str]]) -> None:
        if not roles:
            raise ApiError(
                400,
                "MISSING_ATTRIBUTE",
                "The required attribute roles was not specified.",
                parameters=["roles"],
            )
        seen: set[tuple[str, str, str]] = set()
        for role in roles:
            name, database, collection = (
                role["roleName"],
                role["databaseName"],
                role.get("collectionName", ""),
            )
            key = (name, database, collection)
            if key in seen:
                raise ApiError(
                    400,
                    "DUPLICATE_DATABASE_ROLES",
                    f"Duplicate database roles specified for user: {name}@{database}.",
                )
            seen.add(key)
            if name in ADMIN_ONLY_ROLES and database != "admin":
                raise ApiError(
                    400,
                    "ATLAS_INVALID_ROLE_DATABASE",
                    f"The specified role {name} only exists for database admin.",
                    parameters=[name, "admin"],
                )
            if name not in ADMIN_ONLY_ROLES | DATABASE_ROLES or (
                collection and name not in COLLECTION_ROLES
            ):
                where = f"{database}.{collection}" if collection else database
                raise ApiError(
                    400,
                    "ATLAS_INVALID_ROLE",
                    f"The specified role {name}@{where} does not exist.",
                    parameters=[name, where],
                )
