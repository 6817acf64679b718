"""The sections of the config file: platforms, directory, integrations, access flows, jobs.

Every model is strict (unknown keys are errors) and frozen (settings are read once).
"""

from __future__ import annotations

import fnmatch
from datetime import timedelta
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from core.config.approval_channels import ApprovalChannel, mode_problem
from core.config.break_glass import BreakGlass, break_glass_flow_problem
from core.config.secrets import SecretRef
from core.domain.durations import format_duration, parse_duration

NAME_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
ATLAS_URL = "https://cloud.mongodb.com"
MAX_CUSTOM_ACCESS_DETAILS = 400


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _ref(value: Any) -> SecretRef:
    return value if isinstance(value, SecretRef) else SecretRef.parse(value)


def _duration(value: Any) -> timedelta:
    return value if isinstance(value, timedelta) else parse_duration(value)


DATABASE_SCHEMES = ("sqlite+aiosqlite", "postgresql+psycopg")


def database_url_problem(url: str) -> str | None:
    """Why ``url`` is not a database Gatepass can use (None when it is)."""
    scheme, sep, rest = url.partition("://")
    if sep and scheme in DATABASE_SCHEMES and rest:
        return None
    shown = scheme + "://…" if sep else (url[:40] or "(empty)")
    return (
        f"{shown} is not a supported database: use sqlite+aiosqlite:///PATH (one machine) or "
        "postgresql+psycopg://USER@HOST:5432/DATABASE"
    )


class MetricsServer(Strict):
    """A separate listener for ``/metrics`` (and the health routes), e.g. on a private port."""

    host: str = "127.0.0.1"
    port: int = Field(9464, ge=1, le=65535)


class ServerConfig(Strict):
    host: str = "0.0.0.0"  # noqa: S104 - a bot must be reachable by the chat platforms
    port: int = Field(3978, ge=1, le=65535)
    # None: ``serve`` answers /metrics on its own port and ``worker`` exposes none.
    metrics: MetricsServer | None = None

    @model_validator(mode="after")
    def _distinct_ports(self) -> ServerConfig:
        if self.metrics is not None and self.metrics.port == self.port:
            raise ValueError("metrics.port must differ from port")
        return self


class SlackConfig(Strict):
    bot_token: SecretRef
    signing_secret: SecretRef
    app_token: SecretRef | None = None
    api_url: str = "https://slack.com/api/"
    command: str = "/gatepass"

    _refs = field_validator("bot_token", "signing_secret", "app_token", mode="before")(
        classmethod(lambda cls, v: None if v is None else _ref(v))
    )

    @field_validator("command")
    @classmethod
    def _command(cls, value: str) -> str:
        if not value.startswith("/") or len(value) < 2 or " " in value:
            raise ValueError("a slash command starts with '/' and has no spaces, e.g. /gatepass")
        return value

    @field_validator("api_url")
    @classmethod
    def _api_url(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")):
            raise ValueError("must be an http(s) URL")
        return value if value.endswith("/") else value + "/"


class TeamsConfig(Strict):
    app_id: SecretRef | None = None
    app_password: SecretRef | None = None
    tenant_id: SecretRef | None = None
    token_url: str | None = None
    openid_metadata_url: str | None = None
    dev_mode: bool = False

    _refs = field_validator("app_id", "app_password", "tenant_id", mode="before")(
        classmethod(lambda cls, v: None if v is None else _ref(v))
    )

    @model_validator(mode="after")
    def _credentials(self) -> TeamsConfig:
        if not self.dev_mode and (self.app_id is None or self.app_password is None):
            raise ValueError("app_id and app_password are required (unless dev_mode: true)")
        return self


class DirectoryUser(Strict):
    email: str
    name: str = ""
    groups: tuple[str, ...] = ()
    attributes: dict[str, str] = Field(default_factory=dict)

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        local, at, domain = value.strip().partition("@")
        if not at or not local or "." not in domain or " " in value.strip():
            raise ValueError(f"{value!r} is not an email address")
        return value.strip().lower()

    @field_validator("attributes")
    @classmethod
    def _attributes(cls, value: dict[str, str]) -> dict[str, str]:
        reserved = {"user", "group", "email"} & set(value)
        if reserved:
            raise ValueError(f"{sorted(reserved)} are built-in attributes, not custom ones")
        return value


class ScimConfig(Strict):
    """The SCIM 2.0 endpoint an identity provider provisions people and groups through."""

    token: SecretRef  # the bearer token the identity provider sends

    _token = field_validator("token", mode="before")(classmethod(lambda cls, v: _ref(v)))


class DirectoryConfig(Strict):
    users: tuple[DirectoryUser, ...] = ()
    scim: ScimConfig | None = None

    @model_validator(mode="after")
    def _unique(self) -> DirectoryConfig:
        seen: set[str] = set()
        for user in self.users:
            if user.email in seen:
                raise ValueError(f"{user.email} is listed twice")
            seen.add(user.email)
        return self


class Principal(Strict):
    """A directory selector: ``{attribute: group, value: dba}``; ``user`` matches the email."""

    attribute: str = Field(min_length=1)
    value: str = Field(min_length=1)

    def describe(self) -> str:
        return f"{self.attribute} {self.value}"


class ResourceOwner(Strict):
    tag_key: str = Field(min_length=1)
    attribute: str = Field(min_length=1)


class IntegrationBase(Strict):
    type: str  # each kind narrows it to its own literal
    name: str = Field(pattern=NAME_PATTERN)
    secret: SecretRef | dict[str, SecretRef]
    atlas_url: str = ATLAS_URL
    discovery: tuple[str, ...] = ()
    custom_access_details: str | None = None
    integration_owners: tuple[Principal, ...] = ()
    resource_owner: ResourceOwner | None = None

    @field_validator("secret", mode="before")
    @classmethod
    def _secret(cls, value: Any) -> SecretRef | dict[str, SecretRef]:
        if isinstance(value, dict):
            allowed = ({"public_key", "private_key"}, {"client_id", "client_secret"})
            if set(value) not in allowed:
                raise ValueError(
                    "a secret mapping holds either public_key and private_key (an API key) "
                    "or client_id and client_secret (a service account)"
                )
            refs = {}
            for key, item in value.items():
                try:
                    refs[key] = _ref(item)
                except ValueError as error:
                    raise ValueError(f"[{key}] {error}") from None
            return refs
        return _ref(value)

    @field_validator("atlas_url")
    @classmethod
    def _atlas_url(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")):
            raise ValueError("must be an http(s) URL")
        return value.rstrip("/")

    @field_validator("custom_access_details")
    @classmethod
    def _custom_details(cls, value: str | None) -> str | None:
        if value is not None and len(value) > MAX_CUSTOM_ACCESS_DETAILS:
            raise ValueError(
                f"is {len(value)} characters long; at most {MAX_CUSTOM_ACCESS_DETAILS} allowed"
            )
        return value

    @model_validator(mode="after")
    def _owner_rules(self) -> IntegrationBase:
        if self.resource_owner is not None and not self.integration_owners:
            raise ValueError(
                "resource_owner requires integration_owners: they are the fallback when a "
                "resource has no owner tag"
            )
        return self


class AtlasRateLimit(Strict):
    """Atlas's token bucket for the database users of a project: Gatepass stays under it."""

    burst: int = Field(10_000, ge=1)
    per_minute: float = Field(5_000, gt=0)


class AtlasDatabaseIntegration(IntegrationBase):
    type: Literal["mongodb-atlas"]
    project_id: str = Field(pattern=r"^[0-9a-f]{24}$")
    cluster_name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9-]{0,63}$")
    cluster_type: Literal["REPLICASET", "SHARDED", "GEOSHARDED"] = "REPLICASET"
    private_endpoint_id: str | None = None
    credential_rotation_days: int | None = Field(None, ge=1, le=365)
    user_cleanup_days: int | None = Field(None, ge=1, le=365)
    discovery: tuple[Literal["cluster", "database", "collection"], ...] = ("cluster", "database")
    rate_limit: AtlasRateLimit = Field(default_factory=AtlasRateLimit)


class AtlasPortalIntegration(IntegrationBase):
    type: Literal["mongodb-atlas-portal"]
    organization_id: str = Field(pattern=r"^[0-9a-f]{24}$")
    discovery: tuple[Literal["organization", "project"], ...] = ("organization", "project")


IntegrationConfig = Annotated[
    AtlasDatabaseIntegration | AtlasPortalIntegration, Field(discriminator="type")
]


class AccessFlow(Strict):
    name: str = Field(pattern=NAME_PATTERN)
    requestors: tuple[Principal, ...] = Field(min_length=1)
    integration: str
    resources: tuple[str, ...] = Field(min_length=1)
    permissions: tuple[str, ...] = Field(min_length=1)
    durations: tuple[timedelta, ...] = Field(min_length=1)
    approvers: Literal["owners", "automatic", "manager"] | tuple[Principal, ...] = "owners"
    approvals_required: int = Field(1, ge=1, le=10)
    require_justification: bool = True
    require_approval_reason: bool = False
    pending_timeout: timedelta = timedelta(hours=24)
    reminders: tuple[timedelta, ...] = ()
    # The longest a grant may last with all its extensions (none: no cap).
    max_total_duration: timedelta | None = None
    # Where approvers are asked: their DMs (dm), the approval_channel (channel), or both.
    notify_approvers: Literal["dm", "channel", "both"] = "dm"
    approval_channel: ApprovalChannel | None = None
    # Self-approved, broadcast and reviewed access (``core.config.break_glass``).
    break_glass: BreakGlass | None = None

    _durations = field_validator("durations", "reminders", mode="before")(
        classmethod(lambda cls, v: tuple(_duration(x) for x in v) if isinstance(v, list) else v)
    )
    _timeout = field_validator("pending_timeout", mode="before")(
        classmethod(lambda cls, v: _duration(v))
    )
    _total = field_validator("max_total_duration", mode="before")(
        classmethod(lambda cls, v: None if v is None else _duration(v))
    )

    @field_validator("resources")
    @classmethod
    def _resources(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for pattern in value:
            kind, sep, glob = pattern.partition(":")
            if not sep or not kind or not glob:
                raise ValueError(f"{pattern!r} is not 'type:glob', e.g. 'database:analytics*'")
        return value

    @model_validator(mode="after")
    def _timing(self) -> AccessFlow:
        if self.approvers == "automatic" and self.approvals_required != 1:
            raise ValueError("approvals_required has no meaning with approvers: automatic")
        for offset in self.reminders:
            if offset >= self.pending_timeout:
                raise ValueError(
                    "reminders: every reminder must come before pending_timeout "
                    f"({self.pending_timeout})"
                )
        if isinstance(self.approvers, tuple) and not self.approvers:
            raise ValueError("approvers: name at least one {attribute, value}")
        if self.max_total_duration is not None and self.max_total_duration < self.max_duration:
            raise ValueError(
                f"max_total_duration ({format_duration(self.max_total_duration)}) is shorter "
                f"than the longest of durations ({format_duration(self.max_duration)}): no "
                "grant could be given in full"
            )
        return self

    @model_validator(mode="after")
    def _channel(self) -> AccessFlow:
        problem = mode_problem(
            self.notify_approvers, self.approval_channel, automatic=self.is_automatic
        )
        if problem is not None:
            raise ValueError(problem)
        return self

    @model_validator(mode="after")
    def _break_glass_rules(self) -> AccessFlow:
        if self.break_glass is None:
            return self
        problem = break_glass_flow_problem(
            break_glass=self.break_glass,
            durations=self.durations,
            automatic=self.is_automatic,
            require_justification=self.require_justification,
            reminders=self.reminders,
        )
        if problem is not None:
            raise ValueError(problem)
        return self

    @property
    def max_duration(self) -> timedelta:
        return max(self.durations)

    @property
    def is_automatic(self) -> bool:
        return self.approvers == "automatic"

    def resource_patterns(self) -> list[tuple[str, str]]:
        return [tuple(p.split(":", 1)) for p in self.resources]  # type: ignore[misc]

    def covers(self, resource_type: str, resource_name: str) -> bool:
        return any(
            kind == resource_type and fnmatch.fnmatchcase(resource_name, glob)
            for kind, glob in self.resource_patterns()
        )


class JobsConfig(Strict):
    poll_interval: timedelta = timedelta(seconds=1)
    lease: timedelta = timedelta(seconds=60)
    max_attempts: int = Field(8, ge=1, le=100)
    discovery_interval: timedelta = timedelta(hours=1)
    reconcile_interval: timedelta = timedelta(minutes=15)
    # Every worker writes its heartbeat this often; one silent for heartbeat_timeout is dead,
    # and the leases it held (of jobs, of accounts) are free to take over.
    heartbeat: timedelta = timedelta(seconds=1)
    heartbeat_timeout: timedelta = timedelta(seconds=5)
    # A job that keeps answering "not yet" (waiting for Atlas to deploy, for a busy account)
    # fails visibly after this long instead of waiting for ever.
    max_wait: timedelta = timedelta(minutes=30)

    _d = field_validator(
        "poll_interval",
        "lease",
        "discovery_interval",
        "reconcile_interval",
        "heartbeat",
        "heartbeat_timeout",
        "max_wait",
        mode="before",
    )(classmethod(lambda cls, v: _duration(v)))

    @model_validator(mode="after")
    def _heartbeats(self) -> JobsConfig:
        if self.heartbeat_timeout < self.heartbeat * 3:
            raise ValueError(
                f"heartbeat_timeout ({format_duration(self.heartbeat_timeout)}) must be at "
                f"least three heartbeats ({format_duration(self.heartbeat * 3)}): a worker "
                "missing one beat is not dead"
            )
        return self
