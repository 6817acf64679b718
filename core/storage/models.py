"""Tables. Times are timezone-aware UTC in Python and stored as UTC on every database; statuses,
decisions and job states are enums in Python and their plain string values in the database."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from core.domain.lifecycle import Outcome, Status


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """Aware UTC datetimes on SQLite (which has no time zones) and PostgreSQL alike."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: Gatepass stores aware UTC times only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class EnumText(sa.types.TypeDecorator[Any]):
    """A string enum stored as its value in a ``VARCHAR(length)``: the very column a plain string
    field makes, so typing a column as an enum changes nothing in the database. A value that is
    not one of the enum's is refused before it is written."""

    impl = sa.String
    cache_ok = True

    def __init__(self, enum_type: type[enum.StrEnum], length: int) -> None:
        super().__init__(length=length)
        self.enum_type = enum_type

    def process_bind_param(self, value: Any, dialect: sa.Dialect) -> str | None:
        return None if value is None else self.enum_type(value).value

    def process_result_value(self, value: Any, dialect: sa.Dialect) -> enum.StrEnum | None:
        return None if value is None else self.enum_type(value)


class JobState(enum.StrEnum):
    QUEUED = "queued"
    DONE = "done"
    DEAD = "dead"  # gave up: retrying could not help, or its attempts ran out


def _enum(
    enum_type: type[enum.StrEnum], length: int, *, nullable: bool = False, index: bool = False
) -> Any:
    return Field(sa_column=sa.Column(EnumText(enum_type, length), nullable=nullable, index=index))


def _time(*, nullable: bool = False, index: bool = False) -> Any:
    return Field(sa_column=sa.Column(UTCDateTime(), nullable=nullable, index=index))


def _json() -> Any:
    return Field(default_factory=dict, sa_column=sa.Column(sa.JSON(), nullable=False))


class AccessRequest(SQLModel, table=True):
    __tablename__ = "requests"

    id: str = Field(primary_key=True, max_length=16)
    flow: str = Field(max_length=64)
    integration: str = Field(max_length=64, index=True)
    resource_type: str = Field(max_length=32)
    resource_name: str = Field(max_length=255)
    resource_external_id: str | None = Field(default=None, max_length=64)
    permission: str = Field(max_length=64)
    duration_seconds: int
    justification: str = Field(default="", max_length=2000)
    requester: str = Field(max_length=320, index=True)
    platform: str = Field(max_length=16)
    status: Status = _enum(Status, 16, index=True)
    approvals_required: int = 1
    extends_request_id: str | None = Field(default=None, max_length=16)
    created_at: datetime = _time()
    pending_until: datetime | None = _time(nullable=True)
    decided_at: datetime | None = _time(nullable=True)
    decided_by: str | None = Field(default=None, max_length=320)
    decided_on: str | None = Field(default=None, max_length=16)
    decision_reason: str | None = Field(default=None, max_length=2000)
    starts_at: datetime | None = _time(nullable=True)
    ends_at: datetime | None = _time(nullable=True, index=True)
    ended_at: datetime | None = _time(nullable=True)
    end_reason: str | None = Field(default=None, max_length=2000)
    failure: str | None = Field(default=None, max_length=2000)


class RequestApprover(SQLModel, table=True):
    """Who routing chose for a request, and why. ``escalation`` marks owners added later."""

    __tablename__ = "request_approvers"

    request_id: str = Field(foreign_key="requests.id", primary_key=True, max_length=16)
    email: str = Field(primary_key=True, max_length=320, index=True)
    reason: str = Field(max_length=500)
    escalation: bool = False


class Decision(SQLModel, table=True):
    __tablename__ = "decisions"
    __table_args__ = (sa.UniqueConstraint("request_id", "approver"),)

    id: int | None = Field(default=None, primary_key=True)
    request_id: str = Field(foreign_key="requests.id", max_length=16, index=True)
    approver: str = Field(max_length=320)
    outcome: Outcome = _enum(Outcome, 8)
    reason: str | None = Field(default=None, max_length=2000)
    platform: str = Field(max_length=16)
    decided_at: datetime = _time()


class Grant(SQLModel, table=True):
    """Access that exists (or is being made) in an integration for one approved request."""

    __tablename__ = "grants"

    request_id: str = Field(foreign_key="requests.id", primary_key=True, max_length=16)
    integration: str = Field(max_length=64, index=True)
    person: str = Field(max_length=320, index=True)
    username: str | None = Field(default=None, max_length=128)
    connection: dict[str, Any] = _json()
    password_ciphertext: str | None = Field(default=None, max_length=1000)
    ready: bool = False
    granted_at: datetime | None = _time(nullable=True)


class IntegrationAccount(SQLModel, table=True):
    """Core's memory of one person's account in one integration (see ports.AccountState)."""

    __tablename__ = "integration_accounts"

    integration: str = Field(primary_key=True, max_length=64)
    person: str = Field(primary_key=True, max_length=320)
    username: str | None = Field(default=None, max_length=128)
    password_set_at: datetime | None = _time(nullable=True)
    created_by_gatepass: bool = False
    extra: dict[str, Any] = _json()
    cleanup_at: datetime | None = _time(nullable=True)
    # The account's current password, sealed, while any grant on it lives: each grant's copy
    # waiting for its reveal is taken from here; erased when the last grant ends.
    password_ciphertext: str | None = Field(default=None, max_length=1000)
    # A short lease so that only one job changes this account at a time (the union of grants
    # is computed and applied under it). ``locked_by_worker``: the worker running that job,
    # whose heartbeat (``workers``) says whether the holder is still alive.
    locked_by: str | None = Field(default=None, max_length=64)
    locked_until: datetime | None = _time(nullable=True)
    locked_by_worker: str | None = Field(default=None, max_length=64)


class PostedMessage(SQLModel, table=True):
    """A message Gatepass posted about a request (platform-neutral reference)."""

    __tablename__ = "posted_messages"
    __table_args__ = (sa.UniqueConstraint("platform", "channel", "message_id"),)

    id: int | None = Field(default=None, primary_key=True)
    request_id: str = Field(foreign_key="requests.id", max_length=16, index=True)
    recipient: str = Field(max_length=320)
    purpose: str = Field(max_length=96)  # approval[:round] | receipt | <notice>:<key> | alert:<job>
    platform: str = Field(max_length=16)
    channel: str = Field(max_length=255)
    message_id: str = Field(max_length=255)
    posted_at: datetime = _time()


class ChatAccount(SQLModel, table=True):
    """A person's account on a chat platform. ``extra`` holds what only that platform's edge
    reads (a Teams conversation reference)."""

    __tablename__ = "chat_accounts"

    platform: str = Field(primary_key=True, max_length=16)
    platform_user_id: str = Field(primary_key=True, max_length=255)
    email: str = Field(max_length=320, index=True)
    display_name: str = Field(default="", max_length=255)
    extra: dict[str, Any] = _json()
    updated_at: datetime = _time()


class Resource(SQLModel, table=True):
    __tablename__ = "resources"

    integration: str = Field(primary_key=True, max_length=64)
    type: str = Field(primary_key=True, max_length=32)
    name: str = Field(primary_key=True, max_length=255)
    external_id: str | None = Field(default=None, max_length=64)
    parent: str | None = Field(default=None, max_length=300)
    tags: dict[str, str] = _json()
    details: dict[str, Any] = _json()
    discovered_at: datetime = _time()


class Job(SQLModel, table=True):
    __tablename__ = "jobs"
    __table_args__ = (sa.Index("ix_jobs_due", "state", "run_at"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=32)
    payload: dict[str, Any] = _json()
    dedupe_key: str = Field(max_length=255, unique=True)
    state: JobState = Field(
        default=JobState.QUEUED, sa_column=sa.Column(EnumText(JobState, 8), nullable=False)
    )
    run_at: datetime = _time()
    attempts: int = 0
    max_attempts: int = 8
    locked_by: str | None = Field(default=None, max_length=64)
    locked_until: datetime | None = _time(nullable=True)
    last_error: str | None = Field(default=None, max_length=2000)
    created_at: datetime = _time()
    finished_at: datetime | None = _time(nullable=True)
    # Since when the handler has kept answering "not yet" (Reschedule), without a break: past
    # the kind's deadline the job fails visibly instead of waiting for ever.
    waiting_since: datetime | None = _time(nullable=True)


class WorkerBeat(SQLModel, table=True):
    """A running worker's heartbeat, renewed every tick. A lease (of a job or of an account)
    whose holder's heartbeat is stale is free to take over: its holder is dead."""

    __tablename__ = "workers"

    id: str = Field(primary_key=True, max_length=64)
    started_at: datetime = _time()
    seen_at: datetime = _time(index=True)


class AuditEvent(SQLModel, table=True):
    __tablename__ = "audit_events"

    seq: int | None = Field(default=None, primary_key=True)
    at: datetime = _time(index=True)
    actor: str = Field(max_length=320)
    action: str = Field(max_length=64)
    request_id: str | None = Field(default=None, max_length=16, index=True)
    from_status: Status | None = Field(
        default=None, sa_column=sa.Column(EnumText(Status, 16), nullable=True)
    )
    to_status: Status | None = Field(
        default=None, sa_column=sa.Column(EnumText(Status, 16), nullable=True)
    )
    platform: str | None = Field(default=None, max_length=16)
    detail: dict[str, Any] = _json()
    prev_hash: str = Field(default="", max_length=64)
    hash: str = Field(default="", max_length=64)
    # The event's place in the hash chain, given by the sequencer (``core.storage.audit``)
    # after the commit; None (and empty hashes) until then.
    chain_seq: int | None = Field(
        default=None, sa_column=sa.Column(sa.Integer, nullable=True, index=True, unique=True)
    )


class AuditHead(SQLModel, table=True):
    """One row: the chain's last position and hash. Locked by the sequencer only (never by a
    writer of events), so the chain never forks."""

    __tablename__ = "audit_head"

    id: int = Field(default=1, primary_key=True)
    seq: int = 0
    hash: str = Field(max_length=64)


class SeenDelivery(SQLModel, table=True):
    """A signed inbound request already accepted once (its signature's digest), kept until the
    platform itself would refuse it as stale. Shared by every replica."""

    __tablename__ = "seen_deliveries"

    digest: str = Field(primary_key=True, max_length=64)
    expires_at: datetime = _time(index=True)


# ------------------------------------------------------------------ the provisioned directory


class DirectoryUser(SQLModel, table=True):
    """A person provisioned over SCIM, keyed by lower-cased email. A deleted person stays as a
    tombstone (``deleted``, no ``user_name_key``) so every replica's directory learns of it."""

    __tablename__ = "directory_users"

    email: str = Field(primary_key=True, max_length=320)
    id: str = Field(max_length=64, unique=True)
    user_name: str = Field(max_length=320)
    user_name_key: str | None = Field(default=None, max_length=320, unique=True)
    external_id: str | None = Field(default=None, max_length=320, index=True)
    display_name: str = Field(default="", max_length=320)
    active: bool = True
    deleted: bool = False
    manager_id: str | None = Field(default=None, max_length=320, index=True)
    attributes: dict[str, Any] = _json()
    resource: dict[str, Any] = _json()
    version: int = 1
    revision: int = Field(default=0, index=True)
    created_at: datetime = _time()
    updated_at: datetime = _time()


class DirectoryGroup(SQLModel, table=True):
    """A group provisioned over SCIM; its ``display_name`` is the ``group`` attribute."""

    __tablename__ = "directory_groups"

    id: str = Field(primary_key=True, max_length=64)
    display_name: str = Field(max_length=320)
    display_key: str | None = Field(default=None, max_length=320, unique=True)
    external_id: str | None = Field(default=None, max_length=320, index=True)
    deleted: bool = False
    resource: dict[str, Any] = _json()
    version: int = 1
    revision: int = Field(default=0, index=True)
    created_at: datetime = _time()
    updated_at: datetime = _time()


class DirectoryMember(SQLModel, table=True):
    __tablename__ = "directory_members"

    group_id: str = Field(primary_key=True, max_length=64)
    user_id: str = Field(primary_key=True, max_length=64, index=True)


class DirectoryState(SQLModel, table=True):
    """One row: the directory's change counter, bumped by every provisioning change. Each
    replica compares it with the one its in-memory directory was built at."""

    __tablename__ = "directory_state"

    id: int = Field(default=1, primary_key=True)
    version: int = 0


class ChatChannel(SQLModel, table=True):
    """A channel of a chat platform Gatepass may post approval asks to (a flow's
    ``approval_channel``). ``extra`` holds what only that platform's edge reads (a Teams
    channel's conversation reference, captured when the app was installed in its team)."""

    __tablename__ = "chat_channels"

    platform: str = Field(primary_key=True, max_length=16)
    channel_id: str = Field(primary_key=True, max_length=255)
    team_id: str = Field(default="", max_length=255)
    extra: dict[str, Any] = _json()
    updated_at: datetime = _time()


class BreakGlassUse(SQLModel, table=True):
    """A break-glass request: the use it counts against its requester's daily limit (``slot``
    ``n`` of day ``day``, unique, so two uses at once cannot both take the last one), and the
    integration owners' review of it afterwards."""

    __tablename__ = "break_glass_uses"
    __table_args__ = (sa.UniqueConstraint("person", "day", "slot"),)

    request_id: str = Field(foreign_key="requests.id", primary_key=True, max_length=16)
    person: str = Field(max_length=320, index=True)
    day: str = Field(max_length=10)  # the UTC calendar day of the use, YYYY-MM-DD
    slot: int
    used_at: datetime = _time()
    review: str | None = Field(default=None, max_length=16)  # acknowledged | flagged
    reviewed_by: str | None = Field(default=None, max_length=320)
    reviewed_at: datetime | None = _time(nullable=True)
    review_platform: str | None = Field(default=None, max_length=16)


# ------------------------------------------------------------------ outbound webhooks


# Registered with the tables' metadata here; modules of their own for this one's size.
import core.storage.membership_models  # noqa: E402
import core.storage.webhook_models  # noqa: E402, F401
