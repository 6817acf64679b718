"""The fake's memory of an Atlas account: organizations, projects, clusters, users."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from core.domain.ports import Clock
from tests.fakes.atlas_spec.contract import API_PREFIX
from tests.fakes.atlas_spec.wire import ApiError, page

Handled = tuple[int, Any]


def iso(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def absolute(payload: Any, origin: str) -> Any:
    """``payload`` with every origin-relative ``href`` made absolute (Atlas sends full URLs)."""
    if isinstance(payload, dict):
        return {
            key: origin + value
            if key == "href" and isinstance(value, str) and value.startswith("/")
            else absolute(value, origin)
            for key, value in payload.items()
        }
    if isinstance(payload, list):
        return [absolute(item, origin) for item in payload]
    return payload


def object_id() -> str:
    return secrets.token_hex(12)


class AtlasState:
    """Plain state plus the look-ups every rule needs (404s in Atlas's words)."""

    def __init__(self, *, clock: Clock, max_users_per_project: int, pending_polls: int) -> None:
        self.clock = clock
        self.url = ""
        self.max_users_per_project = max_users_per_project
        self.pending_polls = pending_polls
        self.orgs: dict[str, dict[str, Any]] = {}
        self.projects: dict[str, dict[str, Any]] = {}
        self.clusters: dict[str, dict[str, dict[str, Any]]] = {}  # project -> name -> cluster
        self.processes: dict[str, list[dict[str, Any]]] = {}  # project -> processes
        self.databases: dict[str, list[str]] = {}  # process id -> database names
        self.users: dict[str, dict[str, dict[str, Any]]] = {}  # project -> username -> user
        self.passwords: dict[tuple[str, str], str] = {}  # (project, username) -> password
        self.org_users: dict[str, dict[str, dict[str, Any]]] = {}  # org -> user id -> user
        self.invitations: list[str] = []  # usernames Atlas "emailed" an invitation
        self.status_polls: dict[str, int] = {}  # project -> PENDING answers still to give

    def now(self) -> datetime:
        return self.clock.now()

    def link(self, path: str) -> str:
        """A link as stored: origin-relative; ``absolute`` adds the origin when answering."""
        return f"{API_PREFIX}{path}"

    def links(self, path: str) -> list[dict[str, str]]:
        return [{"href": self.link(path), "rel": "self"}]

    def page(self, items: Sequence[Any], query: dict[str, str], path: str) -> dict[str, Any]:
        return page(items, query=query, self_url=self.link(path))

    def project(self, group_id: str) -> dict[str, Any]:
        found = self.projects.get(group_id)
        if found is None:
            raise ApiError(
                404,
                "GROUP_NOT_FOUND",
                f"No group with ID {group_id} exists.",
                parameters=[group_id],
            )
        return found

    def org(self, org_id: str) -> dict[str, Any]:
        found = self.orgs.get(org_id)
        if found is None:
            raise ApiError(
                404,
                "ORG_NOT_FOUND",
                f"No organization with ID {org_id} exists.",
                parameters=[org_id],
            )
        return found

    def cluster(self, group_id: str, name: str) -> dict[str, Any]:
        self.project(group_id)
        found = self.clusters.get(group_id, {}).get(name)
        if found is None:
            raise ApiError(
                404,
                "CLUSTER_NOT_FOUND",
                f"No cluster named {name} exists in group {group_id}.",
                parameters=[name, group_id],
            )
        return found

    def user(self, username: str, group_id: str | None = None) -> dict[str, Any] | None:
        """A database user, for assertions (``group_id`` defaults to the only/first project)."""
        group = group_id or next(iter(self.projects), "")
        return self.users.get(group, {}).get(username)

    def changed(self, group_id: str) -> None:
        """A deployment change: the next ``pending_polls`` status calls answer PENDING."""
        self.status_polls[group_id] = self.pending_polls
