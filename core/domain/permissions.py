"""Which permissions each integration kind can grant, and on which kind of resource.

This is the domain's catalogue, shared by config validation, request validation and the Atlas
module: database users get MongoDB built-in roles; Atlas UI users get organization (ORG_*) and
project (GROUP_*) roles.
"""

from __future__ import annotations

import difflib
from typing import Final

ATLAS_DATABASE = "mongodb-atlas"
ATLAS_PORTAL = "mongodb-atlas-portal"
INTEGRATION_TYPES: Final = (ATLAS_DATABASE, ATLAS_PORTAL)

# Resource types per integration kind, in the order a person narrows them down.
RESOURCE_TYPES: Final[dict[str, tuple[str, ...]]] = {
    ATLAS_DATABASE: ("cluster", "database", "collection"),
    ATLAS_PORTAL: ("organization", "project"),
}

CLUSTER_ROLES: Final = (
    "readAnyDatabase",
    "readWriteAnyDatabase",
    "dbAdminAnyDatabase",
    "clusterMonitor",
    "atlasAdmin",
)
DATABASE_ROLES: Final = ("read", "readWrite", "dbAdmin")
COLLECTION_ROLES: Final = ("read", "readWrite")

ORG_ROLES: Final = (
    "ORG_OWNER",
    "ORG_GROUP_CREATOR",
    "ORG_BILLING_ADMIN",
    "ORG_BILLING_READ_ONLY",
    "ORG_STREAM_PROCESSING_ADMIN",
    "ORG_READ_ONLY",
    "ORG_MEMBER",
)
# The project roles Atlas knows: the enum of project roles in Atlas's OpenAPI specification
# (its request bodies take free strings, and refuse anything else only when a grant is made).
GROUP_ROLES: Final = (
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
)

_DATABASE_PERMISSIONS: Final[dict[str, tuple[str, ...]]] = {
    "cluster": CLUSTER_ROLES,
    "database": DATABASE_ROLES,
    "collection": COLLECTION_ROLES,
}


def resource_types_for(integration_type: str) -> tuple[str, ...]:
    return RESOURCE_TYPES.get(integration_type, ())


def permission_applies(integration_type: str, resource_type: str, permission: str) -> bool:
    """True when ``permission`` can be granted on a resource of ``resource_type``."""
    if integration_type == ATLAS_DATABASE:
        return permission in _DATABASE_PERMISSIONS.get(resource_type, ())
    if integration_type == ATLAS_PORTAL:
        if resource_type == "organization":
            return permission in ORG_ROLES
        if resource_type == "project":
            return permission in GROUP_ROLES
    return False


def permission_known(integration_type: str, permission: str) -> bool:
    """True when the integration kind can grant ``permission`` on some resource type."""
    return any(
        permission_applies(integration_type, resource_type, permission)
        for resource_type in resource_types_for(integration_type)
    )


def known_permissions(integration_type: str) -> tuple[str, ...]:
    """A readable list for error messages."""
    if integration_type == ATLAS_DATABASE:
        return tuple(dict.fromkeys(DATABASE_ROLES + COLLECTION_ROLES + CLUSTER_ROLES))
    if integration_type == ATLAS_PORTAL:
        return (*ORG_ROLES, *GROUP_ROLES)
    return ()


def nearest_permission(integration_type: str, permission: str) -> str | None:
    """The known permission closest in spelling to ``permission`` (None when none is close)."""
    known = known_permissions(integration_type)
    close = difflib.get_close_matches(permission.upper(), known, n=1, cutoff=0.6)
    if not close:
        close = difflib.get_close_matches(permission, known, n=1, cutoff=0.6)
    return close[0] if close else None
