"""The config file's schema (``gatepass.yml``): strict, validated once at start.

Unknown keys are errors everywhere: a typo must never silently disable a control. Every error
names the file, the key path and what is wrong.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import ValidationError, field_validator, model_validator
from pydantic_core import ErrorDetails

from core.config.approval_channels import platform_problem
from core.config.break_glass import break_glass_integration_problem
from core.config.database_pool import DatabasePool
from core.config.network import dev_mode_problem
from core.config.secrets import SecretRef
from core.config.sections import (
    ATLAS_URL,
    MAX_CUSTOM_ACCESS_DETAILS,
    NAME_PATTERN,
    AccessFlow,
    AtlasDatabaseIntegration,
    AtlasPortalIntegration,
    DirectoryConfig,
    DirectoryUser,
    IntegrationBase,
    IntegrationConfig,
    JobsConfig,
    MetricsServer,
    Principal,
    ResourceOwner,
    ScimConfig,
    ServerConfig,
    SlackConfig,
    Strict,
    TeamsConfig,
    _ref,
    database_url_problem,
)
from core.config.webhooks import WebhookConfig, Webhooks
from core.domain import permissions

__all__ = [
    "ATLAS_URL",
    "MAX_CUSTOM_ACCESS_DETAILS",
    "NAME_PATTERN",
    "AccessFlow",
    "AtlasDatabaseIntegration",
    "AtlasPortalIntegration",
    "ConfigError",
    "DatabasePool",
    "DirectoryConfig",
    "DirectoryUser",
    "GatepassConfig",
    "IntegrationBase",
    "IntegrationConfig",
    "JobsConfig",
    "MetricsServer",
    "Principal",
    "ResourceOwner",
    "ScimConfig",
    "ServerConfig",
    "SlackConfig",
    "TeamsConfig",
    "WebhookConfig",
    "load_config",
    "parse_config",
]

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///gatepass.db"


class GatepassConfig(Strict):
    database_url: str = DEFAULT_DATABASE_URL
    database_pool: DatabasePool = DatabasePool()
    encryption_key: SecretRef | None = None
    log_format: Literal["text", "json"] = "text"
    server: ServerConfig = ServerConfig()
    slack: SlackConfig | None = None
    teams: TeamsConfig | None = None
    directory: DirectoryConfig = DirectoryConfig()
    integrations: tuple[IntegrationConfig, ...] = ()
    access_flows: tuple[AccessFlow, ...] = ()
    jobs: JobsConfig = JobsConfig()
    webhooks: Webhooks = ()

    _key = field_validator("encryption_key", mode="before")(
        classmethod(lambda cls, v: None if v is None else _ref(v))
    )

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        if value.startswith(("env:", "file:")):  # checked once resolved
            return value
        problem = database_url_problem(value)
        if problem is not None:
            raise ValueError(problem)
        return value

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
            target = by_name.get(flow.integration)
            if target is None:
                known = ", ".join(sorted(by_name)) or "none are configured"
                raise ValueError(
                    f"{where}.integration: no integration named {flow.integration!r} ({known})"
                )
            _check_flow_against(where, flow, target.type)
            channel_problem = platform_problem(
                flow.notify_approvers,
                flow.approval_channel,
                [name for name in ("slack", "teams") if getattr(self, name) is not None],
            )
            if channel_problem is not None:
                raise ValueError(f"{where}.{channel_problem}")
            if flow.break_glass is not None:
                problem = break_glass_integration_problem(bool(target.integration_owners))
                if problem is not None:
                    raise ValueError(f"{where}.{problem}")
        problem = dev_mode_problem(
            dev_mode=self.teams is not None and self.teams.dev_mode, host=self.server.host
        )
        if problem is not None:
            raise ValueError(problem)
        return self

    @property
    def scim(self) -> ScimConfig | None:
        """The SCIM edge's section (``directory.scim``), named like the chat platforms'."""
        return self.directory.scim

    def integration(self, name: str) -> AtlasDatabaseIntegration | AtlasPortalIntegration:
        for integration in self.integrations:
            if integration.name == name:
                return integration
        raise KeyError(name)

    def webhook(self, name: str) -> WebhookConfig:
        for hook in self.webhooks:
            if hook.name == name:
                return hook
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
            nearest = permissions.nearest_permission(integration_type, permission)
            hint = f"did you mean {nearest!r}? " if nearest else ""
            raise ValueError(
                f"{where}.permissions: {permission!r} is not a permission of {integration_type} "
                f"({hint}valid: {', '.join(permissions.known_permissions(integration_type))})"
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


def _message(error: ErrorDetails) -> str:
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
        raise ConfigError(
            str(path),
            [
                f"cannot read the file ({error.strerror}): check the path and that this user "
                "may read it, or name another with --config or GATEPASS_CONFIG"
            ],
        ) from None
    except UnicodeDecodeError as error:
        raise ConfigError(
            str(path), [f"the file is not UTF-8 text (byte {error.start}): save it as UTF-8"]
        ) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        raise ConfigError(str(path), [f"{where}not valid YAML ({error})"]) from None
    return parse_config(data, str(path))
