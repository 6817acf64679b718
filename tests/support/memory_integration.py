"""A small in-memory Integration: an account per person whose permissions are the union of
their active grants. It can be told to fail, to ask for a retry, or to be slow to deploy."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field

from core.config.secrets import SecretValue
from core.domain.ports import (
    AccessGrant,
    AccountState,
    ConnectionDetails,
    DiscoveredResource,
    GrantResult,
    IntegrationError,
    ManagedAccess,
    RevokeResult,
)


@dataclass
class MemoryIntegration:
    name: str
    resources: list[DiscoveredResource] = field(default_factory=list)
    accounts: dict[str, set[str]] = field(default_factory=dict)  # username -> "perm@resource"
    calls: list[tuple[str, str]] = field(default_factory=list)  # (method, grant id or person)
    failures: list[IntegrationError] = field(default_factory=list)  # raised by the next calls
    pending_polls: int = 0  # ready() answers False this many times after a change
    delay: float = 0.0
    passwords_issued: int = 0
    _pending: int = 0

    @staticmethod
    def username(person: str) -> str:
        return "gp-" + person.split("@", maxsplit=1)[0]

    def _maybe_fail(self) -> None:
        if self.failures:
            raise self.failures.pop(0)

    async def _slow(self) -> None:
        if self.delay:
            await asyncio.sleep(self.delay)

    async def check(self) -> None:
        self._maybe_fail()

    async def discover(self) -> list[DiscoveredResource]:
        self.calls.append(("discover", self.name))
        self._maybe_fail()
        return list(self.resources)

    @staticmethod
    def _union(grants: Sequence[AccessGrant]) -> set[str]:
        return {f"{g.permission}@{g.resource.key}" for g in grants}

    async def grant(
        self, grant: AccessGrant, *, active: Sequence[AccessGrant], account: AccountState | None
    ) -> GrantResult:
        self.calls.append(("grant", grant.grant_id))
        await self._slow()
        self._maybe_fail()
        username = self.username(grant.person)
        fresh = username not in self.accounts
        self.accounts[username] = self._union(active)
        self._pending = self.pending_polls
        password = None
        if fresh:
            self.passwords_issued += 1
            password = SecretValue(f"pw-{username}-{self.passwords_issued}-Xy9!")
        return GrantResult(
            account=AccountState(username=username),
            connection=ConnectionDetails(
                username=username, connection_string=f"mongodb+srv://{self.name}.example.net"
            ),
            password=password,
            ready=self.pending_polls == 0,
        )

    async def ready(self, grant: AccessGrant, *, account: AccountState) -> bool:
        self.calls.append(("ready", grant.grant_id))
        self._maybe_fail()
        if self._pending > 0:
            self._pending -= 1
            return False
        return True

    async def revoke(
        self, grant: AccessGrant, *, remaining: Sequence[AccessGrant], account: AccountState | None
    ) -> RevokeResult:
        self.calls.append(("revoke", grant.grant_id))
        await self._slow()
        self._maybe_fail()
        username = self.username(grant.person)
        if not remaining:
            self.accounts.pop(username, None)
            return RevokeResult(account=None)
        self.accounts[username] = self._union(remaining)
        return RevokeResult(account=account)

    async def refresh(
        self, person: str, *, active: Sequence[AccessGrant], account: AccountState
    ) -> GrantResult | None:
        self.calls.append(("refresh", person))
        return None

    async def cleanup(self, person: str, *, account: AccountState) -> None:
        self.calls.append(("cleanup", person))
        self.accounts.pop(self.username(person), None)

    async def list_managed(self) -> list[ManagedAccess]:
        return [
            ManagedAccess(person=f"{name.removeprefix('gp-')}@example.com", username=name)
            for name in self.accounts
        ]

    async def remove_managed(self, access: ManagedAccess) -> None:
        self.calls.append(("remove_managed", access.username))
        self.accounts.pop(access.username, None)

    def count(self, method: str) -> int:
        return sum(1 for m, _ in self.calls if m == method)
