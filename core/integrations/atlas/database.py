"""Database access (integration type ``mongodb-atlas``): one Atlas database user per person.

The user's roles are the union of the person's grants in flight, it is always scoped to the
configured cluster, carries Gatepass's labels, and has a ``deleteAfterDate`` a minute after its
last grant ends (``users.GRACE``), so Atlas removes it even if Gatepass is down at that moment.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from core.config.schema import AtlasDatabaseIntegration
from core.config.secrets import SecretValue
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
from core.integrations.atlas import users
from core.integrations.atlas.client import AtlasClient, Version, segment
from core.integrations.atlas.discovery import (
    check_cluster_type,
    connection_details,
    discover_database,
)
from core.integrations.atlas.errors import AtlasConflict, AtlasNotFound
from core.integrations.atlas.grants import excluding, including

log = logging.getLogger("gatepass.atlas")

# refresh() moves deleteAfterDate only when it is this far from where it should be.
EXPIRY_STEP = timedelta(hours=1)


class AtlasDatabaseAccess:
    """Implements ``core.domain.ports.Integration`` for database users on one cluster.

    ``AccountState.extra`` holds ``delete_after`` (the user's Atlas expiry, ISO text) and, after
    a revoke with ``user_cleanup_days``, ``disabled: True`` and ``cleanup_at``.
    """

    def __init__(
        self,
        config: AtlasDatabaseIntegration,
        client: AtlasClient,
        *,
        clock: Clock,
        password_factory: Callable[[], str] = users.new_password,
    ) -> None:
        self.name = config.name
        self.config = config
        self._client = client
        self._clock = clock
        self._new_password = password_factory

    async def aclose(self) -> None:
        await self._client.aclose()

    # ------------------------------------------------------------------ paths

    @property
    def _project(self) -> str:
        return f"/groups/{segment(self.config.project_id)}"

    def _user_path(self, username: str) -> str:
        return f"{self._project}/databaseUsers/{users.AUTH_DATABASE}/{segment(username)}"

    # ------------------------------------------------------------------ Integration

    async def check(self) -> None:
        try:
            await self._client.get(self._project, version=Version.GROUPS)
        except AtlasNotFound as error:
            raise IntegrationError(
                f"integration {self.name}: Atlas project {self.config.project_id} not found "
                f"(or the credentials cannot see it) ({error.error_code})"
            ) from None
        try:
            cluster = await self._cluster()
        except AtlasNotFound:
            raise IntegrationError(
                f"integration {self.name}: cluster {self.config.cluster_name} not found in "
                f"project {self.config.project_id}"
            ) from None
        check_cluster_type(self.config, cluster)

    async def discover(self) -> list[DiscoveredResource]:
        return await discover_database(self._client, self.config)

    async def grant(
        self, grant: AccessGrant, *, active: Sequence[AccessGrant], account: AccountState | None
    ) -> GrantResult:
        grants = including(grant, active)
        now = self._clock.now()
        username = self._username(grant.person, account)
        document = self._document(grant.person, username, grants, now=now)
        if account is not None and account.username:
            password = self._new_password() if self._password_due(account, now) else None
            try:
                await self._patch(username, document, password)
            except AtlasNotFound:  # Atlas expired it or someone deleted it: create it again
                password = await self._create(username, document)
        else:
            password = await self._create(username, document)
        return GrantResult(
            account=self._state(username, document, account, password=password, now=now),
            connection=await self.connection(username),
            password=SecretValue(password) if password else None,
            ready=False,
        )

    async def ready(self, grant: AccessGrant, *, account: AccountState) -> bool:
        """The cluster reports the change APPLIED and the user is there; AccessMissing when
        the user is gone (deleted, or expired by Atlas) so that core makes it again."""
        path = f"{self._project}/clusters/{segment(self.config.cluster_name)}/status"
        status = await self._client.get(path, version=Version.CLUSTER_STATUS)
        if not status or status.get("changeStatus") != "APPLIED":
            return False
        username = self._username(grant.person, account)
        try:
            await self._client.get(self._user_path(username), version=Version.DATABASE_USERS)
        except AtlasNotFound:
            raise AccessMissing(
                f"integration {self.name}: database user {username} is gone"
            ) from None
        return True

    async def revoke(
        self,
        grant: AccessGrant,
        *,
        remaining: Sequence[AccessGrant],
        account: AccountState | None,
    ) -> RevokeResult:
        remaining = excluding(grant, remaining)
        now = self._clock.now()
        username = self._username(grant.person, account)
        if remaining:
            document = self._document(grant.person, username, remaining, now=now)
            try:
                await self._patch(username, document, None)
            except AtlasNotFound:
                log.info("atlas %s: user already gone; refresh() will recreate it", self.name)
                return RevokeResult(account=account)
            return RevokeResult(account=self._state(username, document, account, now=now))
        if self.config.user_cleanup_days:
            return await self._disable(grant.person, username, now=now)
        await self._delete(username)
        return RevokeResult(account=None)

    async def refresh(
        self, person: str, *, active: Sequence[AccessGrant], account: AccountState
    ) -> GrantResult | None:
        if not active:
            return None
        now = self._clock.now()
        username = self._username(person, account)
        document = self._document(person, username, active, now=now)
        try:
            current = await self._client.get(
                self._user_path(username), version=Version.DATABASE_USERS
            )
        except AtlasNotFound:
            password: str | None = await self._create(username, document)
        else:
            rotate = self._password_due(account, now)
            if not (rotate or self._drifted(current, document)):
                return None
            password = self._new_password() if rotate else None
            await self._patch(username, document, password)
        return GrantResult(
            account=self._state(username, document, account, password=password, now=now),
            connection=await self.connection(username),
            password=SecretValue(password) if password else None,
            ready=password is None,
        )

    async def cleanup(self, person: str, *, account: AccountState) -> None:
        username = self._username(person, account)
        if not account.extra.get("disabled"):
            log.info("atlas %s: cleanup skipped, the account was granted again", self.name)
            return
        try:
            current = await self._client.get(
                self._user_path(username), version=Version.DATABASE_USERS
            )
        except AtlasNotFound:
            return
        if not users.same_roles(current.get("roles") or [], users.DISABLED_ROLES):
            log.info("atlas %s: cleanup skipped, the user holds live roles again", self.name)
            return
        await self._delete(username)

    async def hold(self, person: str, *, account: AccountState) -> AccountState | None:
        """Keep a disabled user until its cleanup: Atlas deletes it at its ``deleteAfterDate``,
        which may be at most a week ahead, so the date is pushed towards ``cleanup_at`` (by the
        periodic refresh) once it falls a day short. The updated state; None when nothing was
        sent (not disabled, close enough, or already gone)."""
        cleanup_at = users.parse_atlas_time(account.extra.get("cleanup_at"))
        if not account.extra.get("disabled") or cleanup_at is None:
            return None
        now = self._clock.now()
        current = users.parse_atlas_time(account.extra.get("delete_after"))
        until = users.hold_due(current, cleanup_at, now=now)
        if until is None:
            return None
        username = self._username(person, account)
        document = self._disabled(person, username, until)
        try:
            await self._patch(username, document, None)
        except AtlasNotFound:
            log.info("atlas %s: disabled user %s is already gone", self.name, username)
            return None
        extra = {**account.extra, "delete_after": document["deleteAfterDate"]}
        return AccountState(
            username=username,
            password_set_at=account.password_set_at,
            created_by_gatepass=account.created_by_gatepass,
            extra=extra,
        )

    async def list_managed(self) -> list[ManagedAccess]:
        """Database users carrying this integration's ``managed-by: gatepass`` labels."""
        found: list[ManagedAccess] = []
        path = f"{self._project}/databaseUsers"
        async for user in self._client.paginate(path, version=Version.DATABASE_USERS):
            if users.managed_by(user, integration=self.name):
                found.append(users.managed_access(user, integration=self.name))
        return found

    async def remove_managed(self, access: ManagedAccess) -> None:
        try:
            user = await self._client.get(
                self._user_path(access.username), version=Version.DATABASE_USERS
            )
        except AtlasNotFound:
            return
        if not users.managed_by(user, integration=self.name):
            raise IntegrationError(
                f"integration {self.name}: refusing to delete database user "
                f"{access.username}: Gatepass does not manage it"
            )
        await self._delete(access.username)

    # ------------------------------------------------------------------ connection details

    async def connection(self, username: str) -> ConnectionDetails:
        """The SRV string of the cluster, or of the configured private endpoint."""
        return connection_details(self.config, await self._cluster(), username=username)

    # ------------------------------------------------------------------ helpers

    def _username(self, person: str, account: AccountState | None) -> str:
        if account is not None and account.username:
            return account.username
        return users.username_for(person, integration=self.name)

    def _document(
        self, person: str, username: str, grants: Sequence[AccessGrant], *, now: datetime
    ) -> dict[str, Any]:
        return users.user_document(
            username=username,
            group_id=self.config.project_id,
            cluster=self.config.cluster_name,
            roles=users.roles_for(grants),
            delete_after=users.delete_after_for(grants, now=now),
            labels=users.labels_for(person, integration=self.name),
        )

    def _password_due(self, account: AccountState, now: datetime) -> bool:
        if account.password_set_at is None or account.extra.get("disabled"):
            return True
        days = self.config.credential_rotation_days
        return days is not None and now - account.password_set_at >= timedelta(days=days)

    def _drifted(self, current: dict[str, Any], document: dict[str, Any]) -> bool:
        """True when roles, scopes or the expiry date are not what the grants ask for."""
        if not users.same_roles(current.get("roles") or [], document["roles"]):
            return True
        if current.get("scopes") != document["scopes"]:
            return True
        expiry = users.parse_atlas_time(current.get("deleteAfterDate"))
        wanted = users.parse_atlas_time(document["deleteAfterDate"])
        return expiry is None or wanted is None or abs(wanted - expiry) >= EXPIRY_STEP

    def _state(
        self,
        username: str,
        document: dict[str, Any],
        account: AccountState | None,
        *,
        now: datetime,
        password: str | None = None,
    ) -> AccountState:
        previous = account.password_set_at if account is not None else None
        return AccountState(
            username=username,
            password_set_at=now if password else previous,
            created_by_gatepass=True,
            extra={"delete_after": document["deleteAfterDate"]},
        )

    async def _cluster(self) -> dict[str, Any]:
        path = f"{self._project}/clusters/{segment(self.config.cluster_name)}"
        cluster: dict[str, Any] = await self._client.get(path, version=Version.CLUSTERS)
        return cluster

    async def _create(self, username: str, document: dict[str, Any]) -> str:
        """Create the user with a new password; on 409 adopt it if Gatepass made it."""
        password = self._new_password()
        try:
            await self._client.post(
                f"{self._project}/databaseUsers",
                version=Version.DATABASE_USERS,
                body={**document, "password": password},
            )
        except AtlasConflict:
            existing = await self._client.get(
                self._user_path(username), version=Version.DATABASE_USERS
            )
            if not users.managed_by(existing, integration=self.name):
                raise IntegrationError(
                    f"integration {self.name}: database user {username} already exists in "
                    f"project {self.config.project_id} and Gatepass does not manage it"
                ) from None
            await self._patch(username, document, password)
        return password

    async def _patch(self, username: str, document: dict[str, Any], password: str | None) -> None:
        body = document if password is None else {**document, "password": password}
        await self._client.patch(
            self._user_path(username), version=Version.DATABASE_USERS, body=body
        )

    async def _delete(self, username: str) -> None:
        with contextlib.suppress(AtlasNotFound):  # already gone
            await self._client.delete(self._user_path(username), version=Version.DATABASE_USERS)

    async def _disable(self, person: str, username: str, *, now: datetime) -> RevokeResult:
        """Make the user unusable at once and keep it until ``cleanup`` (user_cleanup_days).

        It gets a password nobody is told and a role that grants no data. Its Atlas expiry is
        moved to the cleanup time, capped at Atlas's one-week limit; ``hold`` keeps moving it
        there while the wait lasts longer than a week.
        """
        cleanup_at = now + timedelta(days=self.config.user_cleanup_days or 0)
        document = self._disabled(person, username, users.disabled_until(cleanup_at, now=now))
        try:
            await self._patch(username, document, self._new_password())
        except AtlasNotFound:
            return RevokeResult(account=None)
        account = AccountState(
            username=username,
            password_set_at=None,
            created_by_gatepass=True,
            extra={
                "disabled": True,
                "delete_after": document["deleteAfterDate"],
                "cleanup_at": users.atlas_time(cleanup_at),
            },
        )
        return RevokeResult(account=account, cleanup_at=cleanup_at)

    def _disabled(self, person: str, username: str, delete_after: datetime) -> dict[str, Any]:
        return users.user_document(
            username=username,
            group_id=self.config.project_id,
            cluster=self.config.cluster_name,
            roles=users.DISABLED_ROLES,
            delete_after=delete_after,
            labels=users.labels_for(person, integration=self.name),
        )
