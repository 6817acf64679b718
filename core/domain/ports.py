"""The ports the domain talks through: the clock, the doorbell of the job worker, the integrations
that grant access, and the notifiers that reach people on chat platforms.

Core depends on these shapes only; ``core/integrations/atlas`` implements ``Integration``,
``bot/slack`` and ``bot/teams`` implement ``Notifier``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol, runtime_checkable

from core.config.secrets import SecretValue

# --------------------------------------------------------------------------- clock


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


# --------------------------------------------------------------------------- doorbell


class Doorbell(Protocol):
    """Rung after a commit that queued jobs, so that a worker of this process runs them at once
    instead of at its next poll. Ringing never fails and never waits."""

    def ring(self) -> None: ...


class NoDoorbell:
    """Nobody listens (a command-line tool): the jobs wait for a worker's next poll."""

    def ring(self) -> None:
        return None


# --------------------------------------------------------------------------- integrations


@dataclass(frozen=True)
class ResourceRef:
    """What access is granted on: ``database`` ``analytics``, ``project`` ``Sales`` (id ...)."""

    type: str
    name: str
    external_id: str | None = None

    @property
    def key(self) -> str:
        return f"{self.type}:{self.name}"


@dataclass(frozen=True)
class DiscoveredResource:
    """A resource an integration found, with its tags (read by owner routing).

    ``parent`` is the key of the enclosing resource (``cluster:Cluster0`` for a database,
    ``project:Sales`` for a cluster of the Portal); owner tags are inherited along it.
    ``details`` holds non-secret facts for display (cluster type, connection strings).
    """

    type: str
    name: str
    external_id: str | None = None
    parent: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"{self.type}:{self.name}"


@dataclass(frozen=True)
class AccessGrant:
    """One approved grant, as the integration sees it."""

    grant_id: str
    person: str  # lower-cased email
    resource: ResourceRef
    permission: str
    ends_at: datetime


@dataclass
class AccountState:
    """What Gatepass remembers of one person's account in one integration, kept by core.

    The integration reads it and returns it updated; core stores it (never a password).
    """

    username: str | None = None
    password_set_at: datetime | None = None
    created_by_gatepass: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ConnectionDetails:
    """How to use the access: shown to the requester (never holds the password)."""

    username: str | None
    connection_string: str | None = None
    custom_access_details: str | None = None
    notes: tuple[str, ...] = ()


@dataclass
class GrantResult:
    """The outcome of ``grant`` / ``refresh``.

    ``password`` is a freshly generated credential to hand to the requester once (None when the
    existing one stays valid). ``ready`` is False while the platform is still deploying the
    change (Atlas ``PENDING``); core then polls ``ready()`` before telling the requester.
    """

    account: AccountState
    connection: ConnectionDetails
    password: SecretValue | None = None
    ready: bool = True
    # The person was invited (Atlas UI): not ready until they accept the emailed invitation.
    invited: bool = False


@dataclass
class RevokeResult:
    account: AccountState | None  # None: the account is gone
    cleanup_at: datetime | None = None  # when ``cleanup`` must delete a disabled account


@dataclass(frozen=True)
class ManagedAccess:
    """Access an integration holds on Gatepass's behalf (for the reconciler)."""

    person: str | None  # None when the marker names nobody Gatepass knows
    username: str
    detail: str = ""
    # False: Gatepass did not create it (it only added roles): reported, never removed.
    created: bool = True


class IntegrationError(Exception):
    """A failure reaching or using an integration.

    ``retryable`` failures are retried by the job worker (after ``retry_after`` seconds when the
    integration asked for a delay, as Atlas does with 429); others fail the job at once.
    """

    def __init__(
        self, message: str, *, retryable: bool = False, retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.retry_after = retry_after


class AccessMissing(IntegrationError):
    """The access a grant made is gone from the integration (deleted by someone, or expired
    there): granting again makes it anew."""


@runtime_checkable
class Integration(Protocol):
    """Grants and takes back access in one external system.

    Every method is idempotent: called twice with the same arguments it changes nothing the
    second time. ``active`` always lists all of the person's active grants on this integration
    (including the one being granted); the account's access is their union.
    """

    name: str

    async def check(self) -> None:
        """Prove the credentials work; raise IntegrationError with a clear message if not."""
        ...

    async def discover(self) -> list[DiscoveredResource]: ...

    async def grant(
        self, grant: AccessGrant, *, active: Sequence[AccessGrant], account: AccountState | None
    ) -> GrantResult: ...

    async def ready(self, grant: AccessGrant, *, account: AccountState) -> bool:
        """True once the change made by ``grant`` can be used; AccessMissing when the access
        it made is gone meanwhile."""
        ...

    async def revoke(
        self,
        grant: AccessGrant,
        *,
        remaining: Sequence[AccessGrant],
        account: AccountState | None,
    ) -> RevokeResult:
        """Remove what ``grant`` gave, keeping whatever ``remaining`` still covers."""
        ...

    async def refresh(
        self, person: str, *, active: Sequence[AccessGrant], account: AccountState
    ) -> GrantResult | None:
        """Periodic upkeep while grants run (push expiry dates, rotate due passwords)."""
        ...

    async def cleanup(self, person: str, *, account: AccountState) -> None:
        """Delete an account left disabled by ``revoke`` (``user_cleanup_days``)."""
        ...

    async def list_managed(self) -> list[ManagedAccess]: ...

    async def remove_managed(self, access: ManagedAccess) -> None: ...


# --------------------------------------------------------------------------- notifiers


@dataclass(frozen=True)
class MessageRef:
    """A message Gatepass posted: ``channel`` and ``message_id`` mean what the platform says
    (a Slack channel and ``ts``; a Teams conversation id and activity id)."""

    platform: str
    channel: str
    message_id: str


@runtime_checkable
class Notifier(Protocol):
    """One chat platform. Messages are domain objects (``core.domain.messages``); the notifier
    renders them. It never changes domain state."""

    platform: str

    async def reachable(self, person: str) -> bool:
        """True when this platform can send a direct message to ``person`` (email)."""
        ...

    async def send(self, person: str, message: Any) -> MessageRef | None:
        """Send ``message`` privately to ``person``; None when they are not reachable here."""
        ...

    async def update(self, ref: MessageRef, message: Any) -> None:
        """Replace a direct message posted earlier with ``message`` (its new state)."""
        ...

    async def post_to_channel(self, channel: str, message: Any) -> MessageRef | None:
        """Post ``message`` to a channel everybody there sees (a Slack channel id; a Teams
        channel id of a team the app is installed in), whatever it is: a break-glass
        broadcast, an approval ask. None when the app cannot post there (not in the channel,
        not installed in its team): the notifier has logged which channel and what to do, and
        the caller decides what else to do (a connector failure raises, to be retried)."""
        ...

    async def update_in_channel(self, ref: MessageRef, message: Any) -> None:
        """Replace a channel message posted earlier with ``message`` (its new state)."""
        ...


# --------------------------------------------------------------------------- disabled accounts


@runtime_checkable
class KeepsDisabledAccounts(Protocol):
    """An integration whose disabled accounts (``user_cleanup_days``) need upkeep until their
    cleanup, because the external system would remove them earlier by itself (Atlas deletes a
    database user at its ``deleteAfterDate``, which may be at most a week ahead)."""

    async def hold(self, person: str, *, account: AccountState) -> AccountState | None:
        """Keep the disabled account until its cleanup; its updated state, or None when
        nothing changed. Idempotent."""
        ...
