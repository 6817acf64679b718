"""The config file's schema (``gatepass.yml``): strict, validated once at start.

Unknown keys are errors everywhere: a typo must never silently disable a control. Every error
names the file, the key path and what is wrong.
"""

from __future__ import annotations

import fnmatch
import re
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from core import permissions
from core.durations import parse_duration
from core.secrets import SecretRef

NAME_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///gatepass.db"
ATLAS_URL = "https://cloud.mongodb.com"
MAX_CUSTOM_ACCESS_DETAILS = 400


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _ref(value: Any) -> SecretRef:
    return value if isinstance(value, SecretRef) else SecretRef.parse(value)


def _duration(value: Any) -> timedelta:
    return value if isinstance(value, timedelta) else parse_duration(value)


SecretField = Annotated[SecretRef, Field(json_schema_extra={"format": "secret-ref"})]
Duration = Annotated[timedelta, Field()]


class ServerConfig(Strict):
    host: str = "0.0.0.0"  # noqa: S104 - a bot must be reachable by the chat platforms
    port: int = Field(3978, ge=1, le=65535)


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


class DirectoryConfig(Strict):
    users: tuple[DirectoryUser, ...] = ()

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


class AtlasDatabaseIntegration(IntegrationBase):
    type: Literal["mongodb-atlas"]
    project_id: str = Field(pattern=r"^[0-9a-f]{24}$")
    cluster_name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9-]{0,63}$")
    cluster_type: Literal["REPLICASET", "SHARDED", "GEOSHARDED"] = "REPLICASET"
    private_endpoint_id: str | None = None
    credential_rotation_days: int | None = Field(None, ge=1, le=365)
    user_cleanup_days: int | None = Field(None, ge=1, le=365)
    discovery: tuple[Literal["cluster", "database", "collection"], ...] = ("cluster", "database")


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
    approvers: Literal["owners", "automatic"] | tuple[Principal, ...] = "owners"
    approvals_required: int = Field(1, ge=1, le=10)
    require_justification: bool = True
    require_approval_reason: bool = False
    pending_timeout: timedelta = timedelta(hours=24)
    reminders: tuple[timedelta, ...] = ()

    _durations = field_validator("durations", "reminders", mode="before")(
        classmethod(lambda cls, v: tuple(_duration(x) for x in v) if isinstance(v, list) else v)
    )
    _timeout = field_validator("pending_timeout", mode="before")(
        classmethod(lambda cls, v: _duration(v))
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

    _d = field_validator(
        "poll_interval", "lease", "discovery_interval", "reconcile_interval", mode="before"
    )(classmethod(lambda cls, v: _duration(v)))


class GatepassConfig(Strict):
    database_url: str = DEFAULT_DATABASE_URL
    encryption_key: SecretRef | None = None
    server: ServerConfig = ServerConfig()
    slack: SlackConfig | None = None
    teams: TeamsConfig | None = None
    directory: DirectoryConfig = DirectoryConfig()
    integrations: tuple[IntegrationConfig, ...] = ()
    access_flows: tuple[AccessFlow, ...] = ()
    jobs: JobsConfig = JobsConfig()

    _key = field_validator("encryption_key", mode="before")(
        classmethod(lambda cls, v: None if v is None else _ref(v))
    )

    @model_validator(mode="after")
    def _cross_references(self) -> GatepassConfig:
        names: set[str] = set()
        for integration in self.integrations:
            if integration.name in names:
                raise ValueError(f"integrations: the name {integration.name!r} is used twice")
            names.add(integration.name)
        by_name = {i.name: i for i in self.integrations}
        flow_names: set[str] = set()
        for index, flow in enumerate(self.access_flows):
            where = f"access_flows[{index}] ({flow.name})"
            if flow.name in flow_names:
                raise ValueError(f"{where}.name: {flow.name!r} is used twice")
            flow_names.add(flow.name)
            integration = by_name.get(flow.integration)
            if integration is None:
                known = ", ".join(sorted(by_name)) or "none are configured"
                raise ValueError(
                    f"{where}.integration: no integration named {flow.integration!r} ({known})"
                )
            _check_flow_against(where, flow, integration.type)
        return self

    def integration(self, name: str) -> AtlasDatabaseIntegration | AtlasPortalIntegration:
        for integration in self.integrations:
            if integration.name == name:
                return integration
        raise KeyError(name)

    def flow(self, name: str) -> AccessFlow:
        for flow in self.access_flows:
            if flow.name == name:
                return flow
        raise KeyError(name)


def _check_flow_against(where: str, flow: AccessFlow, integration_type: str) -> None:
    types = permissions.resource_types_for(integration_type)
    for kind, _glob in flow.resource_patterns():
        if kind not in types:
            raise ValueError(
                f"{where}.resources: {kind!r} is not a resource type of {integration_type} "
                f"({', '.join(types)})"
            )
    flow_types = {kind for kind, _ in flow.resource_patterns()}
    for permission in flow.permissions:
        if not permissions.permission_known(integration_type, permission):
            raise ValueError(
                f"{where}.permissions: {permission!r} is not a permission of {integration_type} "
                f"(valid: {', '.join(permissions.known_permissions(integration_type))})"
            )
        if not any(
            permissions.permission_applies(integration_type, t, permission) for t in flow_types
        ):
            raise ValueError(
                f"{where}.permissions: {permission!r} applies to none of this flow's resource "
                f"types ({', '.join(sorted(flow_types))})"
            )


class ConfigError(Exception):
    """The config file is unreadable or invalid; ``problems`` holds one line per error."""

    def __init__(self, path: str, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        super().__init__("\n".join(f"{path}: {problem}" for problem in problems))


def _loc_to_path(loc: tuple[Any, ...], data: Any) -> str:
    parts: list[str] = []
    node = data
    for item in loc:
        if isinstance(item, int):
            label = f"[{item}]"
            if isinstance(node, list) and item < len(node):
                node = node[item]
                if isinstance(node, dict) and isinstance(node.get("name"), str):
                    label += f" ({node['name']})"
            else:
                node = None
            parts.append(label)
        else:
            # Discriminated unions add the tag ("mongodb-atlas") to the location: skip it.
            if (
                isinstance(node, dict)
                and item not in node
                and item in permissions.INTEGRATION_TYPES
            ):
                continue
            node = node.get(item) if isinstance(node, dict) else None
            parts.append(("." if parts else "") + str(item))
    return "".join(parts) or "(top level)"


def _message(error: dict[str, Any]) -> str:
    if error["type"] == "extra_forbidden":
        return "unknown key (check its spelling; unknown keys are never ignored)"
    if error["type"] == "missing":
        return "is required"
    message = str(error["msg"])
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    return message


def parse_config(data: Any, path: str = "gatepass.yml") -> GatepassConfig:
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(path, ["the file must hold a mapping of keys"])
    try:
        return GatepassConfig.model_validate(data)
    except ValidationError as error:
        problems = []
        for item in error.errors():
            loc = _loc_to_path(tuple(item["loc"]), data)
            message = _message(item)
            inner = re.match(r"^\[([A-Za-z_]+)\] (.*)$", message, re.DOTALL)
            if inner:  # an error inside a mapping, reported by the mapping's validator
                loc, message = f"{loc}.{inner[1]}", inner[2]
            problems.append(message if loc == "(top level)" else f"{loc}: {message}")
        raise ConfigError(path, problems) from None


def load_config(path: str | Path) -> GatepassConfig:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(str(path), [f"cannot read the file ({error.strerror})"]) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        raise ConfigError(str(path), [f"{where}not valid YAML ({error})"]) from None
    return parse_config(data, str(path))
